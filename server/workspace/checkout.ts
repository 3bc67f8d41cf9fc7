// Pull request working trees: one per pull request and workspace (as Atlantis does, so two
// workspaces of one dir never share `.terraform`), each a worktree of the repository's object
// cache (git.ts). A new pull request fetches only the objects the cache lacks; a later plan
// fetches and checks out in place. Trees made before the cache existed (a `.git` directory of
// their own) keep fetching into themselves.

import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import {
  addWorktree,
  cacheDir,
  commonDirOf,
  describeGitError,
  fetchIntoCache,
  gitDirOf,
  GitError,
  localGit,
  maintainCache,
  refValue,
  remoteGit,
  resetTree,
  timed,
  type GitContext,
} from './git.js';

export interface CheckoutRequest {
  owner: string;
  name: string;
  cloneUrl: string;
  pull: number;
  workspace: string;
  headSha: string;
}

export interface CheckoutOptions {
  /** Keep a working tree that is already at the head SHA as it is (apply runs where plan ran). */
  reuse?: boolean;
  /** prepareCheckout reset the tree to this commit moments ago: at the head, nothing is left to do. */
  resetAt?: string | null;
}

export function pullDir(ctx: Pick<GitContext, 'root'>, owner: string, name: string, pull: number): string {
  return join(ctx.root, owner, name, String(pull));
}

/** Where a fetch of a pull request's head lands in the cache. */
function pullRef(pull: number): string {
  return `refs/tideline/pull/${pull}`;
}

/** Brings the working tree of (pull, workspace) to exactly `headSha`. Returns its path. */
export async function checkoutPull(ctx: GitContext, req: CheckoutRequest, opts: CheckoutOptions = {}): Promise<string> {
  const dir = join(pullDir(ctx, req.owner, req.name, req.pull), req.workspace);
  try {
    const gitDir = await gitDirOf(dir);
    const head = gitDir === null ? null : await refValue(gitDir, 'HEAD');
    if (head === req.headSha && (opts.reuse === true || opts.resetAt === head)) return dir;
    if (gitDir === join(dir, '.git')) {
      await checkoutOwnRepo(ctx, dir, req, head);
      return dir;
    }
    const cache = cacheDir(ctx, req.owner, req.name);
    // A prefetch (prefetchPull) may already have brought the commit.
    if (head !== req.headSha && (await refValue(cache, pullRef(req.pull))) !== req.headSha) {
      await fetchIntoCache(ctx, cache, req.cloneUrl, `+refs/pull/${req.pull}/head:${pullRef(req.pull)}`);
    }
    if (gitDir === null) {
      // No tree yet, or one whose link to the cache is broken: make it afresh.
      await addWorktree(ctx, cache, dir, req.headSha);
      return dir;
    }
    // Also at the same head: a plan is of the commit, not of what the last run left behind.
    await resetTree(ctx, dir, req.headSha);
    return dir;
  } catch (err: unknown) {
    throw new GitError(`git checkout of ${req.owner}/${req.name}#${req.pull} at ${req.headSha.slice(0, 7)} failed: ${describeGitError(ctx, err)}`, { cause: err });
  }
}

/**
 * Gets the tree of (pull, workspace) ready while the GitHub call that names the head SHA is in
 * flight. A tree that exists is reset to the commit it is at, which usually is the head
 * (autoplan moved it on the last push): checkoutPull then has nothing left to do. Without a
 * tree, the head is fetched into the cache. Returns the commit the tree was reset to, for
 * checkoutPull's `resetAt`. Failures are the caller's to ignore: checkoutPull does it again.
 */
export async function prepareCheckout(ctx: GitContext, req: Omit<CheckoutRequest, 'headSha'>): Promise<string | null> {
  const dir = join(pullDir(ctx, req.owner, req.name, req.pull), req.workspace);
  const gitDir = await gitDirOf(dir);
  const head = gitDir === null ? null : await refValue(gitDir, 'HEAD');
  if (head === null) {
    await prefetchPull(ctx, req);
    return null;
  }
  await resetTree(ctx, dir, head);
  return head;
}

/**
 * Fetches a pull request's head into the repository's cache before its head SHA is known, so
 * the fetch overlaps the GitHub API call that tells it. checkoutPull then finds the commit
 * there. Failures are the caller's to ignore: checkoutPull fetches again and reports.
 */
export async function prefetchPull(ctx: GitContext, req: Omit<CheckoutRequest, 'headSha'>): Promise<void> {
  await fetchIntoCache(ctx, cacheDir(ctx, req.owner, req.name), req.cloneUrl, `+refs/pull/${req.pull}/head:${pullRef(req.pull)}`);
}

/** A tree made before the cache: a repository of its own, fetched into directly. */
async function checkoutOwnRepo(ctx: GitContext, dir: string, req: CheckoutRequest, head: string | null): Promise<void> {
  if (head !== req.headSha) {
    await timed(ctx, 'fetch', () => remoteGit(ctx, dir, req.cloneUrl, ['fetch', '--no-tags', '--force', req.cloneUrl, `+refs/pull/${req.pull}/head:refs/remotes/pull/${req.pull}`]));
  }
  await resetTree(ctx, dir, req.headSha);
}

/**
 * Whether `headSha` contains the base branch's current head (Atlantis's `undiverged`): fetches
 * the base branch into the working tree and asks git whether that tip is an ancestor of the
 * head. The tip is the one fetched now, never the pull request's `base.sha`, which GitHub
 * leaves at the base it was opened against. The ref is under `refs/worktree/`, which each
 * worktree keeps to itself, so two pull requests never race for it.
 */
export async function containsBase(ctx: GitContext, dir: string, cloneUrl: string, baseRef: string, headSha: string): Promise<{ contains: boolean; baseTip: string }> {
  try {
    const baseTip = await fetchBaseTip(ctx, dir, cloneUrl, baseRef);
    const mergeBase = (await localGit(ctx, dir, ['merge-base', baseTip, headSha])).trim();
    return { contains: mergeBase === baseTip, baseTip };
  } catch (err: unknown) {
    throw new GitError(`could not compare ${headSha.slice(0, 7)} with ${baseRef}: ${describeGitError(ctx, err)}`, { cause: err });
  }
}

/**
 * The paths `headSha` changes since its merge base with the base branch, as the pull request's
 * Files tab counts them (a rename is its old and its new path). For pull requests whose files
 * GitHub's API does not list in full: pulls/list-files stops at 3,000.
 */
export async function changedSinceBase(ctx: GitContext, dir: string, cloneUrl: string, baseRef: string, headSha: string): Promise<string[]> {
  try {
    const baseTip = await fetchBaseTip(ctx, dir, cloneUrl, baseRef);
    const mergeBase = (await localGit(ctx, dir, ['merge-base', baseTip, headSha])).trim();
    const names = await localGit(ctx, dir, ['diff', '--name-only', '-z', '--no-renames', mergeBase, headSha]);
    return names.split('\0').filter((name) => name !== '');
  } catch (err: unknown) {
    throw new GitError(`could not list the files ${headSha.slice(0, 7)} changes since ${baseRef}: ${describeGitError(ctx, err)}`, { cause: err });
  }
}

/** Fetches the base branch under `refs/worktree/` (each worktree keeps its own) and returns its tip. */
async function fetchBaseTip(ctx: GitContext, dir: string, cloneUrl: string, baseRef: string): Promise<string> {
  // A worktree's fetch writes into the cache it shares, and walks every tree's HEAD.
  const common = await commonDirOf(dir);
  const fetch = (): Promise<string> => timed(ctx, 'fetch', () => remoteGit(ctx, dir, cloneUrl, ['fetch', '--no-tags', '--force', cloneUrl, `+refs/heads/${baseRef}:refs/worktree/base/${baseRef}`]));
  await (common === null ? fetch() : ctx.locks.of(common).shared(fetch));
  return (await localGit(ctx, dir, ['rev-parse', '--verify', `refs/worktree/base/${baseRef}^{commit}`])).trim();
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
  try {
    await maintainCache(ctx, cacheDir(ctx, owner, name), [pullRef(pull)]);
  } catch (err: unknown) {
    throw new GitError(`could not tidy the git cache of ${owner}/${name} after #${pull}: ${describeGitError(ctx, err)}`, { cause: err });
  }
}
