// Working trees of pull requests, on real git: prefetch before the head SHA is known, then a
// checkout that needs no second fetch; a later checkout fetches into the same tree. Trees are
// worktrees of one object cache per repository; trees of the older layout keep working.

import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkoutPull, containsBase, prefetchPull, prepareCheckout, pullDir, removePullCheckouts, tidyCache } from '../../server/workspace/checkout.js';
import { cacheDir, localGit, remoteGit, repairCaches, tokenFor, type GitContext } from '../../server/workspace/git.js';
import { CacheLocks } from '../../server/workspace/cache-lock.js';
import { SecretMasker } from '../../runners/secrets.js';
import { gitOrigin } from '../support/git-origin.js';

const { origin, first, ctx, git, commit } = gitOrigin('tideline-checkout-');
git(origin, 'update-ref', 'refs/pull/7/head', first);
const req = { owner: 'acme', name: 'infra', cloneUrl: `file://${origin}`, pull: 7, workspace: 'default' };

describe('pull request working trees', () => {
  it('checks out a prefetched head without fetching again', async () => {
    await prefetchPull(ctx, req);
    // With the origin gone, only a checkout that needs no fetch can succeed.
    renameSync(origin, `${origin}-away`);
    try {
      const tree = await checkoutPull(ctx, { ...req, headSha: first });
      expect(git(tree, 'rev-parse', 'HEAD')).toBe(first);
    } finally {
      renameSync(`${origin}-away`, origin);
    }
  });

  it('fetches a new head into the same tree and drops generated files, keeping what init made', async () => {
    const tree = await checkoutPull(ctx, { ...req, headSha: first });
    writeFileSync(join(tree, 'generated.txt'), 'x');
    mkdirSync(join(tree, '.terraform'), { recursive: true });
    // The lock file init writes when the repository commits none: a later plan needs it.
    writeFileSync(join(tree, '.terraform.lock.hcl'), '# written by terraform init\n');
    git(origin, 'checkout', '-q', '-b', 'pr');
    const second = commit(origin, 'main.tf', '# two\n');
    git(origin, 'update-ref', 'refs/pull/7/head', second);
    const again = await checkoutPull(ctx, { ...req, headSha: second });
    expect(again).toBe(tree);
    expect(git(tree, 'rev-parse', 'HEAD')).toBe(second);
    expect(existsSync(join(tree, 'generated.txt'))).toBe(false);
    expect(existsSync(join(tree, '.terraform'))).toBe(true);
    expect(existsSync(join(tree, '.terraform.lock.hcl'))).toBe(true);
    rmSync(join(tree, '.terraform.lock.hcl')); // the later tests expect a clean status
  });

  it('puts back a tracked file that the last run changed when planning the same head again', async () => {
    const head = git(origin, 'rev-parse', 'refs/pull/7/head');
    const tree = await checkoutPull(ctx, { ...req, headSha: head });
    const committed = readFileSync(join(tree, 'main.tf'), 'utf8');
    // A workflow step (terraform fmt, a generator) rewrote a committed file in the last run.
    writeFileSync(join(tree, 'main.tf'), 'resource "terraform_data" "edited" {}\n');
    // apply runs where its plan ran: the tree is left as it is.
    await checkoutPull(ctx, { ...req, headSha: head }, { reuse: true });
    expect(readFileSync(join(tree, 'main.tf'), 'utf8')).not.toBe(committed);
    // A plan is of the commit, not of what the last run left.
    expect(await checkoutPull(ctx, { ...req, headSha: head })).toBe(tree);
    expect(readFileSync(join(tree, 'main.tf'), 'utf8')).toBe(committed);
    expect(git(tree, 'status', '--porcelain')).toBe('');
    expect(git(tree, 'rev-parse', 'HEAD')).toBe(head);
  });

  it('prepares a known tree beside the GitHub call: reset where it is, then nothing left at the head', async () => {
    const head = git(origin, 'rev-parse', 'refs/pull/7/head');
    const tree = await checkoutPull(ctx, { ...req, headSha: head });
    writeFileSync(join(tree, 'main.tf'), 'resource "terraform_data" "edited" {}\n');
    writeFileSync(join(tree, 'left-over.txt'), 'x');
    const seen: string[] = [];
    const counted: GitContext = { ...ctx, onRequest: (request) => seen.push(request) };
    expect(await prepareCheckout(counted, req)).toBe(head);
    expect(git(tree, 'status', '--porcelain')).toBe('');
    expect(seen).toEqual(['checkout']);
    // GitHub names the same head: the checkout runs no git at all.
    expect(await checkoutPull(counted, { ...req, headSha: head }, { resetAt: head })).toBe(tree);
    expect(seen).toEqual(['checkout']);
  });

  it('prepares a tree whose pull request moved on, and the checkout then fetches the new head', async () => {
    const old = git(origin, 'rev-parse', 'refs/pull/7/head');
    const moved = commit(origin, 'moved.tf', '# moved\n');
    git(origin, 'update-ref', 'refs/pull/7/head', moved);
    const seen: string[] = [];
    const counted: GitContext = { ...ctx, onRequest: (request) => seen.push(request) };
    const resetAt = await prepareCheckout(counted, req);
    expect(resetAt).toBe(old);
    const tree = await checkoutPull(counted, { ...req, headSha: moved }, { resetAt });
    expect(git(tree, 'rev-parse', 'HEAD')).toBe(moved);
    expect(readFileSync(join(tree, 'moved.tf'), 'utf8')).toBe('# moved\n');
    expect(seen).toEqual(['checkout', 'fetch', 'checkout']);
  });

  it('prepares a pull request without a tree by fetching its head', async () => {
    git(origin, 'update-ref', 'refs/pull/12/head', first);
    expect(await prepareCheckout(ctx, { ...req, pull: 12 })).toBeNull();
    expect(git(cacheDir(ctx, 'acme', 'infra'), 'rev-parse', 'refs/tideline/pull/12')).toBe(first);
    expect(existsSync(join(pullDir(ctx, 'acme', 'infra', 12), 'default'))).toBe(false);
  });

  it('makes every tree of the repository a worktree of one cache, so a new pull fetches only what is new', async () => {
    git(origin, 'checkout', '-q', '-b', 'other', first);
    const third = commit(origin, 'other.tf', '# other\n');
    git(origin, 'update-ref', 'refs/pull/8/head', third);
    const tree = await checkoutPull(ctx, { ...req, pull: 8, headSha: third });
    const cache = cacheDir(ctx, 'acme', 'infra');
    expect(readFileSync(join(tree, '.git'), 'utf8')).toContain(join(cache, 'worktrees'));
    expect(git(tree, 'rev-parse', 'HEAD')).toBe(third);
    // The first pull's commit came with its fetch; the second fetch did not bring it again.
    expect(git(cache, 'cat-file', '-t', first)).toBe('commit');
    expect(git(cache, 'rev-parse', 'refs/tideline/pull/8')).toBe(third);
  });

  it('makes a tree deleted by hand again, and forgets a released pull in the cache', async () => {
    const head = git(origin, 'rev-parse', 'refs/pull/8/head');
    rmSync(pullDir(ctx, 'acme', 'infra', 8), { recursive: true, force: true });
    const tree = await checkoutPull(ctx, { ...req, pull: 8, headSha: head });
    expect(git(tree, 'rev-parse', 'HEAD')).toBe(head);
    const cache = cacheDir(ctx, 'acme', 'infra');
    await removePullCheckouts(ctx, 'acme', 'infra', 8);
    await tidyCache(ctx, 'acme', 'infra', 8);
    expect(git(cache, 'for-each-ref', '--format=%(refname)')).not.toContain('refs/tideline/pull/8');
    expect(git(cache, 'worktree', 'list', '--porcelain')).not.toContain(tree);
  });

  it('keeps fetching into a tree of the older layout, a repository of its own', async () => {
    const tree = join(pullDir(ctx, 'acme', 'infra', 9), 'default');
    mkdirSync(tree, { recursive: true });
    git(tree, 'init', '-q');
    git(origin, 'update-ref', 'refs/pull/9/head', first);
    expect(await checkoutPull(ctx, { ...req, pull: 9, headSha: first })).toBe(tree);
    expect(git(tree, 'rev-parse', 'HEAD')).toBe(first);
    expect(git(tree, 'rev-parse', '--git-common-dir')).toBe('.git');
  });

  it('compares with the base branch in each worktree without the trees racing for one ref', async () => {
    const base = git(origin, 'rev-parse', 'main');
    const one = await checkoutPull(ctx, { ...req, headSha: git(origin, 'rev-parse', 'refs/pull/7/head') });
    git(origin, 'update-ref', 'refs/pull/10/head', first);
    const other = await checkoutPull(ctx, { ...req, pull: 10, headSha: first });
    const answers = await Promise.all([
      containsBase(ctx, one, req.cloneUrl, 'main', git(one, 'rev-parse', 'HEAD')),
      containsBase(ctx, other, req.cloneUrl, 'main', first),
    ]);
    expect(answers).toEqual([{ contains: true, baseTip: base }, { contains: true, baseTip: base }]);
    expect(git(one, 'rev-parse', 'refs/worktree/base/main')).toBe(base);
  });

  it('checks out many pull requests at once into one cache', async () => {
    const pulls = [21, 22, 23, 24, 25, 26];
    const heads = new Map<number, string>();
    for (const pull of pulls) {
      git(origin, 'checkout', '-q', '-B', `many-${pull}`, first);
      heads.set(pull, commit(origin, `many-${pull}.tf`, `# ${pull}\n`));
      git(origin, 'update-ref', `refs/pull/${pull}/head`, heads.get(pull) ?? '');
    }
    const trees = await Promise.all(pulls.map(async (pull) => {
      await prefetchPull(ctx, { ...req, pull });
      return checkoutPull(ctx, { ...req, pull, headSha: heads.get(pull) ?? '' });
    }));
    for (const [i, pull] of pulls.entries()) {
      const tree = trees[i] ?? '';
      expect(git(tree, 'rev-parse', 'HEAD')).toBe(heads.get(pull));
      expect(existsSync(join(tree, `many-${pull}.tf`))).toBe(true);
    }
    await Promise.all(pulls.map(async (pull) => {
      await removePullCheckouts(ctx, 'acme', 'infra', pull);
      await tidyCache(ctx, 'acme', 'infra', pull);
    }));
    expect(git(cacheDir(ctx, 'acme', 'infra'), 'for-each-ref', '--format=%(refname)', 'refs/tideline/pull/')).not.toMatch(/pull\/2[1-6]$/m);
  });

  it('tells the context how long each fetch, worktree add and checkout took, and which failed', async () => {
    const seen: string[] = [];
    const timed: GitContext = { ...ctx, onRequest: (request, result, seconds) => seen.push(`${request} ${result} ${seconds >= 0 && seconds < 60}`) };
    git(origin, 'update-ref', 'refs/pull/30/head', first);
    await checkoutPull(timed, { ...req, pull: 30, headSha: first });
    expect(seen).toEqual(['fetch succeeded true', 'worktree_add succeeded true']);
    seen.length = 0;
    await expect(checkoutPull(timed, { ...req, pull: 31, headSha: first })).rejects.toThrow(/refs\/pull\/31\/head/);
    expect(seen).toEqual(['fetch failed true']);
  });

  it('repairs a cache that a killed worktree add left unfetchable', async () => {
    git(origin, 'update-ref', 'refs/pull/40/head', first);
    const tree = await checkoutPull(ctx, { ...req, pull: 40, headSha: first });
    // What `git worktree add` leaves when killed half-way: the tree's HEAD is git's placeholder.
    const gitDir = readFileSync(join(tree, '.git'), 'utf8').replace(/^gitdir: /, '').trim();
    writeFileSync(join(gitDir, 'HEAD'), `${'0'.repeat(40)}\n`);
    git(origin, 'update-ref', 'refs/pull/41/head', first);
    await expect(prefetchPull(ctx, { ...req, pull: 41 })).rejects.toThrow(/bad object/);
    expect(await repairCaches(ctx.root)).toEqual([tree]);
    expect(existsSync(tree)).toBe(false);
    await prefetchPull(ctx, { ...req, pull: 41 });
    expect(git(await checkoutPull(ctx, { ...req, pull: 40, headSha: first }), 'rev-parse', 'HEAD')).toBe(first);
    expect(await repairCaches(ctx.root)).toEqual([]);
  });

  it.each([
    ['https://github.com/acme/infra.git', 'github.com', 'tok'],
    ['https://ghe.corp/acme/infra.git', 'github.com', null],
    ['http://github.com/acme/infra.git', 'github.com', null],
    ['file:///srv/git/infra.git', 'github.com', null],
  ])('sends the token for %s (host %s): %s', (url, host, expected) => {
    expect(tokenFor({ token: 'tok', githubHost: host }, url)).toBe(expected);
  });

  it('hands git the token as a header in its environment, never in its arguments', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tideline-git-token-'));
    try {
      const ctx = { root: dir, baseEnv: { PATH: process.env['PATH'] ?? '', HOME: dir }, masker: new SecretMasker(), token: 'ghs_tokenvalue', githubHost: 'github.com', locks: new CacheLocks() };
      const header = `Authorization: Basic ${Buffer.from('x-access-token:ghs_tokenvalue').toString('base64')}`;
      // The real git reads it as configuration ...
      expect((await remoteGit(ctx, dir, 'https://github.com/acme/infra.git', ['config', '--get', 'http.extraHeader'])).trim()).toBe(header);
      // ... for the GitHub host only, and never for a command that stays local.
      await expect(remoteGit(ctx, dir, 'https://gitlab.com/acme/infra.git', ['config', '--get', 'http.extraHeader'])).rejects.toThrow(/exit code 1/);
      await expect(localGit(ctx, dir, ['config', '--get', 'http.extraHeader'])).rejects.toThrow(/exit code 1/);
      // ... and a git that logs its command line never sees it there.
      const bin = join(dir, 'bin');
      mkdirSync(bin);
      writeFileSync(join(bin, 'git'), `#!/bin/sh\necho "$*" >> ${join(dir, 'argv.log')}\n`, { mode: 0o755 });
      await remoteGit({ ...ctx, baseEnv: { ...ctx.baseEnv, PATH: `${bin}:${ctx.baseEnv.PATH}` } }, dir, 'https://github.com/acme/infra.git', ['fetch', 'origin']);
      const argv = readFileSync(join(dir, 'argv.log'), 'utf8');
      expect(argv).toContain('fetch origin');
      expect(argv).not.toContain('Authorization');
      expect(argv).not.toContain(Buffer.from('x-access-token:ghs_tokenvalue').toString('base64'));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
