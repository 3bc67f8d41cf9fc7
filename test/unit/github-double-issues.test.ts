import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createOctokitForge } from '../../server/github/octokit-forge.js';
import type { Forge } from '../../server/github/forge.js';
import { startGitHubFixture, type GitHubFixture } from '../support/github-fixture.js';

const REPO = 'acme/infra';
const ref = { owner: 'acme', name: 'infra' };

describe('GitHub double issues and labels', () => {
  let fx: GitHubFixture;
  let forge: Forge;

  beforeAll(async () => {
    fx = await startGitHubFixture();
    await fx.double.createRepo(REPO, { 'README.md': '# infra\n' });
    await fx.double.openPull(REPO, { branch: 'feature', files: { 'a.tf': '\n' } });
    forge = createOctokitForge({ apiUrl: fx.double.url, auth: { kind: 'token', token: fx.double.token }, log: pino({ level: 'silent' }), retries: 0, throttle: false });
  });

  afterAll(async () => {
    await fx.close();
  });

  it('numbers issues after pull requests, from one sequence, and creates unknown labels', async () => {
    const issue = await forge.createIssue(ref, { title: 'Drift detected: app (acme/infra)', body: 'first', labels: ['tideline-drift'] });
    expect(issue).toMatchObject({ number: 2, state: 'open', body: 'first', labels: ['tideline-drift'] });
    expect(issue.htmlUrl).toBe(`${fx.double.url}/acme/infra/issues/2`);
    expect(fx.double.labels(REPO).map((l) => l.name)).toEqual(['tideline-drift']);
    const pull = await fx.double.openPull(REPO, { branch: 'second', files: { 'b.tf': '\n' } });
    expect(pull.number).toBe(3);
  });

  it('ensureLabel creates a label once and leaves an existing one alone', async () => {
    await forge.ensureLabel(ref, { name: 'drift-x', color: 'd73a4a', description: 'made by the test' });
    await forge.ensureLabel(ref, { name: 'drift-x', color: '000000', description: 'ignored' });
    await forge.ensureLabel(ref, { name: 'TIDELINE-DRIFT', color: '000000', description: 'same label, other case' });
    const labels = fx.double.labels(REPO);
    expect(labels.filter((l) => l.name.toLowerCase() === 'drift-x')).toEqual([{ name: 'drift-x', color: 'd73a4a', description: 'made by the test' }]);
    expect(labels.filter((l) => l.name.toLowerCase() === 'tideline-drift')).toHaveLength(1);
  });

  it('refuses to create a label that exists, as GitHub does', async () => {
    const create = fx.octokit.rest.issues.createLabel({ owner: 'acme', repo: 'infra', name: 'drift-x' });
    await expect(create).rejects.toMatchObject({ status: 422 });
  });

  it('updates an issue in place, comments on it, and closes it with a reason', async () => {
    const updated = await forge.updateIssue(ref, 2, { body: 'second' });
    expect(updated).toMatchObject({ number: 2, body: 'second', state: 'open' });
    const comment = await forge.createComment(ref, 2, 'resolved');
    expect(comment.url).toBe(`${fx.double.url}/acme/infra/issues/2#issuecomment-${comment.id}`);
    const closed = await forge.updateIssue(ref, 2, { state: 'closed', stateReason: 'completed' });
    expect(closed.state).toBe('closed');
    const [issue] = fx.double.issues(REPO);
    expect(issue).toMatchObject({ number: 2, state: 'closed', stateReason: 'completed', body: 'second' });
    expect(issue?.comments.map((c) => c.body)).toEqual(['resolved']);
    expect(fx.double.comments(REPO, 2).map((c) => c.body)).toEqual(['resolved']);
    const reopened = await forge.updateIssue(ref, 2, { state: 'open' });
    expect(reopened.state).toBe('open');
    expect(fx.double.issues(REPO)[0]?.stateReason).toBe('reopened');
  });

  it('lists issues by label and state, never pull requests, across pages', async () => {
    for (let i = 0; i < 3; i += 1) await forge.createIssue(ref, { title: `other ${i}`, body: '', labels: ['other'] });
    const drift = await forge.listIssues(ref, { label: 'tideline-drift', state: 'open' });
    expect(drift.map((i) => i.number)).toEqual([2]);
    expect(await forge.listIssues(ref, { label: 'tideline-drift', state: 'closed' })).toEqual([]);
    const others = await fx.octokit.paginate(fx.octokit.rest.issues.listForRepo, { owner: 'acme', repo: 'infra', labels: 'other', per_page: 2 });
    expect(others.map((i) => i.title)).toEqual(['other 2', 'other 1', 'other 0']);
    // Without a label filter GitHub lists pull requests too, marked with `pull_request`.
    const all = await fx.octokit.rest.issues.listForRepo({ owner: 'acme', repo: 'infra', state: 'all', per_page: 100 });
    expect(all.data.filter((i) => i.pull_request !== undefined).map((i) => i.number)).toEqual([3, 1]);
  });

  it('answers 404 for an issue that does not exist and for a missing label', async () => {
    await expect(forge.updateIssue(ref, 99, { body: 'x' })).rejects.toMatchObject({ status: 404 });
    await expect(fx.octokit.rest.issues.getLabel({ owner: 'acme', repo: 'infra', name: 'nope' })).rejects.toMatchObject({ status: 404 });
  });

  it('refuses an issue without a title as GitHub would', async () => {
    const before = fx.double.violations.length;
    const request = fx.octokit.request('POST /repos/{owner}/{repo}/issues', { owner: 'acme', repo: 'infra', body: 'no title' } as never);
    await expect(request).rejects.toMatchObject({ status: 422 });
    expect(fx.double.violations.splice(before).join('\n')).toContain("required property 'title'");
  });

  it('answered every request in GitHub shape and sent none GitHub would refuse', () => {
    expect(fx.double.violations).toEqual([]);
    expect(fx.double.unimplemented).toEqual([]);
  });
  it('latestStatus reads the newest status of a context from the combined status, or null', async () => {
    const sha = fx.double.headSha(REPO, 1);
    await forge.setStatus(ref, sha, { context: 'tideline/plan', state: 'pending', description: 'planning 1 project(s)…' });
    await forge.setStatus(ref, sha, { context: 'tideline/plan', state: 'success', description: '1/1 projects planned successfully.', targetUrl: 'https://tideline.example/jobs/1' });
    await forge.setStatus(ref, sha, { context: 'tideline/apply', state: 'pending', description: 'applying 1 project(s)…' });
    expect(await forge.latestStatus(ref, sha, 'tideline/plan')).toEqual({ context: 'tideline/plan', state: 'success', description: '1/1 projects planned successfully.', targetUrl: 'https://tideline.example/jobs/1' });
    expect(await forge.latestStatus(ref, sha, 'tideline/apply')).toEqual({ context: 'tideline/apply', state: 'pending', description: 'applying 1 project(s)…' });
    expect(await forge.latestStatus(ref, sha, 'tideline/drift')).toBeNull();
    expect(fx.double.violations).toEqual([]);
  });

  it('latestStatus finds its context past the first 100 of a commit other CI has given many', async () => {
    const pr = await fx.double.openPull(REPO, { branch: 'many-contexts', files: { 'ci.tf': '\n' } });
    for (let i = 0; i < 120; i++) await forge.setStatus(ref, pr.headSha, { context: `ci/check-${i}`, state: 'success', description: 'ok' });
    await forge.setStatus(ref, pr.headSha, { context: 'tideline/plan', state: 'pending', description: 'planning 1 project(s)…' });
    expect(await forge.latestStatus(ref, pr.headSha, 'tideline/plan')).toEqual({ context: 'tideline/plan', state: 'pending', description: 'planning 1 project(s)…' });
    expect(await forge.latestStatus(ref, pr.headSha, 'tideline/apply')).toBeNull();
    expect(fx.double.violations).toEqual([]);
  });
});
