// Git working trees: one per pull request and workspace (as Atlantis does, so two workspaces of
// one dir never share `.terraform`). Each repository has one bare object cache,
// `<root>/<owner>/<name>/_cache.git`, and a pull request's trees are worktrees of it: a new pull
// request fetches only the objects the cache lacks, and its tree is one `git worktree add`
// rather than init + fetch + checkout. Trees made before the cache existed (a `.git` directory
// of their own) keep fetching into themselves.

import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rename, rm } from 'node:fs/promises';
import { basename, dirname, isAbsolute, join, resolve } from 'node:path';
import { simpleGit, type SimpleGit } from 'simple-git';
import type { SecretMasker } from '../../runners/secrets.js';
import { cacheLock } from './cache-lock.js';

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
  timeoutMs?: number;
}

export interface CheckoutRequest {
  owner: string;
  name: string;
  cloneUrl: string;
  pull: number;
  workspace: string;
  headSha: string;
}

export class GitError extends Error {
  override readonly name = 'GitError';
}

export function pullDir(ctx: Pick<GitContext, 'root'>, owner: string, name: string, pull: number): string {
  return join(ctx.root, owner, name, String(pull));
}

/** The bare repository every pull request tree of `owner/name` shares objects through. */
export function cacheDir(ctx: Pick<GitContext, 'root'>, owner: string, name: string): string {
  return join(ctx.root, owner, name, '_cache.git');
}

/** Where a fetch of a pull request's head lands in the cache. */
function pullRef(pull: number): string {
  return `refs/tideline/pull/${pull}`;
}

export interface CheckoutOptions {
  /** Keep a working tree that is already at the head SHA as it is (apply runs where plan ran). */
  reuse?: boolean;
}

/** Brings the working tree of (pull, workspace) to exactly `headSha`. Returns its path. */
export async function checkoutPull(ctx: GitContext, req: CheckoutRequest, opts: CheckoutOptions = {}): Promise<string> {
  const dir = join(pullDir(ctx, req.owner, req.name, req.pull), req.workspace);
  try {
    const gitDir = await gitDirOf(dir);
    if (gitDir === join(dir, '.git')) {
      await checkoutOwnRepo(ctx, dir, req, opts);
      return dir;
    }
    const head = gitDir === null ? null : await refValue(gitDir, 'HEAD');
    if (head === req.headSha && opts.reuse === true) return dir; // apply runs where its plan ran, .terraform and all
    const cache = cacheDir(ctx, req.owner, req.name);
    // A prefetch (prefetchPull) may already have brought the commit.
    if (head !== req.headSha && (await refValue(cache, pullRef(req.pull))) !== req.headSha) {
      await fetchIntoCache(ctx, cache, req.cloneUrl, req.pull);
    }
    if (gitDir === null) {
      // No tree yet, or one whose link to the cache is broken: make it afresh. -f: a tree
      // deleted by hand stays registered until pruned; add it again anyway.
      await rm(dir, { recursive: true, force: true });
      await mkdir(dirname(dir), { recursive: true });
      await cacheLock(cache).exclusive(() => gitAt(ctx, cache, req.cloneUrl).raw(['worktree', 'add', '-f', '--detach', dir, req.headSha]));
      return dir;
    }
    const git = gitAt(ctx, dir, req.cloneUrl);
    // checkout prints "HEAD is now at", so simple-git's pause after silent commands is avoided.
    if (head !== req.headSha) await git.raw(['checkout', '--force', '--detach', req.headSha]);
    await cleanTree(git);
    return dir;
  } catch (err: unknown) {
    throw new GitError(`git checkout of ${req.owner}/${req.name}#${req.pull} at ${req.headSha.slice(0, 7)} failed: ${describe(ctx, err)}`, { cause: err });
  }
}

/**
 * Fetches a pull request's head into the repository's cache before its head SHA is known, so
 * the fetch overlaps the GitHub API call that tells it. checkoutPull then finds the commit
 * there. Failures are the caller's to ignore: checkoutPull fetches again and reports.
 */
export async function prefetchPull(ctx: GitContext, req: Omit<CheckoutRequest, 'headSha'>): Promise<void> {
  await fetchIntoCache(ctx, cacheDir(ctx, req.owner, req.name), req.cloneUrl, req.pull);
}

/** A tree made before the cache: a repository of its own, fetched into directly. */
async function checkoutOwnRepo(ctx: GitContext, dir: string, req: CheckoutRequest, opts: CheckoutOptions): Promise<void> {
  const head = await refValue(join(dir, '.git'), 'HEAD');
  if (head === req.headSha && opts.reuse === true) return;
  const git = gitAt(ctx, dir, req.cloneUrl);
  if (head !== req.headSha) {
    await git.raw(['fetch', '-v', '--no-tags', '--force', req.cloneUrl, `+refs/pull/${req.pull}/head:refs/remotes/pull/${req.pull}`]);
    await git.raw(['checkout', '--force', '--detach', req.headSha]);
  }
  await cleanTree(git);
}

/** Drops files a previous run generated, but keeps terraform's plugin dir and any local state. */
async function cleanTree(git: SimpleGit): Promise<void> {
  await git.raw(['clean', '-ffd', '-e', '.terraform/', '-e', '*.tfstate', '-e', '*.tfstate.backup', '-e', 'terraform.tfstate.d/']);
}

async function fetchIntoCache(ctx: GitContext, cache: string, cloneUrl: string, pull: number): Promise<void> {
  await ensureCache(ctx, cache, cloneUrl);
  // -v: simple-git waits 50 ms after any git command that printed nothing. No automatic
  // maintenance here, where it would delay the plan; a pull request's release runs it.
  const args = ['fetch', '-v', '--no-tags', '--force', '--no-auto-maintenance', '--no-write-fetch-head', cloneUrl, `+refs/pull/${pull}/head:${pullRef(pull)}`];
  await cacheLock(cache).shared(() => gitAt(ctx, cache, cloneUrl).raw(args));
}

/** Creates the cache once: made aside and renamed into place, so racing jobs never see half of it. */
async function ensureCache(ctx: GitContext, cache: string, cloneUrl: string): Promise<void> {
  if (existsSync(join(cache, 'HEAD'))) return;
  const aside = `${cache}.new-${randomUUID()}`;
  await mkdir(aside, { recursive: true });
  try {
    await gitAt(ctx, aside, cloneUrl).raw(['init', '--bare']);
    await rename(aside, cache);
  } catch (err: unknown) {
    if (!existsSync(join(cache, 'HEAD'))) throw err; // not a lost race: a real failure
  } finally {
    await rm(aside, { recursive: true, force: true });
  }
}

/** The git dir of a tree: its own `.git`, where a worktree's `.git` file points, or null. */
async function gitDirOf(dir: string): Promise<string | null> {
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
async function commonDirOf(dir: string): Promise<string | null> {
  const gitDir = await gitDirOf(dir);
  if (gitDir === null || gitDir === join(dir, '.git')) return null;
  const worktrees = dirname(gitDir);
  return basename(worktrees) === 'worktrees' ? dirname(worktrees) : null;
}

/** A loose ref (or a detached HEAD) read without starting git; null when absent or packed. */
async function refValue(gitDir: string, ref: string): Promise<string | null> {
  try {
    const sha = (await readFile(join(gitDir, ref), 'utf8')).trim();
    return /^[0-9a-f]{40}$/.test(sha) ? sha : null;
  } catch {
    return null;
  }
}

export interface BranchCheckoutRequest {
  owner: string;
  name: string;
  cloneUrl: string;
  /** Branch name without `refs/heads/`, e.g. `main`. */
  branch: string;
  workspace: string;
  /** Check out exactly this commit of the branch (e.g. the head another workspace's tree is at). */
  sha?: string;
}

/** The working tree of a branch (drift sweeps): `<root>/<owner>/<name>/_default/<workspace>`. */
export function branchDir(ctx: Pick<GitContext, 'root'>, owner: string, name: string, workspace: string): string {
  return join(ctx.root, owner, name, '_default', workspace);
}

/**
 * Brings the branch working tree of `workspace` to the branch's current head (or to `sha`) by a
 * fetch into an existing tree — a clone happens only the first time. Files a previous run
 * generated are removed; terraform's plugin dir and any local state stay. Returns the tree and
 * the commit it is at.
 */
export async function checkoutBranch(ctx: GitContext, req: BranchCheckoutRequest): Promise<{ dir: string; headSha: string }> {
  const dir = branchDir(ctx, req.owner, req.name, req.workspace);
  if (!/^[A-Za-z0-9._/-]+$/.test(req.branch) || req.branch.startsWith('-') || req.branch.includes('..')) {
    throw new GitError(`branch name ${JSON.stringify(req.branch)} of ${req.owner}/${req.name} is not one Tideline checks out`);
  }
  const tracking = `refs/remotes/origin/${req.branch}`;
  try {
    const fresh = !existsSync(join(dir, '.git'));
    if (fresh) {
      await rm(dir, { recursive: true, force: true });
      await mkdir(dir, { recursive: true });
      await gitAt(ctx, dir, req.cloneUrl).init();
    }
    const git = gitAt(ctx, dir, req.cloneUrl);
    const there = req.sha !== undefined && !fresh && (await headOf(dir)) === req.sha;
    if (!there) {
      await git.raw(['fetch', '-v', '--no-tags', '--force', req.cloneUrl, `+refs/heads/${req.branch}:${tracking}`]);
      const target = req.sha ?? (await git.raw(['rev-parse', '--verify', `${tracking}^{commit}`])).trim();
      await git.raw(['checkout', '--force', '--detach', target]);
    }
    if (!fresh) {
      await git.raw(['clean', '-ffd', '-e', '.terraform/', '-e', '*.tfstate', '-e', '*.tfstate.backup', '-e', 'terraform.tfstate.d/']);
    }
    const headSha = await headOf(dir);
    if (headSha === null) throw new Error('the working tree has no detached head after checkout');
    return { dir, headSha };
  } catch (err: unknown) {
    throw new GitError(`git checkout of ${req.owner}/${req.name} branch ${req.branch} failed: ${describe(ctx, err)}`, { cause: err });
  }
}

/**
 * Whether `headSha` contains the base branch's current head (Atlantis's `undiverged`): fetches
 * the base branch into the working tree and asks git for the merge base. The ref is under
 * `refs/worktree/`, which each worktree keeps to itself, so two pull requests never race for it.
 */
export async function containsBase(ctx: GitContext, dir: string, cloneUrl: string, baseRef: string, baseSha: string, headSha: string): Promise<boolean> {
  const git = gitAt(ctx, dir, cloneUrl);
  try {
    // A worktree's fetch writes into the cache it shares (and walks every tree's HEAD).
    const common = await commonDirOf(dir);
    const fetch = (): Promise<string> => git.raw(['fetch', '-v', '--no-tags', '--force', cloneUrl, `+refs/heads/${baseRef}:refs/worktree/base/${baseRef}`]);
    await (common === null ? fetch() : cacheLock(common).shared(fetch));
    const mergeBase = (await git.raw(['merge-base', baseSha, headSha])).trim();
    return mergeBase === baseSha;
  } catch (err: unknown) {
    throw new GitError(`could not compare ${headSha.slice(0, 7)} with ${baseRef}: ${describe(ctx, err)}`, { cause: err });
  }
}

/** The commit a branch tree (a repository of its own) is at, read without starting git. */
function headOf(dir: string): Promise<string | null> {
  return refValue(join(dir, '.git'), 'HEAD');
}

/** Deletes every working tree of a pull request. */
export async function removePullCheckouts(ctx: Pick<GitContext, 'root'>, owner: string, name: string, pull: number): Promise<void> {
  await rm(pullDir(ctx, owner, name, pull), { recursive: true, force: true });
}

/**
 * After removePullCheckouts: forgets the removed trees and the pull request's ref in the cache,
 * so its objects can go, and lets git pack the cache when enough has piled up.
 */
export async function tidyCache(ctx: Omit<GitContext, 'token'>, owner: string, name: string, pull: number): Promise<void> {
  const cache = cacheDir(ctx, owner, name);
  if (!existsSync(join(cache, 'HEAD'))) return;
  const git = gitAt({ ...ctx, token: null }, cache, '');
  try {
    await cacheLock(cache).exclusive(async () => {
      await git.raw(['worktree', 'prune']);
      await git.raw(['update-ref', '-d', pullRef(pull)]);
      await git.raw(['maintenance', 'run', '--auto']);
    });
  } catch (err: unknown) {
    throw new GitError(`could not tidy the git cache of ${owner}/${name} after #${pull}: ${describe(ctx, err)}`, { cause: err });
  }
}

function gitAt(ctx: GitContext, dir: string, cloneUrl: string): SimpleGit {
  // No credential helper of the host is consulted: system config is off (GIT_CONFIG_NOSYSTEM)
  // and no prompt can block a worker (GIT_TERMINAL_PROMPT=0).
  const config: string[] = [];
  const token = tokenFor(ctx, cloneUrl);
  if (token !== null) {
    const basic = Buffer.from(`x-access-token:${token}`).toString('base64');
    config.push(`http.extraHeader=Authorization: Basic ${basic}`);
  }
  return simpleGit({
    baseDir: dir,
    binary: 'git',
    config,
    timeout: { block: ctx.timeoutMs ?? 10 * 60_000 },
    allowEnvironment: ['GIT_TERMINAL_PROMPT', 'GIT_CONFIG_NOSYSTEM'],
  }).env({ ...ctx.baseEnv, GIT_TERMINAL_PROMPT: '0', GIT_CONFIG_NOSYSTEM: '1' });
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

function describe(ctx: Pick<GitContext, 'masker'>, err: unknown): string {
  const text = err instanceof Error ? err.message : String(err);
  return ctx.masker.mask(text.trim());
}
