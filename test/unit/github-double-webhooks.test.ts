import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { Webhooks } from '@octokit/webhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DeliverOptions } from '../../sandbox/github/index.js';
import { runGit, startGitHubFixture, WEBHOOK_SECRET, type GitHubFixture } from '../support/github-fixture.js';

interface Received {
  headers: IncomingHttpHeaders;
  body: string;
}

interface Receiver {
  url: string;
  received: Received[];
  close(): Promise<void>;
}

/** A tiny webhook endpoint that verifies like the server will, and answers 202 or 401. */
async function startReceiver(): Promise<Receiver> {
  const webhooks = new Webhooks({ secret: WEBHOOK_SECRET });
  const received: Received[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      received.push({ headers: req.headers, body });
      const signature = req.headers['x-hub-signature-256'];
      const check = typeof signature === 'string' ? webhooks.verify(body, signature) : Promise.resolve(false);
      check.then(
        (valid) => {
          res.writeHead(valid ? 202 : 401, { 'content-type': 'text/plain' }).end(valid ? 'queued' : 'bad signature');
        },
        () => res.writeHead(500).end('verify threw'),
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/events`,
    received,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

function lastPayload(receiver: Receiver): Record<string, any> {
  const last = receiver.received.at(-1);
  if (last === undefined) throw new Error('nothing received');
  return JSON.parse(last.body) as Record<string, any>;
}

const REPO = 'acme/live';

describe('GitHub double git repositories and webhooks', () => {
  let fx: GitHubFixture;
  let receiver: Receiver;
  let cloneUrl: string;
  let firstHead: string;

  beforeAll(async () => {
    fx = await startGitHubFixture();
    receiver = await startReceiver();
    fx.double.setWebhookTarget(receiver.url);
    ({ cloneUrl } = await fx.double.createRepo(REPO, { 'app/main.tf': 'v1\n', 'docs/old.md': 'old\n' }));
    ({ headSha: firstHead } = await fx.double.openPull(REPO, {
      branch: 'change-app',
      files: { 'app/main.tf': 'v2\n', 'docs/old.md': null },
    }));
  });

  afterAll(async () => {
    await receiver.close();
    await fx.close();
  });

  it('serves real git: a clone sees main, and refs/pull/1/head is the PR head', async () => {
    const work = await mkdtemp(join(fx.tmp, 'clone-'));
    try {
      runGit(['clone', '--quiet', cloneUrl, 'repo'], work);
      const repo = join(work, 'repo');
      expect(await readFile(join(repo, 'app/main.tf'), 'utf8')).toBe('v1\n');
      runGit(['fetch', '--quiet', 'origin', 'refs/pull/1/head'], repo);
      expect(runGit(['rev-parse', 'FETCH_HEAD'], repo)).toBe(firstHead);
      expect(fx.double.headSha(REPO, 1)).toBe(firstHead);
      runGit(['checkout', '--quiet', 'FETCH_HEAD'], repo);
      expect(await readFile(join(repo, 'app/main.tf'), 'utf8')).toBe('v2\n');
      await expect(readFile(join(repo, 'docs/old.md'), 'utf8')).rejects.toThrow();
    } finally {
      await rm(work, { recursive: true, force: true });
    }
  });

  it('moves the branch and refs/pull/1/head when pushing to the PR', async () => {
    const pushed = await fx.double.pushToPull(REPO, 1, { 'app/extra.tf': 'x\n' });
    expect(pushed).not.toBe(firstHead);
    const gitDir = new URL(cloneUrl).pathname;
    expect(runGit(['rev-parse', 'refs/pull/1/head'], gitDir)).toBe(pushed);
    expect(runGit(['rev-parse', 'refs/heads/change-app'], gitDir)).toBe(pushed);
    expect(runGit(['rev-parse', `${pushed}^`], gitDir)).toBe(firstHead);
    expect(fx.double.headSha(REPO, 1)).toBe(pushed);

    const result = await fx.double.sendPullRequestEvent(REPO, 1, 'synchronize');
    expect(result.status).toBe(202);
    const payload = lastPayload(receiver);
    expect(payload['action']).toBe('synchronize');
    expect(payload['before']).toBe(firstHead);
    expect(payload['after']).toBe(pushed);
    expect(payload['pull_request'].head.sha).toBe(pushed);
  });

  it('signs deliveries so @octokit/webhooks verifies them, with GitHub headers', async () => {
    const result = await fx.double.deliver('ping', { zen: 'Keep it logically awesome.' }, { deliveryId: 'delivery-1' });
    expect(result).toMatchObject({ status: 202, body: 'queued', deliveryId: 'delivery-1' });
    expect(result.durationMs).toBeGreaterThan(0);
    const { headers, body } = receiver.received.at(-1) as Received;
    expect(body).toBe('{"zen":"Keep it logically awesome."}');
    expect(headers['x-github-event']).toBe('ping');
    expect(headers['x-github-delivery']).toBe('delivery-1');
    expect(headers['content-type']).toBe('application/json');
    expect(headers['user-agent']).toMatch(/^GitHub-Hookshot\//);
    expect(await new Webhooks({ secret: WEBHOOK_SECRET }).verify(body, String(headers['x-hub-signature-256']))).toBe(true);
  });

  it('gives every delivery a fresh UUID unless one is given', async () => {
    const a = await fx.double.deliver('ping', {});
    const b = await fx.double.deliver('ping', {});
    expect(a.deliveryId).toMatch(/^[0-9a-f-]{36}$/);
    expect(b.deliveryId).not.toBe(a.deliveryId);
  });

  it.each<[string, DeliverOptions, boolean]>([
    ['a wrong secret', { secret: 'not-the-secret' }, true],
    ['a forged signature', { signature: `sha256=${'0'.repeat(64)}` }, true],
    ['no signature at all', { signature: null }, false],
  ])('lets tests send %s, which the receiver refuses', async (_name, opts, hasHeader) => {
    const result = await fx.double.deliver('ping', { zen: 'x' }, opts);
    expect(result.status).toBe(401);
    const headers = (receiver.received.at(-1) as Received).headers;
    expect(headers['x-hub-signature-256'] !== undefined).toBe(hasHeader);
  });

  it('sends issue_comment.created on the PR, with issue.pull_request, and stores the comment', async () => {
    const result = await fx.double.sendComment(REPO, 1, 'tideline plan -d app', { user: 'dana' });
    expect(result.status).toBe(202);
    const payload = lastPayload(receiver);
    expect(payload['action']).toBe('created');
    expect(payload['issue'].number).toBe(1);
    expect(payload['issue'].pull_request).toMatchObject({
      url: `${fx.double.url}/repos/acme/live/pulls/1`,
      html_url: `${fx.double.url}/acme/live/pull/1`,
    });
    expect(payload['issue'].pull_request.diff_url).toMatch(/\.diff$/);
    expect(payload['issue'].user.login).toBe('octocat');
    expect(payload['comment']).toMatchObject({ body: 'tideline plan -d app', user: { login: 'dana' } });
    expect(payload['comment'].html_url).toBe(`${fx.double.url}/acme/live/pull/1#issuecomment-${payload['comment'].id}`);
    expect(payload['sender'].login).toBe('dana');
    expect(payload['repository']).toMatchObject({
      name: 'live',
      full_name: REPO,
      owner: { login: 'acme' },
      clone_url: cloneUrl,
      default_branch: 'main',
      private: true,
    });
    expect(payload['installation']).toBeUndefined();
    expect(JSON.stringify(payload)).not.toMatch(/Codertocat\/Hello-World|api\.github\.com/);
    expect(fx.double.comments(REPO, 1).at(-1)).toMatchObject({ id: payload['comment'].id, user: 'dana', body: 'tideline plan -d app' });
  });

  it('builds the comment payload without sending or storing it', () => {
    const before = receiver.received.length;
    const stored = fx.double.comments(REPO, 1).length;
    const payload = fx.double.commentPayload(REPO, 1, 'tideline apply') as Record<string, any>;
    expect(payload['comment'].body).toBe('tideline apply');
    expect(payload['comment'].user.login).toBe('octocat');
    expect(payload['issue'].pull_request).toBeDefined();
    expect(receiver.received.length).toBe(before);
    expect(fx.double.comments(REPO, 1)).toHaveLength(stored);
  });

  it('merges with a merge commit on main and reports pull_request.closed as merged', async () => {
    const gitDir = new URL(cloneUrl).pathname;
    const oldMain = runGit(['rev-parse', 'refs/heads/main'], gitDir);
    const head = fx.double.headSha(REPO, 1);
    const merged = await fx.double.mergePull(REPO, 1);
    expect(runGit(['rev-parse', 'refs/heads/main'], gitDir)).toBe(merged);
    expect(runGit(['rev-list', '--parents', '-n', '1', merged], gitDir).split(' ')).toEqual([merged, oldMain, head]);
    expect(runGit(['show', `${merged}:app/main.tf`], gitDir)).toBe('v2');

    await fx.double.sendPullRequestEvent(REPO, 1, 'closed');
    const payload = lastPayload(receiver);
    expect(payload['action']).toBe('closed');
    expect(payload['number']).toBe(1);
    expect(payload['pull_request']).toMatchObject({ number: 1, state: 'closed', merged: true, merge_commit_sha: merged });
    expect(payload['pull_request'].head).toMatchObject({ sha: head, ref: 'change-app' });
    expect(payload['pull_request'].base.ref).toBe('main');

    const { data } = await fx.octokit.rest.pulls.get({ owner: 'acme', repo: 'live', pull_number: 1 });
    expect(data).toMatchObject({ state: 'closed', merged: true, merge_commit_sha: merged });
    const files = await fx.octokit.paginate(fx.octokit.rest.pulls.listFiles, { owner: 'acme', repo: 'live', pull_number: 1 });
    expect(files.map((file) => [file.filename, file.status]).sort()).toEqual([
      ['app/extra.tf', 'added'],
      ['app/main.tf', 'modified'],
      ['docs/old.md', 'removed'],
    ]);
  });

  it('opens, closes and reopens a second PR with pull_request events', async () => {
    const { number, headSha } = await fx.double.openPull(REPO, { branch: 'second', files: { 'b.tf': 'b\n' }, author: 'erin' });
    expect(number).toBe(2);
    await fx.double.sendPullRequestEvent(REPO, 2, 'opened');
    expect(lastPayload(receiver)['pull_request']).toMatchObject({ state: 'open', user: { login: 'erin' }, head: { sha: headSha } });
    await fx.double.closePull(REPO, 2);
    await fx.double.sendPullRequestEvent(REPO, 2, 'closed');
    expect(lastPayload(receiver)['pull_request']).toMatchObject({ state: 'closed', merged: false });
    await fx.double.sendPullRequestEvent(REPO, 2, 'reopened');
    expect(lastPayload(receiver)['pull_request']).toMatchObject({ state: 'open', merged: false });
  });

  it('waits for a condition, and names what it waited for on timeout', async () => {
    let flag: string | null = null;
    setTimeout(() => {
      flag = 'done';
    }, 60);
    await expect(fx.double.waitFor('the flag', () => flag)).resolves.toBe('done');
    await expect(fx.double.waitFor('a plan comment', () => false, 100)).rejects.toThrow(/a plan comment/);
  });

  it('looks again after a request changed its state', async () => {
    const seen = fx.double.waitFor('the reply', () => fx.double.comments(REPO, 1).find((c) => c.body === 'answered over REST'));
    await fx.octokit.rest.issues.createComment({ owner: 'acme', repo: 'live', issue_number: 1, body: 'answered over REST' });
    await expect(seen).resolves.toMatchObject({ body: 'answered over REST' });
  });

  it('refuses test mistakes loudly', async () => {
    await expect(fx.double.openPull('acme/missing', { branch: 'x', files: {} })).rejects.toThrow(/no repository acme\/missing/);
    await expect(fx.double.openPull(REPO, { branch: 'bad', files: { '../escape': 'x' } })).rejects.toThrow(/invalid file path/);
    expect(() => fx.double.headSha(REPO, 42)).toThrow(/no pull request/);
  });

  it('saw no protocol violations', () => {
    expect(fx.double.violations).toEqual([]);
    expect(fx.double.unimplemented).toEqual([]);
  });
});
