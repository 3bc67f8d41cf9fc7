// git goes through the one door (runners/exec.ts) like every other child: a fetch that hangs
// is killed with every process it started, one that floods is stopped at the output cap, and
// shutdown stops a fetch in flight. The stand-in `git` runs the real one for everything but
// `fetch`, so the cache and worktrees around it are real.

import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkoutPull } from '../../server/workspace/checkout.js';
import { GitError, type GitContext } from '../../server/workspace/git.js';
import { parseGitVersion, requireGit } from '../../server/workspace/git-version.js';
import { SecretMasker } from '../../runners/secrets.js';
import { gitOrigin } from '../support/git-origin.js';
import { alive } from '../support/server-process.js';

const { dir, origin, first, ctx, git } = gitOrigin('tideline-git-door-');
git(origin, 'update-ref', 'refs/pull/3/head', first);
const realGit = execFileSync('sh', ['-c', 'command -v git'], { encoding: 'utf8' }).trim();

/** A `git` on PATH that misbehaves as `fetchBody` says on `fetch` and is the real git otherwise. */
function gitWhoseFetch(name: string, fetchBody: string): GitContext {
  const bin = join(dir, `bin-${name}`);
  mkdirSync(bin);
  writeFileSync(join(bin, 'git'), `#!/bin/sh\nif [ "$1" = fetch ]; then\n${fetchBody}\nfi\nexec ${realGit} "$@"\n`);
  chmodSync(join(bin, 'git'), 0o755);
  return { ...ctx, root: join(dir, `trees-${name}`), baseEnv: { ...ctx.baseEnv, PATH: `${bin}:${ctx.baseEnv['PATH'] ?? ''}` } };
}

async function waitUntilDead(pid: number): Promise<boolean> {
  for (let i = 0; i < 50 && alive(pid); i++) await new Promise((r) => setTimeout(r, 100));
  return !alive(pid);
}

const req = { owner: 'acme', name: 'infra', cloneUrl: `file://${origin}`, pull: 3, workspace: 'default', headSha: first };

describe('git through the one door', () => {
  it('kills a hung fetch and the helper it started, and says it timed out', async () => {
    const pidFile = join(dir, 'helper.pid');
    // Like git-remote-https: a helper of its own that outlives a kill of git alone.
    const hung = gitWhoseFetch('hung', `sleep 300 & echo $! > ${pidFile}\nwait\nexit 0`);
    const err = await checkoutPull({ ...hung, timeoutMs: 1_000 }, req).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(GitError);
    expect((err as Error).message).toMatch(/git fetch .* timed out after 1 s and was killed/);
    const helper = Number(readFileSync(pidFile, 'utf8'));
    expect(await waitUntilDead(helper)).toBe(true);
  });

  it('stops a fetch that floods its output at the cap', async () => {
    const flood = gitWhoseFetch('flood', 'exec yes git-output');
    const err = await checkoutPull(flood, req).catch((e: unknown) => e);
    expect((err as Error).message).toMatch(/wrote more than 16777216 bytes of output and was killed/);
  });

  it('stops a fetch in flight when the server shuts down', async () => {
    const slow = gitWhoseFetch('slow', 'exec sleep 300');
    const abort = new AbortController();
    const started = Date.now();
    const checkout = checkoutPull({ ...slow, signal: abort.signal }, req).catch((e: unknown) => e);
    setTimeout(() => abort.abort(), 300);
    const err = await checkout;
    expect((err as Error).message).toMatch(/was stopped: the server is shutting down/);
    expect(Date.now() - started).toBeLessThan(10_000);
    // The cache it was fetching into still works for the next run.
    const tree = await checkoutPull({ ...ctx, root: slow.root }, req);
    expect(git(tree, 'rev-parse', 'HEAD')).toBe(first);
  });

  it('masks a secret git prints in its error', async () => {
    const masker = new SecretMasker();
    masker.add('ghs_secretvalue123');
    const leaky = gitWhoseFetch('leaky', 'echo "fatal: could not read from https://x:ghs_secretvalue123@github.com/acme/infra" >&2\nexit 128');
    const err = await checkoutPull({ ...leaky, masker }, req).catch((e: unknown) => e);
    expect((err as Error).message).toContain('fatal: could not read from');
    expect((err as Error).message).not.toContain('ghs_secretvalue123');
  });
});

describe('the git version check at start-up', () => {
  const withGit = (name: string, script: string | null): { baseEnv: Record<string, string>; masker: SecretMasker } => {
    const bin = join(dir, `version-${name}`);
    mkdirSync(bin);
    if (script !== null) {
      writeFileSync(join(bin, 'git'), `#!/bin/sh\n${script}\n`);
      chmodSync(join(bin, 'git'), 0o755);
    }
    return { baseEnv: { PATH: bin, HOME: dir }, masker: new SecretMasker() };
  };

  it('accepts the git on this machine', async () => {
    expect(await requireGit({ baseEnv: { PATH: process.env['PATH'] ?? '' }, masker: new SecretMasker() })).toMatch(/^2\.\d+\.\d+$/);
  });

  it.each([
    ['old', 'echo "git version 2.30.9"', /git 2\.30\.9 on PATH is too old: Tideline needs git 2\.31 or newer/],
    ['missing', null, /git is not on PATH: install git 2\.31 or newer/],
    ['garbled', 'echo "hello"', /git on PATH printed "hello" for `git version`/],
    ['broken', 'echo "no" >&2; exit 3', /cannot run git: git version failed with exit code 3:\nno: install git 2\.31/],
  ])('refuses a git that is %s, saying what to install', async (name, script, message) => {
    await expect(requireGit(withGit(name, script))).rejects.toThrow(message);
  });

  it.each([
    ['git version 2.39.5', { major: 2, minor: 39, patch: 5 }],
    ['git version 2.45.1.windows.1', { major: 2, minor: 45, patch: 1 }],
    ['git version 2.50.1 (Apple Git-155)', { major: 2, minor: 50, patch: 1 }],
    ['git version 3.0', { major: 3, minor: 0, patch: 0 }],
  ])('reads %s', (text, version) => {
    expect(parseGitVersion(`${text}\n`)).toEqual(version);
  });
});

