import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { octokitFor, startGitHubFixture, type GitHubFixture } from '../support/github-fixture.js';

const REPO = 'acme/infra';
const MANY_FILES = 35;

describe('GitHub double REST API, through @octokit/rest', () => {
  let fx: GitHubFixture;
  let headSha: string;
  let cloneUrl: string;

  beforeAll(async () => {
    fx = await startGitHubFixture();
    ({ cloneUrl } = await fx.double.createRepo(REPO, { 'README.md': '# infra\n', 'network/main.tf': 'resource "terraform_data" "a" {}\n' }));
    const files: Record<string, string | null> = { 'network/main.tf': 'resource "terraform_data" "b" {}\n' };
    for (let i = 0; i < MANY_FILES; i += 1) files[`stacks/s${String(i).padStart(2, '0')}/main.tf`] = `# ${i}\n`;
    const pull = await fx.double.openPull(REPO, { branch: 'feature/many', files, title: 'Many stacks', author: 'alice' });
    headSha = pull.headSha;
  });

  afterAll(async () => {
    await fx.close();
  });

  it('answers GET /user as the bot account', async () => {
    const { data } = await fx.octokit.rest.users.getAuthenticated();
    expect(data.login).toBe('tideline-bot');
    expect(fx.double.botLogin).toBe('tideline-bot');
    expect(typeof data.id).toBe('number');
  });

  it('answers GET /repos/{owner}/{repo} with the clone URL and default branch', async () => {
    const { data } = await fx.octokit.rest.repos.get({ owner: 'acme', repo: 'infra' });
    expect(data.full_name).toBe(REPO);
    expect(data.owner.login).toBe('acme');
    expect(data.default_branch).toBe('main');
    expect(data.clone_url).toMatch(/^file:\/\/\/.*\/acme\/infra\.git$/);
    expect(data.url).toBe(`${fx.double.url}/repos/acme/infra`);
  });

  it('returns pulls/get with the state of the pull request', async () => {
    const { data } = await fx.octokit.rest.pulls.get({ owner: 'acme', repo: 'infra', pull_number: 1 });
    expect(data).toMatchObject({
      number: 1,
      state: 'open',
      merged: false,
      draft: false,
      title: 'Many stacks',
      mergeable: true,
      html_url: `${fx.double.url}/acme/infra/pull/1`,
    });
    expect(data.user?.login).toBe('alice');
    expect(data.head.sha).toBe(headSha);
    expect(data.head.ref).toBe('feature/many');
    expect(data.base.ref).toBe('main');
    expect(data.base.sha).toMatch(/^[0-9a-f]{40}$/);
    expect(data.base.sha).not.toBe(headSha);
    expect(data.head.repo?.clone_url).toMatch(/^file:\/\//);
    expect(data.base.repo.clone_url).toBe(data.head.repo?.clone_url);
    expect(data.changed_files).toBe(MANY_FILES + 1);
  });

  it('reports mergeable as set by the test, including null while "computing"', async () => {
    fx.double.setMergeable(REPO, 1, null);
    const unknown = await fx.octokit.rest.pulls.get({ owner: 'acme', repo: 'infra', pull_number: 1 });
    expect(unknown.data.mergeable).toBeNull();
    expect(unknown.data.mergeable_state).toBe('unknown');
    fx.double.setMergeable(REPO, 1, true);
  });

  it('paginates pulls/list-files with GitHub Link headers', async () => {
    const first = await fx.octokit.rest.pulls.listFiles({ owner: 'acme', repo: 'infra', pull_number: 1 });
    expect(first.data).toHaveLength(30);
    expect(first.headers.link).toContain('rel="next"');
    expect(first.headers.link).toContain('rel="last"');
    expect(first.headers.link).toContain(`<${fx.double.url}/repos/acme/infra/pulls/1/files?page=2>; rel="next"`);
    const second = await fx.octokit.rest.pulls.listFiles({ owner: 'acme', repo: 'infra', pull_number: 1, page: 2 });
    expect(second.data).toHaveLength(MANY_FILES + 1 - 30);
    expect(second.headers.link).toContain('rel="prev"');
    expect(second.headers.link).not.toContain('rel="next"');

    const all = await fx.octokit.paginate(fx.octokit.rest.pulls.listFiles, { owner: 'acme', repo: 'infra', pull_number: 1 });
    expect(all).toHaveLength(MANY_FILES + 1);
    const byName = new Map(all.map((file) => [file.filename, file]));
    expect(byName.get('network/main.tf')?.status).toBe('modified');
    expect(byName.get('stacks/s00/main.tf')).toMatchObject({ status: 'added', additions: 1, deletions: 0 });
    expect(byName.has('README.md')).toBe(false);

    const small = await fx.octokit.paginate(fx.octokit.rest.pulls.listFiles, {
      owner: 'acme',
      repo: 'infra',
      pull_number: 1,
      per_page: 7,
    });
    expect(small.map((file) => file.filename)).toEqual(all.map((file) => file.filename));
  });

  it('lists the reviews the test set', async () => {
    fx.double.setReview(REPO, 1, 'bob', 'APPROVED');
    fx.double.setReview(REPO, 1, 'carol', 'CHANGES_REQUESTED');
    const { data } = await fx.octokit.rest.pulls.listReviews({ owner: 'acme', repo: 'infra', pull_number: 1 });
    expect(data.map((review) => [review.user?.login, review.state, review.commit_id])).toEqual([
      ['bob', 'APPROVED', headSha],
      ['carol', 'CHANGES_REQUESTED', headSha],
    ]);
  });

  it('creates, updates and lists comments, attributed to the bot', async () => {
    const created = await fx.octokit.rest.issues.createComment({ owner: 'acme', repo: 'infra', issue_number: 1, body: 'plan 1' });
    expect(created.status).toBe(201);
    expect(created.data.user?.login).toBe('tideline-bot');
    expect(created.data.body).toBe('plan 1');
    expect(created.data.html_url).toBe(`${fx.double.url}/acme/infra/pull/1#issuecomment-${created.data.id}`);
    await fx.octokit.rest.issues.createComment({ owner: 'acme', repo: 'infra', issue_number: 1, body: 'plan 2' });
    await fx.octokit.rest.issues.createComment({ owner: 'acme', repo: 'infra', issue_number: 1, body: 'plan 3' });

    const updated = await fx.octokit.rest.issues.updateComment({
      owner: 'acme',
      repo: 'infra',
      comment_id: created.data.id,
      body: 'plan 1 (edited)',
    });
    expect(updated.data.body).toBe('plan 1 (edited)');

    const page = await fx.octokit.rest.issues.listComments({ owner: 'acme', repo: 'infra', issue_number: 1, per_page: 2 });
    expect(page.data).toHaveLength(2);
    expect(page.headers.link).toContain('rel="next"');
    const all = await fx.octokit.paginate(fx.octokit.rest.issues.listComments, {
      owner: 'acme',
      repo: 'infra',
      issue_number: 1,
      per_page: 2,
    });
    expect(all.map((comment) => comment.body)).toEqual(['plan 1 (edited)', 'plan 2', 'plan 3']);
    expect(fx.double.comments(REPO, 1).map((comment) => [comment.user, comment.body])).toEqual([
      ['tideline-bot', 'plan 1 (edited)'],
      ['tideline-bot', 'plan 2'],
      ['tideline-bot', 'plan 3'],
    ]);
  });

  it('keeps commit statuses, newest first, and combines them per context', async () => {
    const base = { owner: 'acme', repo: 'infra', sha: headSha };
    const created = await fx.octokit.rest.repos.createCommitStatus({ ...base, state: 'pending', context: 'tideline/plan' });
    expect(created.status).toBe(201);
    expect(created.data.creator?.login).toBe('tideline-bot');
    await fx.octokit.rest.repos.createCommitStatus({
      ...base,
      state: 'success',
      context: 'tideline/plan',
      description: '2 projects planned',
      target_url: 'http://127.0.0.1:4141/jobs/1',
    });
    await fx.octokit.rest.repos.createCommitStatus({ ...base, state: 'failure', context: 'tideline/apply' });

    const listed = await fx.octokit.rest.repos.listCommitStatusesForRef({ owner: 'acme', repo: 'infra', ref: headSha });
    expect(listed.data.map((status) => [status.context, status.state])).toEqual([
      ['tideline/apply', 'failure'],
      ['tideline/plan', 'success'],
      ['tideline/plan', 'pending'],
    ]);
    const combined = await fx.octokit.rest.repos.getCombinedStatusForRef({ owner: 'acme', repo: 'infra', ref: 'feature/many' });
    expect(combined.data.sha).toBe(headSha);
    expect(combined.data.state).toBe('failure');
    expect(combined.data.total_count).toBe(2);
    expect(fx.double.statuses(REPO, headSha)[1]).toEqual({
      context: 'tideline/plan',
      state: 'success',
      description: '2 projects planned',
      targetUrl: 'http://127.0.0.1:4141/jobs/1',
    });
  });

  it('refuses a status on a commit the repository does not have', async () => {
    const missing = fx.octokit.rest.repos.createCommitStatus({ owner: 'acme', repo: 'infra', sha: 'f'.repeat(40), state: 'success' });
    await expect(missing).rejects.toMatchObject({ status: 422 });
  });

  it('takes a status on a commit pushed with git, not on a tree, whatever the case of the SHA', async () => {
    // The double knows the commits it wrote; any other SHA is asked of git, as GitHub would.
    const gitDir = fileURLToPath(cloneUrl);
    const env = { ...process.env, GIT_AUTHOR_NAME: 'a', GIT_AUTHOR_EMAIL: 'a@example.com', GIT_COMMITTER_NAME: 'a', GIT_COMMITTER_EMAIL: 'a@example.com' };
    const tree = execFileSync('git', ['--git-dir', gitDir, 'rev-parse', `${headSha}^{tree}`], { encoding: 'utf8' }).trim();
    const pushed = execFileSync('git', ['--git-dir', gitDir, 'commit-tree', tree, '-p', headSha, '-m', 'pushed by hand'], { encoding: 'utf8', env }).trim();
    const created = await fx.octokit.rest.repos.createCommitStatus({ owner: 'acme', repo: 'infra', sha: pushed.toUpperCase(), state: 'success', context: 'ci' });
    expect(created.data.state).toBe('success');
    expect(fx.double.statuses(REPO, pushed).map((status) => status.context)).toEqual(['ci']);
    const onTree = fx.octokit.rest.repos.createCommitStatus({ owner: 'acme', repo: 'infra', sha: tree, state: 'success' });
    await expect(onTree).rejects.toMatchObject({ status: 422 });
  });

  it('answers collaborator permission: write by default, else as set', async () => {
    const permission = async (username: string): Promise<string> =>
      (await fx.octokit.rest.repos.getCollaboratorPermissionLevel({ owner: 'acme', repo: 'infra', username })).data.permission;
    expect(await permission('stranger')).toBe('write');
    fx.double.setPermission(REPO, 'root', 'admin');
    fx.double.setPermission(REPO, 'viewer', 'read');
    fx.double.setPermission(REPO, 'nobody', 'none');
    expect(await permission('root')).toBe('admin');
    expect(await permission('viewer')).toBe('read');
    expect(await permission('nobody')).toBe('none');
  });

  it('answers 404 for a pull request that does not exist, without calling it a violation', async () => {
    await expect(fx.octokit.rest.pulls.get({ owner: 'acme', repo: 'infra', pull_number: 99 })).rejects.toMatchObject({ status: 404 });
    await expect(fx.octokit.rest.repos.get({ owner: 'acme', repo: 'nope' })).rejects.toMatchObject({ status: 404 });
  });

  it('sent no request that GitHub would refuse in all of the above', () => {
    expect(fx.double.violations).toEqual([]);
    expect(fx.double.unimplemented).toEqual([]);
  });

  describe('protocol checks', () => {
    it('refuses and records a path that is not a GitHub operation', async () => {
      const before = fx.double.violations.length;
      await expect(fx.octokit.request('GET /repos/{owner}/{repo}/pullz/{n}', { owner: 'a', repo: 'b', n: 1 })).rejects.toMatchObject({
        status: 404,
      });
      const recorded = fx.double.violations.splice(before);
      expect(recorded).toHaveLength(1);
      expect(recorded[0]).toContain('GET /repos/a/b/pullz/1');
    });

    it('refuses and records create-comment without its required body', async () => {
      const before = fx.double.violations.length;
      const request = fx.octokit.request('POST /repos/{owner}/{repo}/issues/{issue_number}/comments', {
        owner: 'acme',
        repo: 'infra',
        issue_number: 1,
        bodyy: 'typo',
      } as never);
      await expect(request).rejects.toMatchObject({ status: 422 });
      const recorded = fx.double.violations.splice(before);
      expect(recorded).toHaveLength(1);
      expect(recorded[0]).toContain('issues/create-comment');
      expect(recorded[0]).toContain("required property 'body'");
      expect(fx.double.comments(REPO, 1).map((comment) => comment.body)).not.toContain('typo');
    });

    it.each([
      ['an enum value GitHub does not know', 'POST /repos/acme/infra/statuses/' + 'a'.repeat(40), { state: 'passed' }, 'allowed values'],
      ['a query parameter the operation does not declare', 'GET /repos/acme/infra/pulls/1?verbose=true', undefined, 'verbose'],
      ['a non-integer pull number', 'GET /repos/acme/infra/pulls/one', undefined, 'pull_number'],
      ['a bad enum in the query', 'GET /repos/acme/infra/pulls?state=merged', undefined, 'state'],
    ])('refuses and records %s', async (_name, route, body, fragment) => {
      const before = fx.double.violations.length;
      const [method, path] = route.split(' ') as [string, string];
      const response = await fetch(`${fx.double.url}${path}`, {
        method,
        headers: { authorization: `token ${fx.double.token}`, 'content-type': 'application/json' },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      expect(response.status).toBe(422);
      expect(((await response.json()) as { message: string }).message).toContain(fragment);
      const recorded = fx.double.violations.splice(before);
      expect(recorded).toHaveLength(1);
      expect(recorded[0]).toContain(fragment);
    });

    it('answers 401 Bad credentials for a wrong or missing token', async () => {
      const wrong = octokitFor(fx.double.url, 'ghp_wrong');
      await expect(wrong.rest.users.getAuthenticated()).rejects.toMatchObject({ status: 401, message: expect.stringContaining('Bad credentials') });
      const anonymous = await fetch(`${fx.double.url}/user`);
      expect(anonymous.status).toBe(401);
      const bearer = await fetch(`${fx.double.url}/user`, { headers: { authorization: `Bearer ${fx.double.token}` } });
      expect(bearer.status).toBe(200);
    });

    it('answers 501 and records a real GitHub operation it does not implement', async () => {
      const before = fx.double.unimplemented.length;
      const request = fx.octokit.rest.issues.addLabels({ owner: 'acme', repo: 'infra', issue_number: 1, labels: ['x'], request: { retries: 0 } });
      await expect(request).rejects.toMatchObject({ status: 501 });
      const recorded = fx.double.unimplemented.splice(before);
      expect(recorded).toEqual(['POST /repos/acme/infra/issues/1/labels (issues/add-labels)']);
      expect(fx.double.violations).toEqual([]);
    });

    it('answers the next requests of an operation with the error failNext queued, then runs it again', async () => {
      const secondary = 'You have exceeded a secondary rate limit. Please wait a few minutes before you try again.';
      fx.double.failNext('issues/create-comment', { status: 403, message: secondary, headers: { 'retry-after': '60' }, times: 2 });
      const post = (body: string) => fx.octokit.rest.issues.createComment({ owner: 'acme', repo: 'infra', issue_number: 1, body, request: { retries: 0 } });
      const before = fx.double.comments(REPO, 1).length;
      await expect(post('first')).rejects.toMatchObject({ status: 403, message: expect.stringContaining('secondary rate limit'), response: { headers: { 'retry-after': '60' } } });
      // Other operations are untouched while the failure waits for its own.
      await expect(fx.octokit.rest.pulls.get({ owner: 'acme', repo: 'infra', pull_number: 1 })).resolves.toMatchObject({ status: 200 });
      await expect(post('second')).rejects.toMatchObject({ status: 403 });
      await expect(post('third')).resolves.toMatchObject({ status: 201 });
      expect(fx.double.comments(REPO, 1).slice(before).map((c) => c.body)).toEqual(['third']);
      expect(fx.double.violations).toEqual([]);
    });

    it('holds the matching request holdNext asked for until it is released, and never runs one it drops', async () => {
      const post = (body: string) => fx.octokit.rest.issues.createComment({ owner: 'acme', repo: 'infra', issue_number: 1, body, request: { retries: 0 } });
      const bodies = (): string[] => fx.double.comments(REPO, 1).map((c) => c.body);
      const isHeld = (text: string) => (body: unknown) => typeof body === 'object' && body !== null && (body as { body?: unknown }).body === text;
      const first = fx.double.holdNext('issues/create-comment', isHeld('held'));
      const held = post('held');
      await first.arrived;
      // Another comment passes the hold that waits for its own.
      await expect(post('passes')).resolves.toMatchObject({ status: 201 });
      expect(bodies()).toContain('passes');
      expect(bodies()).not.toContain('held');
      first.release();
      await expect(held).resolves.toMatchObject({ status: 201 });
      expect(bodies()).toContain('held');

      const second = fx.double.holdNext('issues/create-comment', isHeld('dropped'));
      const controller = new AbortController();
      const dropped = fx.octokit.rest.issues.createComment({ owner: 'acme', repo: 'infra', issue_number: 1, body: 'dropped', request: { retries: 0, signal: controller.signal } });
      await second.arrived;
      second.drop();
      // The client, given no answer, gives up (as a killed server would never hear one).
      controller.abort();
      await expect(dropped).rejects.toThrow();
      await expect(post('after')).resolves.toMatchObject({ status: 201 });
      expect(bodies()).not.toContain('dropped');
      expect(fx.double.violations).toEqual([]);
    });

    it('records a failNext status that GitHub does not document for the operation', async () => {
      const before = fx.double.violations.length;
      fx.double.failNext('pulls/get', { status: 418, message: 'I am a teapot' });
      await expect(fx.octokit.rest.pulls.get({ owner: 'acme', repo: 'infra', pull_number: 1, request: { retries: 0 } })).rejects.toMatchObject({ status: 418 });
      expect(fx.double.violations.splice(before)).toEqual(['GET /repos/acme/infra/pulls/1 (pulls/get): failNext asked for 418, which GitHub does not document for it']);
    });

    it('refuses and records a comment longer than GitHub accepts', async () => {
      const before = fx.double.violations.length;
      const body = 'x'.repeat(65_537);
      const request = fx.octokit.rest.issues.createComment({ owner: 'acme', repo: 'infra', issue_number: 1, body });
      await expect(request).rejects.toMatchObject({ status: 422 });
      expect(fx.double.violations.splice(before)).toHaveLength(1);
    });
  });
});
