// What happens on "github.com" when a person creates a repository, opens, pushes to, merges or
// closes a pull request: real commits in the bare repository plus the matching PR state.

import { mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { identityFor, initBareRepo, mergeCommit, resolveCommit, updateRef, writeCommit } from './git-store.js';
import { nextId, nowIso, repoKey, requirePull, requireRepo, splitFullName } from './state.js';
import type { DoubleState, FileChanges, PullRecord, RepoRecord } from './types.js';

export interface OpenPullOptions {
  branch: string;
  files: FileChanges;
  title?: string;
  author?: string;
  draft?: boolean;
  /** `owner/name` of a fork the branch lives in: the base repository gets only refs/pull/<n>/head, as on GitHub. */
  fork?: string;
}

const DEFAULT_BRANCH = 'main';

export async function createRepo(
  state: DoubleState,
  rootDir: string,
  fullName: string,
  files: Record<string, string>,
): Promise<{ repo: RepoRecord; headSha: string }> {
  const { owner, name } = splitFullName(fullName);
  if (state.repos.has(repoKey(fullName))) throw new Error(`GitHub double: repository ${fullName} already exists`);
  const gitDir = join(resolve(rootDir), owner, `${name}.git`);
  await mkdir(join(resolve(rootDir), owner), { recursive: true });
  await initBareRepo(gitDir, DEFAULT_BRANCH);
  const sha = await writeCommit(gitDir, {
    parents: [],
    files,
    message: 'Initial commit',
    author: identityFor(owner),
  });
  await updateRef(gitDir, `refs/heads/${DEFAULT_BRANCH}`, sha);
  const repo: RepoRecord = {
    id: nextId(state),
    owner,
    name,
    fullName: `${owner}/${name}`,
    gitDir,
    // As the spec of the double says: file:// + absolute path (git does not percent-decode it).
    cloneUrl: `file://${gitDir}`,
    defaultBranch: DEFAULT_BRANCH,
    createdAt: nowIso(),
    nextNumber: 1,
    pulls: new Map(),
    issues: new Map(),
    labels: new Map(),
    permissions: new Map(),
    statuses: new Map(),
    commits: new Set([sha]),
  };
  state.repos.set(repoKey(fullName), repo);
  return { repo, headSha: sha };
}

export async function openPull(state: DoubleState, fullName: string, opts: OpenPullOptions): Promise<PullRecord> {
  const repo = requireRepo(state, fullName);
  checkBranchName(opts.branch);
  if (opts.branch === repo.defaultBranch) throw new Error(`GitHub double: cannot open a PR from ${opts.branch} into itself`);
  if (opts.fork === undefined && (await resolveCommit(repo.gitDir, `refs/heads/${opts.branch}`))) {
    throw new Error(`GitHub double: branch ${opts.branch} already exists in ${fullName}`);
  }
  const baseSha = await defaultBranchTip(repo);
  const author = opts.author ?? 'octocat';
  const title = opts.title ?? `Update ${opts.branch}`;
  const headSha = await writeCommit(repo.gitDir, {
    parents: [baseSha],
    files: opts.files,
    message: title,
    author: identityFor(author),
  });
  repo.commits.add(headSha);
  const number = repo.nextNumber;
  repo.nextNumber += 1;
  if (opts.fork === undefined) await updateRef(repo.gitDir, `refs/heads/${opts.branch}`, headSha);
  await updateRef(repo.gitDir, `refs/pull/${number}/head`, headSha);
  const now = nowIso();
  const pull: PullRecord = {
    number,
    id: nextId(state),
    title,
    author,
    branch: opts.branch,
    ...(opts.fork === undefined ? {} : { headRepo: opts.fork }),
    baseRef: repo.defaultBranch,
    baseSha,
    headSha,
    previousHeadSha: null,
    state: 'open',
    merged: false,
    draft: opts.draft ?? false,
    mergeable: true,
    mergeCommitSha: null,
    createdAt: now,
    updatedAt: now,
    closedAt: null,
    mergedAt: null,
    comments: [],
    reviews: [],
  };
  repo.pulls.set(number, pull);
  return pull;
}

export async function pushToPull(state: DoubleState, fullName: string, number: number, files: FileChanges): Promise<string> {
  const { repo, pull } = requirePull(state, fullName, number);
  if (pull.state !== 'open') throw new Error(`GitHub double: ${fullName}#${number} is ${pull.merged ? 'merged' : 'closed'}`);
  const headSha = await writeCommit(repo.gitDir, {
    parents: [pull.headSha],
    files,
    message: `Update ${pull.branch}`,
    author: identityFor(pull.author),
  });
  repo.commits.add(headSha);
  if (pull.headRepo === undefined) await updateRef(repo.gitDir, `refs/heads/${pull.branch}`, headSha);
  await updateRef(repo.gitDir, `refs/pull/${number}/head`, headSha);
  pull.previousHeadSha = pull.headSha;
  pull.headSha = headSha;
  pull.baseSha = await defaultBranchTip(repo);
  pull.updatedAt = nowIso();
  return headSha;
}

/** A merge commit on the default branch (GitHub's "Create a merge commit"); throws on conflicts. */
export async function mergePull(state: DoubleState, fullName: string, number: number, merger: string, method: 'merge' | 'squash' = 'merge'): Promise<string> {
  const { repo, pull } = requirePull(state, fullName, number);
  if (pull.state !== 'open') throw new Error(`GitHub double: ${fullName}#${number} is not open`);
  const base = await defaultBranchTip(repo);
  const sha = await mergeCommit(repo.gitDir, {
    base,
    head: pull.headSha,
    message: method === 'squash' ? `${pull.title} (#${number})` : `Merge pull request #${number} from ${repo.owner}/${pull.branch}\n\n${pull.title}`,
    author: identityFor(merger),
    squash: method === 'squash',
  });
  repo.commits.add(sha);
  await updateRef(repo.gitDir, `refs/heads/${repo.defaultBranch}`, sha);
  const now = nowIso();
  Object.assign(pull, {
    state: 'closed',
    merged: true,
    mergeCommitSha: sha,
    mergedAt: now,
    closedAt: now,
    updatedAt: now,
  } satisfies Partial<PullRecord>);
  return sha;
}

export function closePull(state: DoubleState, fullName: string, number: number): void {
  const { pull } = requirePull(state, fullName, number);
  if (pull.state === 'closed') return;
  const now = nowIso();
  pull.state = 'closed';
  pull.closedAt = now;
  pull.updatedAt = now;
}

async function defaultBranchTip(repo: RepoRecord): Promise<string> {
  const sha = await resolveCommit(repo.gitDir, `refs/heads/${repo.defaultBranch}`);
  if (sha === null) throw new Error(`GitHub double: ${repo.fullName} has no ${repo.defaultBranch} branch`);
  return sha;
}

function checkBranchName(branch: string): void {
  const bad =
    branch === '' ||
    branch.startsWith('-') ||
    branch.startsWith('/') ||
    branch.endsWith('/') ||
    branch.endsWith('.lock') ||
    branch.includes('..') ||
    /[\s~^:?*[\\\0]/.test(branch) ||
    branch.includes('@{');
  if (bad) throw new Error(`GitHub double: ${JSON.stringify(branch)} is not a valid branch name`);
}
