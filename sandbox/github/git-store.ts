// Real bare repositories for the double, built with git plumbing: commits are assembled in a
// temporary index file (read-tree → hash-object → update-index → write-tree → commit-tree),
// so no work tree is needed and nothing depends on the machine's git config.

import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, posix } from 'node:path';
import type { FileChanges } from './types.js';

export interface GitIdentity {
  name: string;
  email: string;
}

export interface ChangedFile {
  filename: string;
  status: 'added' | 'removed' | 'modified' | 'renamed' | 'copied' | 'changed' | 'unchanged';
  /** Blob sha of the new side (old side for removed files). */
  sha: string;
  additions: number;
  deletions: number;
  /** The old path of a renamed (or copied) file. */
  previousFilename?: string;
}

const ZERO_SHA = '0'.repeat(40);

/** Runs git with an argument array and an environment that ignores all user/system config. */
export async function git(
  args: string[],
  opts: { gitDir?: string; input?: string; env?: Record<string, string>; okCodes?: number[] } = {},
): Promise<{ stdout: string; code: number }> {
  const argv = opts.gitDir === undefined ? args : [`--git-dir=${opts.gitDir}`, ...args];
  const env: Record<string, string> = {
    PATH: process.env['PATH'] ?? '/usr/bin:/bin',
    HOME: tmpdir(),
    LANG: 'C',
    GIT_CONFIG_NOSYSTEM: '1',
    GIT_CONFIG_GLOBAL: '/dev/null',
    GIT_TERMINAL_PROMPT: '0',
    ...opts.env,
  };
  return new Promise((resolve, reject) => {
    const stdin = opts.input === undefined ? 'ignore' : 'pipe';
    const child = spawn('git', argv, { env, shell: false, stdio: [stdin, 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout?.on('data', (chunk: Buffer) => out.push(chunk));
    child.stderr?.on('data', (chunk: Buffer) => err.push(chunk));
    child.on('error', reject);
    child.on('close', (code) => {
      const exit = code ?? -1;
      const stdout = Buffer.concat(out).toString('utf8');
      if (exit === 0 || (opts.okCodes ?? []).includes(exit)) {
        resolve({ stdout, code: exit });
        return;
      }
      const stderr = Buffer.concat(err).toString('utf8').trim();
      reject(new Error(`git ${args.join(' ')} exited ${exit}: ${stderr}`));
    });
    if (child.stdin !== null) {
      // git may exit before reading everything (it reports why on stderr); not an error here.
      child.stdin.on('error', () => undefined);
      child.stdin.end(opts.input);
    }
  });
}

export async function initBareRepo(gitDir: string, defaultBranch: string): Promise<void> {
  await git(['init', '--quiet', '--bare', `--initial-branch=${defaultBranch}`, gitDir]);
}

export async function updateRef(gitDir: string, ref: string, sha: string): Promise<void> {
  await git(['update-ref', ref, sha], { gitDir });
}

/** Full sha of `rev` as a commit, or null when it names none. */
export async function resolveCommit(gitDir: string, rev: string): Promise<string | null> {
  if (rev.startsWith('-')) return null;
  const { stdout, code } = await git(['rev-parse', '--verify', '--quiet', `${rev}^{commit}`], { gitDir, okCodes: [1, 128] });
  return code === 0 ? stdout.trim() : null;
}

/** Builds a commit from `parent` (or an empty tree) with `files` applied; null deletes a path. */
export async function writeCommit(
  gitDir: string,
  opts: { parents: string[]; files: FileChanges; message: string; author: GitIdentity },
): Promise<string> {
  const scratch = await mkdtemp(join(tmpdir(), 'tideline-gh-index-'));
  try {
    const env = { ...identityEnv(opts.author), GIT_INDEX_FILE: join(scratch, 'index') };
    const first = opts.parents[0];
    if (first !== undefined) await git(['read-tree', first], { gitDir, env });
    const entries = Object.entries(opts.files).map(([path, content]) => [checkPath(path), content] as const);
    const written = entries.filter((entry): entry is readonly [string, string] => entry[1] !== null);
    const blobPaths: string[] = [];
    for (const [index, [, content]] of written.entries()) {
      const blobPath = join(scratch, `blob-${index}`);
      await writeFile(blobPath, content);
      blobPaths.push(blobPath);
    }
    const shas =
      blobPaths.length === 0
        ? []
        : (await git(['hash-object', '-w', '--stdin-paths'], { gitDir, input: blobPaths.join('\n') + '\n' })).stdout
            .trim()
            .split('\n');
    const records = entries.map(([path, content]) => {
      if (content === null) return `0 ${ZERO_SHA}\t${path}\0`;
      const sha = shas[written.findIndex(([p]) => p === path)];
      return `100644 ${sha ?? ZERO_SHA}\t${path}\0`;
    });
    if (records.length > 0) await git(['update-index', '-z', '--index-info'], { gitDir, env, input: records.join('') });
    const tree = (await git(['write-tree'], { gitDir, env })).stdout.trim();
    return await commitTree(gitDir, tree, opts.parents, opts.message, opts.author);
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}

/**
 * A two-parent merge commit of `head` into `base` (with `squash`, the same tree as one commit on
 * `base`, as GitHub's squash merge); throws when the trees conflict.
 */
export async function mergeCommit(
  gitDir: string,
  opts: { base: string; head: string; message: string; author: GitIdentity; squash?: boolean },
): Promise<string> {
  const { stdout, code } = await git(['merge-tree', '--write-tree', '--name-only', opts.base, opts.head], {
    gitDir,
    okCodes: [1],
  });
  if (code !== 0) throw new Error(`merge conflict: ${stdout.trim().split('\n').slice(1).join(', ')}`);
  const tree = stdout.trim().split('\n')[0] ?? '';
  return commitTree(gitDir, tree, opts.squash === true ? [opts.base] : [opts.base, opts.head], opts.message, opts.author);
}

export async function isAncestor(gitDir: string, ancestor: string, descendant: string): Promise<boolean> {
  const { code } = await git(['merge-base', '--is-ancestor', ancestor, descendant], { gitDir, okCodes: [1] });
  return code === 0;
}

/**
 * Files changed on `head` since its merge base with `base` (what a PR's Files tab shows). Renames
 * are detected as GitHub does: one entry, status `renamed`, with the old path beside it.
 */
export async function changedFiles(gitDir: string, base: string, head: string): Promise<ChangedFile[]> {
  const mergeBase = (await git(['merge-base', base, head], { gitDir })).stdout.trim();
  const raw = (await git(['diff', '--raw', '-z', '--no-abbrev', '-M', mergeBase, head], { gitDir })).stdout;
  const numstat = (await git(['diff', '--numstat', '-z', '-M', mergeBase, head], { gitDir })).stdout;
  const counts = new Map<string, { additions: number; deletions: number }>();
  const stats = numstat.split('\0');
  for (let i = 0; i < stats.length; i += 1) {
    const [added, deleted, path] = (stats[i] ?? '').split('\t');
    if (path === undefined || added === undefined || deleted === undefined) continue;
    // A rename's record leaves the path empty; its old and new paths follow.
    const key = path === '' ? (stats[i + 2] ?? '') : path;
    if (path === '') i += 2;
    counts.set(key, { additions: Number(added) || 0, deletions: Number(deleted) || 0 });
  }
  const files: ChangedFile[] = [];
  const parts = raw.split('\0');
  for (let i = 0; i + 1 < parts.length; ) {
    const meta = (parts[i] ?? '').split(' ');
    const letter = (meta[4] ?? 'M').charAt(0);
    const renamed = letter === 'R' || letter === 'C';
    const previous = renamed ? (parts[i + 1] ?? '') : undefined;
    const path = (renamed ? parts[i + 2] : parts[i + 1]) ?? '';
    i += renamed ? 3 : 2;
    const status = letter === 'A' ? 'added' : letter === 'D' ? 'removed' : letter === 'R' ? 'renamed' : letter === 'C' ? 'copied' : 'modified';
    const sha = (status === 'removed' ? meta[2] : meta[3]) ?? ZERO_SHA;
    const counted = counts.get(path) ?? { additions: 0, deletions: 0 };
    files.push({ filename: path, status, sha, ...counted, ...(previous === undefined ? {} : { previousFilename: previous }) });
  }
  return files;
}

async function commitTree(
  gitDir: string,
  tree: string,
  parents: string[],
  message: string,
  author: GitIdentity,
): Promise<string> {
  const args = ['commit-tree', tree, ...parents.flatMap((parent) => ['-p', parent]), '-m', message];
  return (await git(args, { gitDir, env: identityEnv(author) })).stdout.trim();
}

function identityEnv(who: GitIdentity): Record<string, string> {
  const date = `${Math.floor(Date.now() / 1000)} +0000`;
  return {
    GIT_AUTHOR_NAME: who.name,
    GIT_AUTHOR_EMAIL: who.email,
    GIT_AUTHOR_DATE: date,
    GIT_COMMITTER_NAME: who.name,
    GIT_COMMITTER_EMAIL: who.email,
    GIT_COMMITTER_DATE: date,
  };
}

/** Repo-relative, forward slashes, no `..`, no NUL/newline: what a tree entry can hold. */
function checkPath(path: string): string {
  const normal = posix.normalize(path);
  if (
    path === '' ||
    posix.isAbsolute(path) ||
    normal.startsWith('../') ||
    normal === '..' ||
    normal !== path ||
    /[\0\n\\]/.test(path) ||
    path.split('/').includes('.git')
  ) {
    throw new Error(`invalid file path for the GitHub double: ${JSON.stringify(path)}`);
  }
  return path;
}

export function identityFor(login: string): GitIdentity {
  return { name: login, email: `${login}@users.noreply.github.com` };
}
