// A moved file, as GitHub's pulls/list-files shows it: one `renamed` entry naming the old path.
// The server's forge then counts both paths as changed (a moved project plans where it went,
// and its old directory's lock is not left behind as "unchanged").

import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createOctokitForge } from '../../server/github/octokit-forge.js';
import { startGitHubFixture, type GitHubFixture } from '../support/github-fixture.js';

const REPO = 'acme/moves';
const MODULE = 'resource "terraform_data" "a" {\n  input = "one"\n}\n';

describe('renames in the GitHub double', () => {
  let fx: GitHubFixture;
  let pull: number;

  beforeAll(async () => {
    fx = await startGitHubFixture();
    await fx.double.createRepo(REPO, { 'old/main.tf': MODULE, 'keep.txt': 'k\n' });
    pull = (await fx.double.openPull(REPO, { branch: 'move', files: { 'old/main.tf': null, 'new/main.tf': MODULE, 'keep.txt': 'k2\n' } })).number;
  });

  afterAll(async () => {
    await fx.close();
  });

  it('lists a moved file once, as renamed, with previous_filename', async () => {
    const { data } = await fx.octokit.rest.pulls.listFiles({ owner: 'acme', repo: 'moves', pull_number: pull });
    expect(data.map((f) => [f.filename, f.status, f.previous_filename])).toEqual([
      ['keep.txt', 'modified', undefined],
      ['new/main.tf', 'renamed', 'old/main.tf'],
    ]);
    expect(data.find((f) => f.status === 'renamed')).toMatchObject({ additions: 0, deletions: 0, changes: 0 });
    expect(fx.double.violations).toEqual([]);
  });

  it('has the forge count both sides of the rename as changed', async () => {
    const forge = createOctokitForge({ apiUrl: fx.double.url, auth: { kind: 'token', token: fx.double.token }, log: pino({ level: 'silent' }), retries: 0, throttle: false });
    const files = await forge.listPullFiles({ owner: 'acme', name: 'moves' }, pull);
    expect(files.paths.sort()).toEqual(['keep.txt', 'new/main.tf', 'old/main.tf']);
  });
});
