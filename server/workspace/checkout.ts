// Git working trees: one per pull request and workspace (as Atlantis does, so two workspaces of
// one dir never share `.terraform`). The first plan clones; later ones fetch.

import { existsSync } from 'node:fs';
import { mkdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { simpleGit, type SimpleGit } from 'simple-git';
import type { SecretMasker } from '../../runners/secrets.js';

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

/** Brings the working tree of (pull, workspace) to exactly `headSha`. Returns its path. */
export interface CheckoutOptions {
  /** Keep a working tree that is already at the head SHA as it is (apply runs where plan ran). */
  reuse?: boolean;
}

export async function checkoutPull(ctx: GitContext, req: CheckoutRequest, opts: CheckoutOptions = {}): Promise<string> {
  const dir = join(pullDir(ctx, req.owner, req.name, req.pull), req.workspace);
  try {
    await ensureRepo(ctx, dir, req.cloneUrl);
    const head = await headOf(dir);
    if (head === req.headSha && opts.reuse === true) return dir; // apply runs where its plan ran, .terraform and all
    const git = gitAt(ctx, dir, req.cloneUrl);
    if (head !== req.headSha) {
      // A prefetch (prefetchPull) may already have brought the commit.
      if ((await fetchedPullHead(dir, req.pull)) !== req.headSha) await fetchPullRef(git, req.cloneUrl, req.pull);
      // checkout prints "HEAD is now at", so simple-git's pause after silent commands is avoided.
      await git.raw(['checkout', '--force', '--detach', req.headSha]);
    }
    if (head !== null) {
      // Only a tree that had a checkout can hold files a previous run generated: drop them,
      // but keep terraform's plugin dir and any local state.
      await git.raw(['clean', '-ffd', '-e', '.terraform/', '-e', '*.tfstate', '-e', '*.tfstate.backup', '-e', 'terraform.tfstate.d/']);
    }
    return dir;
  } catch (err: unknown) {
    throw new GitError(`git checkout of ${req.owner}/${req.name}#${req.pull} at ${req.headSha.slice(0, 7)} failed: ${describe(ctx, err)}`, { cause: err });
  }
}

/**
 * Fetches a pull request's head into its working tree before its head SHA is known, so the
 * fetch overlaps the GitHub API call that tells it. checkoutPull then finds the commit there.
 * Failures are the caller's to ignore: checkoutPull fetches again and reports.
 */
export async function prefetchPull(ctx: GitContext, req: Omit<CheckoutRequest, 'headSha'>): Promise<void> {
  const dir = join(pullDir(ctx, req.owner, req.name, req.pull), req.workspace);
  await ensureRepo(ctx, dir, req.cloneUrl);
  await fetchPullRef(gitAt(ctx, dir, req.cloneUrl), req.cloneUrl, req.pull);
}

async function ensureRepo(ctx: GitContext, dir: string, cloneUrl: string): Promise<void> {
  if (existsSync(join(dir, '.git'))) return;
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  await gitAt(ctx, dir, cloneUrl).init();
}

async function fetchPullRef(git: SimpleGit, cloneUrl: string, pull: number): Promise<void> {
  // -v: simple-git waits 50 ms after any git command that printed nothing.
  await git.raw(['fetch', '-v', '--no-tags', '--force', cloneUrl, `+refs/pull/${pull}/head:refs/remotes/pull/${pull}`]);
}

/** The commit the last fetch brought for the pull request, read from its ref file. */
async function fetchedPullHead(dir: string, pull: number): Promise<string | null> {
  try {
    const sha = (await readFile(join(dir, '.git', 'refs', 'remotes', 'pull', String(pull)), 'utf8')).trim();
    return /^[0-9a-f]{40}$/.test(sha) ? sha : null;
  } catch {
    return null; // not fetched yet, or packed by a gc: fetch again
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
 * the base branch into the working tree and asks git for the merge base.
 */
export async function containsBase(ctx: GitContext, dir: string, cloneUrl: string, baseRef: string, baseSha: string, headSha: string): Promise<boolean> {
  const git = gitAt(ctx, dir, cloneUrl);
  try {
    await git.raw(['fetch', '-v', '--no-tags', '--force', cloneUrl, `+refs/heads/${baseRef}:refs/remotes/base/${baseRef}`]);
    const mergeBase = (await git.raw(['merge-base', baseSha, headSha])).trim();
    return mergeBase === baseSha;
  } catch (err: unknown) {
    throw new GitError(`could not compare ${headSha.slice(0, 7)} with ${baseRef}: ${describe(ctx, err)}`, { cause: err });
  }
}

/** The commit a detached working tree is at, read from `.git/HEAD` without starting git. */
async function headOf(dir: string): Promise<string | null> {
  try {
    const head = (await readFile(join(dir, '.git', 'HEAD'), 'utf8')).trim();
    return /^[0-9a-f]{40}$/.test(head) ? head : null;
  } catch {
    return null;
  }
}

/** Deletes every working tree of a pull request. */
export async function removePullCheckouts(ctx: Pick<GitContext, 'root'>, owner: string, name: string, pull: number): Promise<void> {
  await rm(pullDir(ctx, owner, name, pull), { recursive: true, force: true });
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

function describe(ctx: GitContext, err: unknown): string {
  const text = err instanceof Error ? err.message : String(err);
  return ctx.masker.mask(text.trim());
}
