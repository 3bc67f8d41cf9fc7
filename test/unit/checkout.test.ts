// Working trees of pull requests, on real git: prefetch before the head SHA is known, then a
// checkout that needs no second fetch; a later checkout fetches into the same tree.

import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { SecretMasker } from '../../runners/secrets.js';
import { checkoutPull, prefetchPull, tokenFor, type GitContext } from '../../server/workspace/checkout.js';

const dir = mkdtempSync(join(tmpdir(), 'tideline-checkout-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const env = { PATH: process.env['PATH'] ?? '', HOME: dir, GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@t', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@t' };

function git(cwd: string, ...args: string[]): string {
  return execFileSync('git', args, { cwd, env, encoding: 'utf8' }).trim();
}

function commit(repo: string, file: string, text: string): string {
  writeFileSync(join(repo, file), text);
  git(repo, 'add', '.');
  git(repo, 'commit', '-qm', file);
  return git(repo, 'rev-parse', 'HEAD');
}

const origin = join(dir, 'origin');
git(dir, 'init', '-q', '-b', 'main', origin);
const first = commit(origin, 'main.tf', '# one\n');
git(origin, 'update-ref', 'refs/pull/7/head', first);
const ctx: GitContext = { root: join(dir, 'trees'), baseEnv: { PATH: env.PATH, HOME: dir }, masker: new SecretMasker(), token: null, githubHost: 'github.com' };
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

  it('fetches a new head into the same tree and drops generated files, keeping .terraform', async () => {
    const tree = await checkoutPull(ctx, { ...req, headSha: first });
    writeFileSync(join(tree, 'generated.txt'), 'x');
    execFileSync('mkdir', ['-p', join(tree, '.terraform')]);
    git(origin, 'checkout', '-q', '-b', 'pr');
    const second = commit(origin, 'main.tf', '# two\n');
    git(origin, 'update-ref', 'refs/pull/7/head', second);
    const again = await checkoutPull(ctx, { ...req, headSha: second });
    expect(again).toBe(tree);
    expect(git(tree, 'rev-parse', 'HEAD')).toBe(second);
    expect(existsSync(join(tree, 'generated.txt'))).toBe(false);
    expect(existsSync(join(tree, '.terraform'))).toBe(true);
  });

  it.each([
    ['https://github.com/acme/infra.git', 'github.com', 'tok'],
    ['https://ghe.corp/acme/infra.git', 'github.com', null],
    ['http://github.com/acme/infra.git', 'github.com', null],
    ['file:///srv/git/infra.git', 'github.com', null],
  ])('sends the token for %s (host %s): %s', (url, host, expected) => {
    expect(tokenFor({ token: 'tok', githubHost: host }, url)).toBe(expected);
  });
});
