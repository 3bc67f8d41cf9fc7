// The git Tideline needs, checked once at start-up so an old git stops the server with a line
// that says what to do, instead of failing every plan with "unknown option".

import { exec, ExecError, type ExecContext } from '../../runners/exec.js';

/**
 * Worktrees with per-worktree refs (2.20), `fetch --no-auto-maintenance` (2.29), and config
 * from the environment (GIT_CONFIG_COUNT, 2.31), which carries the token's header.
 */
export const MIN_GIT_VERSION = { major: 2, minor: 31 } as const;

const NEEDED = `${MIN_GIT_VERSION.major}.${MIN_GIT_VERSION.minor}`;
const PROBE_TIMEOUT_MS = 30_000;

export class GitVersionError extends Error {
  override readonly name = 'GitVersionError';
}

/** `git version 2.39.5`, `git version 2.39.5.windows.1`, `git version 2.50.1 (Apple Git-155)`. */
export function parseGitVersion(text: string): { major: number; minor: number; patch: number } | null {
  const match = /^git version (\d+)\.(\d+)(?:\.(\d+))?/m.exec(text.trim());
  if (match === null) return null;
  return { major: Number(match[1]), minor: Number(match[2]), patch: Number(match[3] ?? 0) };
}

/** Resolves to the version of `git` on the children's PATH; throws when it is missing or too old. */
export async function requireGit(ctx: ExecContext): Promise<string> {
  let stdout;
  try {
    ({ stdout } = await exec(ctx, { file: 'git', args: ['version'], cwd: '/', timeoutMs: PROBE_TIMEOUT_MS, maxOutputBytes: 64 * 1024 }));
  } catch (err: unknown) {
    if (err instanceof ExecError && err.missingExecutable) throw new GitVersionError(`git is not on PATH: install git ${NEEDED} or newer`, { cause: err });
    throw new GitVersionError(`cannot run git: ${err instanceof Error ? err.message : String(err)}: install git ${NEEDED} or newer`, { cause: err });
  }
  const version = parseGitVersion(stdout);
  if (version === null) throw new GitVersionError(`git on PATH printed ${JSON.stringify(stdout.trim().slice(0, 200))} for \`git version\`: install git ${NEEDED} or newer`);
  const text = `${version.major}.${version.minor}.${version.patch}`;
  const tooOld = version.major < MIN_GIT_VERSION.major || (version.major === MIN_GIT_VERSION.major && version.minor < MIN_GIT_VERSION.minor);
  if (tooOld) {
    throw new GitVersionError(`git ${text} on PATH is too old: Tideline needs git ${NEEDED} or newer (worktrees of its object cache, config from the environment)`);
  }
  return text;
}
