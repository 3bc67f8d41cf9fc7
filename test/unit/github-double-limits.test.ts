// Limits GitHub enforces that the double enforces too, and how the server's forge meets them.

import { Octokit } from '@octokit/rest';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createOctokitForge } from '../../server/github/octokit-forge.js';
import type { Forge } from '../../server/github/forge.js';
import { startGitHubFixture, type GitHubFixture } from '../support/github-fixture.js';

const REPO = 'acme/limits';
const ref = { owner: 'acme', name: 'limits' };
const MANY = 3_001;

describe('GitHub limits in the double', () => {
  let fx: GitHubFixture;
  let forge: Forge;
  let bigPull: number;
  let smallPull: number;

  beforeAll(async () => {
    fx = await startGitHubFixture();
    await fx.double.createRepo(REPO, { 'README.md': '# limits\n' });
    const files: Record<string, string> = {};
    for (let i = 0; i < MANY; i += 1) files[`f/${String(i).padStart(4, '0')}.txt`] = `${i}\n`;
    bigPull = (await fx.double.openPull(REPO, { branch: 'big', files })).number;
    smallPull = (await fx.double.openPull(REPO, { branch: 'small', files: { 'a.tf': '\n' } })).number;
    forge = createOctokitForge({ apiUrl: fx.double.url, auth: { kind: 'token', token: fx.double.token }, log: pino({ level: 'silent' }), retries: 0, throttle: false });
  }, 60_000);

  afterAll(async () => {
    await fx.close();
  });

  it('lists at most 3,000 files of a pull request, while changed_files counts them all', async () => {
    const listed = await fx.octokit.paginate(fx.octokit.rest.pulls.listFiles, { owner: 'acme', repo: 'limits', pull_number: bigPull, per_page: 100 });
    expect(listed).toHaveLength(3_000);
    const { data } = await fx.octokit.rest.pulls.get({ owner: 'acme', repo: 'limits', pull_number: bigPull });
    expect(data.changed_files).toBe(MANY);
  });

  it('has the forge say when GitHub may have left files off the list', async () => {
    const big = await forge.listPullFiles(ref, bigPull);
    expect(big.paths).toHaveLength(3_000);
    expect(big.complete).toBe(false);
    expect(await forge.listPullFiles(ref, smallPull)).toEqual({ paths: ['a.tf'], complete: true });
  });

  it('refuses a status description over 140 characters, as GitHub does, and the forge keeps within it', async () => {
    const sha = fx.double.headSha(REPO, smallPull);
    const long = 'x'.repeat(141);
    await expect(fx.octokit.rest.repos.createCommitStatus({ owner: 'acme', repo: 'limits', sha, state: 'success', context: 'long', description: long })).rejects.toMatchObject({ status: 422 });
    expect(fx.double.violations.splice(0)).toEqual([expect.stringContaining('description is too long (maximum is 140 characters)')]);
    await forge.setStatus(ref, sha, { context: 'long', state: 'success', description: 'é'.repeat(300) });
    expect(fx.double.statuses(REPO, sha)[0]?.description).toBe('é'.repeat(140));
    expect(fx.double.violations).toEqual([]);
  });

  it('refuses a status whose target_url is not http(s), as GitHub does', async () => {
    const sha = fx.double.headSha(REPO, smallPull);
    const create = (targetUrl: string): Promise<unknown> => fx.octokit.rest.repos.createCommitStatus({ owner: 'acme', repo: 'limits', sha, state: 'success', context: 'link', target_url: targetUrl });
    await expect(create('tideline.example.com/jobs/1')).rejects.toMatchObject({ status: 422, response: { data: { errors: [{ field: 'target_url', message: 'target_url must use http(s) scheme' }] } } });
    expect(fx.double.violations.splice(0)).toHaveLength(1);
    await create('https://tideline.example.com/jobs/1');
    expect(fx.double.violations).toEqual([]);
  });

  it('cuts a long status description between characters, never inside a surrogate pair', async () => {
    const sha = fx.double.headSha(REPO, smallPull);
    await forge.setStatus(ref, sha, { context: 'emoji', state: 'success', description: `${'a'.repeat(139)}🌊🌊` });
    expect(fx.double.violations).toEqual([]);
    expect(fx.double.statuses(REPO, sha)[0]?.description).toBe(`${'a'.repeat(139)}🌊`);
  });

  it("refuses the 1,001st status of one commit and context, whatever the context's case", async () => {
    const sha = fx.double.headSha(REPO, bigPull);
    // Without the fixture's write pacing: a thousand writes at its second apiece would take 17 minutes.
    const unpaced = new Octokit({ auth: fx.double.token, baseUrl: fx.double.url });
    const create = (context: string): Promise<unknown> => unpaced.rest.repos.createCommitStatus({ owner: 'acme', repo: 'limits', sha, state: 'pending', context });
    for (let i = 0; i < 1_000; i += 1) await create(i % 2 === 0 ? 'ci/full' : 'CI/Full');
    await expect(create('ci/FULL')).rejects.toMatchObject({ status: 422, response: { data: { errors: [{ message: 'This SHA and context has reached the maximum number of statuses.' }] } } });
    expect(fx.double.violations.splice(0)).toHaveLength(1);
    // Another context of the same commit is counted apart.
    await create('ci/other');
    expect(fx.double.violations).toEqual([]);
  }, 60_000);
});

