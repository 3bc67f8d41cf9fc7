// A real git origin for the working-tree tests: a temp dir with a `main` branch, helpers to run
// git and commit in it, and a GitContext whose trees live beside it. Removed after the file.

import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from 'vitest';
import { SecretMasker } from '../../runners/secrets.js';
import { CacheLocks } from '../../server/workspace/cache-lock.js';
import type { GitContext } from '../../server/workspace/git.js';

export interface GitOrigin {
  dir: string;
  /** The origin repository (branch `main`, one commit of `main.tf`). */
  origin: string;
  /** `file://` URL of the origin, as a clone URL. */
  cloneUrl: string;
  /** The first commit of `main`. */
  first: string;
  /** Trees under `<dir>/trees`, no token, a lock registry of its own. */
  ctx: GitContext;
  /** Runs git in `cwd` with a fixed identity and no machine config; returns trimmed stdout. */
  git(cwd: string, ...args: string[]): string;
  /** Writes `file` in `repo`, commits everything, returns the new commit. */
  commit(repo: string, file: string, text: string): string;
}

export function gitOrigin(prefix: string): GitOrigin {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const env = { PATH: process.env['PATH'] ?? '', HOME: dir, GIT_CONFIG_NOSYSTEM: '1', GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@t', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@t' };
  const git = (cwd: string, ...args: string[]): string => execFileSync('git', args, { cwd, env, encoding: 'utf8' }).trim();
  const commit = (repo: string, file: string, text: string): string => {
    writeFileSync(join(repo, file), text);
    git(repo, 'add', '.');
    git(repo, 'commit', '-qm', file);
    return git(repo, 'rev-parse', 'HEAD');
  };
  const origin = join(dir, 'origin');
  git(dir, 'init', '-q', '-b', 'main', origin);
  const first = commit(origin, 'main.tf', '# one\n');
  const ctx: GitContext = { root: join(dir, 'trees'), baseEnv: { PATH: env.PATH, HOME: dir }, masker: new SecretMasker(), token: null, githubHost: 'github.com', locks: new CacheLocks() };
  return { dir, origin, cloneUrl: `file://${origin}`, first, ctx, git, commit };
}
