import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGitHubFixture, type GitHubFixture } from '../support/github-fixture.js';

const REPO = 'acme/merging';

describe('GitHub double: merging a pull request through the REST API', () => {
  let fx: GitHubFixture;

  beforeAll(async () => {
    fx = await startGitHubFixture();
    await fx.double.createRepo(REPO, { 'main.tf': '# base\n' });
  });
  afterAll(async () => {
    await fx.close();
  });

  async function status(run: () => Promise<unknown>): Promise<{ status: number; message: string }> {
    try {
      await run();
      return { status: 200, message: '' };
    } catch (err: unknown) {
      const e = err as { status?: number; response?: { data?: { message?: string } } };
      return { status: e.status ?? 0, message: e.response?.data?.message ?? '' };
    }
  }

  it('refuses a sha that is not the head (409), merges with the head (200), then refuses a closed one (405)', async () => {
    const pr = await fx.double.openPull(REPO, { branch: 'a', files: { 'main.tf': '# a\n' } });
    const merge = (sha: string) => fx.octokit.rest.pulls.merge({ owner: 'acme', repo: 'merging', pull_number: pr.number, sha, merge_method: 'merge' });
    expect(await status(() => merge('0'.repeat(40)))).toEqual({ status: 409, message: 'Head branch was modified. Review and try the merge again.' });
    expect(fx.double.pullState(REPO, pr.number)).toMatchObject({ merged: false, state: 'open' });
    const { data } = await merge(pr.headSha);
    expect(data).toMatchObject({ merged: true, message: 'Pull Request successfully merged' });
    expect(fx.double.pullState(REPO, pr.number)).toEqual({ state: 'closed', merged: true, mergeCommitSha: data.sha });
    expect(await status(() => merge(pr.headSha))).toEqual({ status: 405, message: 'Pull Request is not mergeable' });
    expect(fx.double.violations).toEqual([]);
  });

  it('refuses a pull request GitHub marks as not mergeable (405)', async () => {
    const pr = await fx.double.openPull(REPO, { branch: 'b', files: { 'main.tf': '# b\n' } });
    fx.double.setMergeable(REPO, pr.number, false);
    const result = await status(() => fx.octokit.rest.pulls.merge({ owner: 'acme', repo: 'merging', pull_number: pr.number }));
    expect(result).toEqual({ status: 405, message: 'Pull Request is not mergeable' });
  });

  it('records a violation for a merge method it does not implement', async () => {
    const pr = await fx.double.openPull(REPO, { branch: 'c', files: { 'main.tf': '# c\n' } });
    await status(() => fx.octokit.rest.pulls.merge({ owner: 'acme', repo: 'merging', pull_number: pr.number, merge_method: 'rebase' }));
    expect(fx.double.violations.at(-1)).toContain('merge_method rebase is valid on GitHub but not implemented by the double');
    fx.double.violations.length = 0;
  });
});
