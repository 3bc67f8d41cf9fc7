// Branch working trees for drift sweeps, `<root>/<owner>/<name>/_default/<workspace>`: worktrees
// of the repository's object cache (git.ts), like pull request trees, so a sweep fetches the
// branch once for all its workspaces. Trees made before the cache existed (a `.git` directory
// of their own) keep fetching into themselves.

import { join } from 'node:path';
import {
  addWorktree,
  cacheDir,
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

export function branchDir(ctx: Pick<GitContext, 'root'>, owner: string, name: string, workspace: string): string {
  return join(ctx.root, owner, name, '_default', workspace);
}

/**
 * Brings the branch working tree of `workspace` to the branch's current head (or to `sha`).
 * Files a previous run generated are removed; terraform's plugin dir and any local state stay.
 * Returns the tree and the commit it is at.
 */
export async function checkoutBranch(ctx: GitContext, req: BranchCheckoutRequest): Promise<{ dir: string; headSha: string }> {
  const dir = branchDir(ctx, req.owner, req.name, req.workspace);
  if (!/^[A-Za-z0-9._/-]+$/.test(req.branch) || req.branch.startsWith('-') || req.branch.includes('..')) {
    throw new GitError(`branch name ${JSON.stringify(req.branch)} of ${req.owner}/${req.name} is not one Tideline checks out`);
  }
  try {
    const gitDir = await gitDirOf(dir);
    if (gitDir === join(dir, '.git')) return { dir, headSha: await checkoutOwnRepo(ctx, dir, req) };
    const head = gitDir === null ? null : await refValue(gitDir, 'HEAD');
    const target = req.sha !== undefined && head === req.sha ? req.sha : await fetchBranch(ctx, req);
    if (gitDir === null) {
      await addWorktree(ctx, cacheDir(ctx, req.owner, req.name), dir, target);
      return { dir, headSha: target };
    }
    // Also at the same head: a sweep plans the commit, not what the last run left behind.
    await resetTree(ctx, dir, target);
    return { dir, headSha: target };
  } catch (err: unknown) {
    throw new GitError(`git checkout of ${req.owner}/${req.name} branch ${req.branch} failed: ${describeGitError(ctx, err)}`, { cause: err });
  }
}

/**
 * The commit to check out: `sha` when the cache already has it as the branch's head (the other
 * workspaces of one sweep), else the branch's head fetched now. A fetch is followed by the
 * cache's upkeep, since a repository nobody opens pull requests on would otherwise never get it;
 * upkeep that fails costs only disk space, so it does not fail the sweep (the metric counts it).
 */
async function fetchBranch(ctx: GitContext, req: BranchCheckoutRequest): Promise<string> {
  const cache = cacheDir(ctx, req.owner, req.name);
  const ref = `refs/tideline/branch/${req.branch}`;
  if (req.sha !== undefined && (await refValue(cache, ref)) === req.sha) return req.sha;
  await fetchIntoCache(ctx, cache, req.cloneUrl, `+refs/heads/${req.branch}:${ref}`);
  await maintainCache(ctx, cache, []).catch(() => undefined);
  return req.sha ?? (await refValue(cache, ref)) ?? (await localGit(ctx, cache, ['rev-parse', '--verify', `${ref}^{commit}`])).trim();
}

/** A tree made before the cache: a repository of its own, fetched into directly. */
async function checkoutOwnRepo(ctx: GitContext, dir: string, req: BranchCheckoutRequest): Promise<string> {
  const tracking = `refs/remotes/origin/${req.branch}`;
  let target = req.sha;
  if (target === undefined || (await refValue(join(dir, '.git'), 'HEAD')) !== target) {
    await timed(ctx, 'fetch', () => remoteGit(ctx, dir, req.cloneUrl, ['fetch', '--no-tags', '--force', req.cloneUrl, `+refs/heads/${req.branch}:${tracking}`]));
    target ??= (await localGit(ctx, dir, ['rev-parse', '--verify', `${tracking}^{commit}`])).trim();
  }
  await resetTree(ctx, dir, target);
  return target;
}
