// Two restarts in a row: the first start queued a notice for a job the crash stopped (with the
// pending status that job left), and the process died again while that notice was being
// posted. The start after that still tells the pull request, once, and settles the status.

import { describe, expect, it } from 'vitest';
import { restartable } from '../support/restartable.js';

const REPO = 'acme/twice';

describe('a notice whose posting a second crash stopped', () => {
  const env = restartable('tideline-twice-');

  it('is posted at the next start, and the status it carries is settled', async () => {
    const d = await env.double();
    await d.createRepo(REPO, { 'README.md': 'hi\n' });
    const pr = await d.openPull(REPO, { branch: 'docs', files: { 'README.md': 'hello\n' } });
    // The status the first crash left pending.
    const res = await fetch(`${d.url}/repos/${REPO}/statuses/${pr.headSha}`, {
      method: 'POST',
      headers: { authorization: `token ${d.token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ state: 'pending', context: 'tideline/apply', description: 'Applying…' }),
    });
    expect(res.status).toBe(201);
    await (await env.start()).close();

    // What the second crash left: the notice job running, nothing posted yet.
    const { openDb } = await import('../../server/store/db.js');
    const db = openDb({ dataDir: env.dataDir });
    const repo = { owner: 'acme', name: 'twice', fullName: REPO, cloneUrl: '', defaultBranch: 'main' };
    const body = ':warning: **Apply Interrupted**: test notice\n\n<!-- tideline:interrupted -->';
    const settle = [{ sha: pr.headSha, context: 'tideline/apply', description: 'apply interrupted: the Tideline server stopped while it ran. Plan again.' }];
    db.prepare(
      `INSERT INTO jobs (type, repo, pull, serial_key, payload, state, created_at, started_at) VALUES ('reply', ?, ?, ?, ?, 'running', '2026-01-01T00:00:00Z', '2026-01-01T00:00:01Z')`,
    ).run(REPO, pr.number, `${REPO}#${pr.number}`, JSON.stringify({ repo, pull: pr.number, body, settle }));
    // And a long reply cut short after its first of two parts.
    const long = `${'line of a long reply\n'.repeat(4000)}<!-- tideline:plan -->`;
    db.prepare(
      `INSERT INTO jobs (type, repo, pull, serial_key, payload, state, created_at, started_at, parts_posted) VALUES ('reply', ?, ?, ?, ?, 'running', '2026-01-01T00:00:02Z', '2026-01-01T00:00:03Z', 1)`,
    ).run(REPO, pr.number, `${REPO}#${pr.number}`, JSON.stringify({ repo, pull: pr.number, body: long }));
    db.close();

    let server = await env.start();
    await d.waitFor('the notice', () => d.comments(REPO, pr.number).find((c) => c.body === body));
    await d.waitFor('the rest of the long reply', () => d.comments(REPO, pr.number).find((c) => c.body.includes('part 2 of 2')));
    expect(d.comments(REPO, pr.number).filter((c) => c.body.includes('line of a long reply'))).toHaveLength(1);
    await server.server.pool.idle();
    expect(d.statuses(REPO, pr.headSha)[0]).toMatchObject({ context: 'tideline/apply', state: 'error' });

    // Told once: another restart posts nothing more.
    server = await env.start();
    await server.server.pool.idle();
    expect(d.comments(REPO, pr.number).filter((c) => c.body === body)).toHaveLength(1);
    expect(d.violations).toEqual([]);
  });
});
