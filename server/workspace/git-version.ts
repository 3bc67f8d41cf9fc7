// The git Tideline needs, checked once at start-up so an old git stops the server with a line
// that says what to do, instead of failing every plan with "unknown option".

import { simpleGit } from 'simple-git';

/**
 * Worktrees with per-worktree refs (2.20), `fetch --no-auto-maintenance` (2.29), and config
 * from the environment (GIT_CONFIG_COUNT, 2.31), which carries the token's header.
 */
export const MIN_GIT_VERSION = { major: 2, minor: 31 } as const;

const NEEDED = `${MIN_GIT_VERSION.major}.${MIN_GIT_VERSION.minor}`;

export class GitVersionError extends Error {
  override readonly name = 'GitVersionError';
}

/** Resolves to the version of `git` on the children's PATH; throws when it is missing or too old. */
export async function requireGit(baseEnv: Readonly<Record<string, string>>): Promise<string> {
  let version;
  try {
    version = await simpleGit({ binary: 'git' }).env({ ...baseEnv }).version();
  } catch (err: unknown) {
    throw new GitVersionError(`cannot run git: ${err instanceof Error ? err.message : String(err)}: install git ${NEEDED} or newer`, { cause: err });
  }
  if (!version.installed) throw new GitVersionError(`git is not on PATH: install git ${NEEDED} or newer`);
  const text = `${version.major}.${version.minor}.${version.patch}`;
  const tooOld = version.major < MIN_GIT_VERSION.major || (version.major === MIN_GIT_VERSION.major && version.minor < MIN_GIT_VERSION.minor);
  if (tooOld) {
    throw new GitVersionError(`git ${text} on PATH is too old: Tideline needs git ${NEEDED} or newer (worktrees of its object cache, fetch --no-auto-maintenance)`);
  }
  return text;
}
