// What every working tree shares: how git is started (through runners/exec, the one door to
// child processes; an allow-listed environment, the token only for the GitHub host), and the
// object cache of each repository,
// `<root>/<owner>/<name>/_cache.git`, a bare repository that pull request and branch trees are
// worktrees of. Everything is fetched into the cache once; a tree is one `git worktree add`.

import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, rename, rm } from 'node:fs/promises';
import { basename, dirname, isAbsolute, join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { exec } from '../../runners/exec.js';
import type { SecretMasker } from '../../runners/secrets.js';
import type { CommandResult, GitRequest } from '../metrics/index.js';
import type { CacheLocks } from './cache-lock.js';
import { isWithin } from './ensure-inside.js';

export interface GitContext {
  /** Root of all working trees, e.g. `$TIDELINE_DATA_DIR/repos`. */
  root: string;
  /** Allow-listed environment for git (from config); the token is never put in it. */
  baseEnv: Readonly<Record<string, string>>;
  masker: SecretMasker;
  /** Token for `https://` clone URLs on `githubHost`; never used for other hosts. */
  token: string | null;
  /** Host name of the configured GitHub web host, e.g. `github.com`. */
  githubHost: string;
  /** Who may use each repository's cache at once: one registry per server. */
  locks: CacheLocks;
  /** Told how long each fetch, worktree add, checkout and upkeep took (the server's metrics). */
  onRequest?: (request: GitRequest, result: CommandResult, seconds: number) => void;
  /** Overrides both defaults below (tests). */
  timeoutMs?: number;
  /** Aborting kills the running git's whole process group: the server is shutting down. */
  signal?: AbortSignal;
}

export class GitError extends Error {
  override readonly name = 'GitError';
}

/** A local command: a checkout of the largest tree takes seconds. */
const DEFAULT_TIMEOUT_MS = 10 * 60_000;
/** A fetch: the first one of a large repository over a slow link can take many minutes. */
const FETCH_TIMEOUT_MS = 30 * 60_000;
/** No credential helper of the host is consulted, and no prompt can block a worker. */
const GIT_ENV = { GIT_TERMINAL_PROMPT: '0', GIT_CONFIG_NOSYSTEM: '1' };

/** The bare repository the trees of `owner/name` share objects through. */
export function cacheDir(ctx: Pick<GitContext, 'root'>, owner: string, name: string): string {
  return join(ctx.root, owner, name, '_cache.git');
}

/** Fetches `refspec` into the cache, creating the cache the first time. Fetches may overlap. */
export async function fetchIntoCache(ctx: GitContext, cache: string, cloneUrl: string, refspec: string): Promise<void> {
  await ensureCache(ctx, cache);
  // No automatic maintenance here, where it would delay a plan; maintainCache runs it under the lock.
  const args = ['fetch', '--no-tags', '--force', '--no-auto-maintenance', '--no-write-fetch-head', cloneUrl, refspec];
  await ctx.locks.of(cache).shared(() => timed(ctx, 'fetch', () => remoteGit(ctx, cache, cloneUrl, args)));
}

/** Makes `dir` a new worktree of the cache at `sha`, replacing whatever was there. */
export async function addWorktree(ctx: GitContext, cache: string, dir: string, sha: string): Promise<void> {
  await rm(dir, { recursive: true, force: true });
  await mkdir(dirname(dir), { recursive: true });
  // -f: a tree deleted by hand stays registered until pruned; add it again anyway.
  await ctx.locks.of(cache).exclusive(async () => {
    try {
      await timed(ctx, 'worktree_add', () => localGit(ctx, cache, ['worktree', 'add', '-f', '--detach', dir, sha]));
    } catch (err: unknown) {
      await removeHalfMadeWorktrees(cache); // a killed add must not leave the cache unfetchable
      throw err;
    }
  });
}

/**
 * Removes worktrees that a killed `git worktree add` left half-made: their HEAD is still git's
 * all-zero placeholder, and while one exists every fetch into the cache fails ("bad object
 * worktrees/…/HEAD"). Their trees go too; the next run makes them again. Returns the trees.
 */
export async function removeHalfMadeWorktrees(cache: string): Promise<string[]> {
  const admin = join(cache, 'worktrees');
  const ids = await readdir(admin).catch(() => []);
  const removed: string[] = [];
  for (const id of ids) {
    const head = await readFile(join(admin, id, 'HEAD'), 'utf8').catch(() => '');
    if (!/^0{40}$/.test(head.trim())) continue;
    // `gitdir` names the tree's `.git` file; only a tree beside the cache is ever deleted.
    const tree = dirname((await readFile(join(admin, id, 'gitdir'), 'utf8').catch(() => '')).trim());
    if (tree !== dirname(cache) && isWithin(dirname(cache), tree)) {
      await rm(tree, { recursive: true, force: true });
      removed.push(tree);
    }
    await rm(join(admin, id), { recursive: true, force: true });
  }
  return removed;
}

/** At start-up, before any job: repairs every cache a killed process left half-made trees in. */
export async function repairCaches(root: string): Promise<string[]> {
  const removed: string[] = [];
  for (const owner of await readdir(root).catch(() => [])) {
    for (const name of await readdir(join(root, owner)).catch(() => [])) {
      removed.push(...(await removeHalfMadeWorktrees(cacheDir({ root }, owner, name))));
    }
  }
  return removed;
}

/**
 * Forgets trees that were deleted, drops `refs` (so their objects can go) and lets git pack the
 * cache when enough has piled up. The first two are quick and take the cache alone. A gc can
 * take minutes on a large repository, so it runs beside fetches (git's gc is made for that)
 * and only keeps new trees waiting.
 */
export async function maintainCache(ctx: Omit<GitContext, 'token'>, cache: string, refs: readonly string[]): Promise<void> {
  if (!existsSync(join(cache, 'HEAD'))) return;
  const git = async (args: string[]): Promise<void> => void (await localGit(ctx, cache, args));
  const lock = ctx.locks.of(cache);
  await timed(ctx, 'maintenance', async () => {
    await lock.exclusive(async () => {
      await git(['worktree', 'prune']);
      for (const ref of refs) await git(['update-ref', '-d', ref]);
    });
    // In the foreground: a gc left running in the background would be outside the lock.
    await lock.shared(() => git(['-c', 'gc.autoDetach=false', '-c', 'maintenance.autoDetach=false', 'maintenance', 'run', '--auto']));
  });
}

/** Creates the cache once: made aside and renamed into place, so racing jobs never see half of it. */
async function ensureCache(ctx: GitContext, cache: string): Promise<void> {
  if (existsSync(join(cache, 'HEAD'))) return;
  const aside = `${cache}.new-${randomUUID()}`;
  await mkdir(aside, { recursive: true });
  try {
    await localGit(ctx, aside, ['init', '--bare']);
    await rename(aside, cache);
  } catch (err: unknown) {
    if (!existsSync(join(cache, 'HEAD'))) throw err; // not a lost race: a real failure
  } finally {
    await rm(aside, { recursive: true, force: true });
  }
}

/** Runs one git request and tells ctx.onRequest how long it took and whether it worked. */
export async function timed<T>(ctx: Pick<GitContext, 'onRequest'>, request: GitRequest, run: () => Promise<T>): Promise<T> {
  const started = performance.now();
  const seconds = (): number => (performance.now() - started) / 1000;
  try {
    const result = await run();
    ctx.onRequest?.(request, 'succeeded', seconds());
    return result;
  } catch (err: unknown) {
    ctx.onRequest?.(request, 'failed', seconds());
    throw err;
  }
}

/**
 * Brings a tree to exactly `sha`: committed files as committed (a step of the last run may have
 * rewritten or deleted some), files a previous run generated gone, but what `terraform init`
 * made (its `.terraform` dir, and the lock file it writes when the repository has none) and
 * any local state kept.
 */
export async function resetTree(ctx: LocalGitContext & Pick<GitContext, 'onRequest'>, dir: string, sha: string): Promise<void> {
  await timed(ctx, 'checkout', () => localGit(ctx, dir, ['checkout', '-q', '--force', '--detach', sha]));
  await localGit(ctx, dir, ['clean', '-ffd', '-e', '.terraform/', '-e', '.terraform.lock.hcl', '-e', '*.tfstate', '-e', '*.tfstate.backup', '-e', 'terraform.tfstate.d/']);
}

type LocalGitContext = Pick<GitContext, 'baseEnv' | 'masker' | 'timeoutMs' | 'signal'>;

/**
 * A git command that never talks to a remote, so it never gets the token. Resolves to its
 * stdout, masked. Like every child, it runs through exec: a timeout, an output cap, and a kill
 * of its whole process group on timeout, flood or shutdown.
 */
export async function localGit(ctx: LocalGitContext, cwd: string, args: string[]): Promise<string> {
  return await runGit(ctx, cwd, args, {}, DEFAULT_TIMEOUT_MS);
}

/**
 * A git command that may talk to `cloneUrl`. The token, for a clone URL on the GitHub host,
 * goes to git as an HTTP header through git's environment (GIT_CONFIG_COUNT/KEY/VALUE, git
 * 2.31), never in its arguments: those are world-readable in /proc/<pid>/cmdline and in `ps`
 * while git runs.
 */
export async function remoteGit(ctx: GitContext, cwd: string, cloneUrl: string, args: string[]): Promise<string> {
  return await runGit(ctx, cwd, args, tokenHeaderEnv(tokenFor(ctx, cloneUrl)), FETCH_TIMEOUT_MS);
}

/** git's environment for the token's header; empty without a token. */
export function tokenHeaderEnv(token: string | null): Record<string, string> {
  if (token === null) return {};
  const basic = Buffer.from(`x-access-token:${token}`).toString('base64');
  return { GIT_CONFIG_COUNT: '1', GIT_CONFIG_KEY_0: 'http.extraHeader', GIT_CONFIG_VALUE_0: `Authorization: Basic ${basic}` };
}

async function runGit(ctx: LocalGitContext, cwd: string, args: string[], env: Record<string, string>, timeoutMs: number): Promise<string> {
  const result = await exec(ctx, {
    file: 'git',
    args,
    cwd,
    env: { ...GIT_ENV, ...env },
    timeoutMs: ctx.timeoutMs ?? timeoutMs,
    ...(ctx.signal === undefined ? {} : { signal: ctx.signal }),
  });
  return result.stdout;
}

/** The git dir of a tree: its own `.git`, where a worktree's `.git` file points, or null. */
export async function gitDirOf(dir: string): Promise<string | null> {
  const dotGit = join(dir, '.git');
  if (existsSync(join(dotGit, 'HEAD'))) return dotGit;
  try {
    const pointer = /^gitdir: (.+)$/m.exec(await readFile(dotGit, 'utf8'))?.[1]?.trim();
    if (pointer === undefined) return null;
    const gitDir = isAbsolute(pointer) ? pointer : resolve(dir, pointer);
    return existsSync(join(gitDir, 'HEAD')) ? gitDir : null;
  } catch {
    return null; // no tree here yet
  }
}

/** The repository a worktree shares (`<cache>/worktrees/<id>` → `<cache>`); null for any other tree. */
export async function commonDirOf(dir: string): Promise<string | null> {
  const gitDir = await gitDirOf(dir);
  if (gitDir === null || gitDir === join(dir, '.git')) return null;
  const worktrees = dirname(gitDir);
  return basename(worktrees) === 'worktrees' ? dirname(worktrees) : null;
}

/** A loose ref (or a detached HEAD) read without starting git; null when absent or packed. */
export async function refValue(gitDir: string, ref: string): Promise<string | null> {
  try {
    const sha = (await readFile(join(gitDir, ref), 'utf8')).trim();
    return /^[0-9a-f]{40}$/.test(sha) ? sha : null;
  } catch {
    return null;
  }
}

/** The token goes only to `https://` URLs on the configured GitHub host. */
export function tokenFor(ctx: Pick<GitContext, 'token' | 'githubHost'>, cloneUrl: string): string | null {
  if (ctx.token === null) return null;
  let url: URL;
  try {
    url = new URL(cloneUrl);
  } catch {
    return null;
  }
  return url.protocol === 'https:' && url.hostname.toLowerCase() === ctx.githubHost.toLowerCase() ? ctx.token : null;
}

/** A git failure as text fit for a PR comment: trimmed and masked. */
export function describeGitError(ctx: Pick<GitContext, 'masker'>, err: unknown): string {
  const text = err instanceof Error ? err.message : String(err);
  return ctx.masker.mask(text.trim());
}
