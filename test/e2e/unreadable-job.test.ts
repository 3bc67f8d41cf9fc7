// A job stored in a form this version cannot read (here: a payload cut short, one of another
// shape, and a job type it does not know) does not stop the server from starting, does not
// block its pull request's queue, and is reported on the pull request once instead of being
// tried at every start.

import { describe, expect, it } from 'vitest';
import { restartable } from '../support/restartable.js';

const REPO = 'acme/poison';

describe('a job this version cannot read', () => {
  const env = restartable('tideline-poison-');

  it('is failed and reported on its pull request, and the server starts and runs the rest', async () => {
    const d = await env.double();
    await d.createRepo(REPO, { 'README.md': 'hi\n' });
    const pr = await d.openPull(REPO, { branch: 'docs', files: { 'README.md': 'hello\n' } });
    let server = await env.start();
    await d.sendComment(REPO, pr.number, 'tideline help');
    await d.waitFor('help reply', () => d.comments(REPO, pr.number).find((c) => c.body.includes('tideline:help')));
    await server.server.pool.idle();
    const db = server.server.db;
    // What an older or newer version might have left: one job running when it died, one queued
    // behind it, and a readable job after both on the same pull request.
    const insert = db.prepare(
      `INSERT INTO jobs (type, repo, pull, serial_key, payload, state, created_at, started_at) VALUES (?, ?, ?, ?, ?, ?, '2026-01-01T00:00:00Z', NULL)`,
    );
    const key = `${REPO}#${pr.number}`;
    insert.run('command', REPO, pr.number, key, '{"repo":{"owner":"acme","na', 'running');
    // Parses, but not as this version's command job: the interrupted notice would read `repo`.
    insert.run('command', REPO, pr.number, key, JSON.stringify({ repository: REPO, pull: pr.number }), 'running');
    insert.run('rebase', REPO, pr.number, key, '{}', 'queued');
    const body = 'a reply queued behind them';
    const repoInfo = { owner: 'acme', name: 'poison', fullName: REPO, cloneUrl: '', defaultBranch: 'main' };
    insert.run('reply', REPO, pr.number, key, JSON.stringify({ repo: repoInfo, pull: pr.number, body }), 'queued');
    server = await env.start();
    await d.waitFor('the queued reply', () => d.comments(REPO, pr.number).find((c) => c.body === body));
    await server.server.pool.idle();
    const notices = d.comments(REPO, pr.number).filter((c) => c.body.includes('**Job Not Run**'));
    expect(notices).toHaveLength(3);
    const states = server.server.db.prepare("SELECT type, state FROM jobs WHERE type IN ('command', 'rebase')").all();
    expect(states).toEqual([
      { type: 'command', state: 'interrupted' },
      { type: 'command', state: 'interrupted' },
      { type: 'rebase', state: 'failed' },
    ]);

    // Told once: a further restart says nothing more.
    server = await env.start();
    await server.server.pool.idle();
    expect(d.comments(REPO, pr.number).filter((c) => c.body.includes('**Job Not Run**'))).toHaveLength(3);
    expect(d.violations).toEqual([]);
  });
});
