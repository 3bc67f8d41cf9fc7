// Every repo-relative path from a comment or a repo config goes through here before use.

import { realpathSync } from 'node:fs';
import { isAbsolute, relative, resolve, sep } from 'node:path';

export class PathEscapeError extends Error {
  override readonly name = 'PathEscapeError';
  constructor(
    readonly path: string,
    readonly root: string,
  ) {
    super(`\`${path}\` resolves outside the repository checkout`);
  }
}

/**
 * Resolves `path` against `root` and proves the result stays inside it, following symlinks
 * that exist (a symlink in the repo pointing at /etc is an escape too). Returns the absolute path.
 */
export function ensureInside(root: string, path: string): string {
  if (path.includes('\0') || isAbsolute(path)) throw new PathEscapeError(path, root);
  const realRoot = realpathSync(root);
  const target = resolve(realRoot, path);
  if (!isWithin(realRoot, target)) throw new PathEscapeError(path, root);
  let real: string;
  try {
    real = realpathSync(target);
  } catch {
    return target; // does not exist (yet): the lexical check above is what there is to check
  }
  if (!isWithin(realRoot, real)) throw new PathEscapeError(path, root);
  return real;
}

/** Whether `target` is `root` or lies below it, lexically. */
export function isWithin(root: string, target: string): boolean {
  const rel = relative(root, target);
  return rel === '' || (!rel.startsWith(`..${sep}`) && rel !== '..' && !isAbsolute(rel));
}
