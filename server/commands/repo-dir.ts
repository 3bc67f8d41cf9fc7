// `-d` directories: repo-relative, normalised lexically. The server additionally checks that the
// real path of the checkout directory stays inside the checkout (symlinks); that is not done here.

import { codeSpan } from './code-span.js';

export type NormaliseDirResult = { ok: true; dir: string } | { ok: false; message: string };

/**
 * Normalises a repo-relative directory: strips `./`, empty segments and trailing `/`, resolves
 * inner `..`, and gives `.` for the root. Refuses absolute paths, `..` that leaves the root, NUL
 * and other control characters, and backslashes. A refusal's message starts with the directory.
 */
export function normaliseDir(dir: string): NormaliseDirResult {
  const shown = codeSpan(dir);
  if (dir === '') {
    return { ok: false, message: `${shown} is empty: give a directory relative to the repository root, or . for the root` };
  }
  if (/[\u0000-\u001f\u007f]/.test(dir)) {
    return { ok: false, message: `${shown} contains a control character: give a plain directory relative to the repository root` };
  }
  if (dir.includes('\\')) {
    return { ok: false, message: `${shown} contains a backslash: separate directories with /` };
  }
  if (dir.startsWith('/')) {
    return { ok: false, message: `${shown} is an absolute path: give the directory relative to the repository root, e.g. modules/vpc` };
  }
  const kept: string[] = [];
  for (const segment of dir.split('/')) {
    if (segment === '' || segment === '.') {
      continue;
    }
    if (segment === '..') {
      if (kept.pop() === undefined) {
        return { ok: false, message: `${shown} leaves the repository: give a directory inside it, relative to the repository root` };
      }
      continue;
    }
    kept.push(segment);
  }
  return { ok: true, dir: kept.length === 0 ? '.' : kept.join('/') };
}
