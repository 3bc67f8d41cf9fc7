// Extra arguments from a comment may name files (`-var-file=...`). Those must stay inside the
// checkout, or a commenter could make terraform read — and quote in its errors — any file the
// server can read.

import { isAbsolute, join, relative } from 'node:path';
import { ensureInside, PathEscapeError } from './ensure-inside.js';

const FILE_FLAGS = new Set(['-var-file', '--var-file']);

/** Null when every file named by the extra args resolves inside the checkout; else the problem. */
export function refuseOutsidePaths(checkoutRoot: string, projectDir: string, args: readonly string[]): string | null {
  for (let i = 0; i < args.length; i += 1) {
    const arg = args[i] ?? '';
    const eq = arg.indexOf('=');
    const flag = eq === -1 ? arg : arg.slice(0, eq);
    if (!FILE_FLAGS.has(flag)) continue;
    const value = eq === -1 ? args[i + 1] : arg.slice(eq + 1);
    if (value === undefined || value === '') return `\`${flag}\` needs a file inside the repository`;
    const problem = `\`${flag}=${value}\` names a file outside the repository: use a path inside the checkout`;
    if (isAbsolute(value)) return problem;
    try {
      ensureInside(checkoutRoot, relative(checkoutRoot, join(projectDir, value)));
    } catch (err: unknown) {
      if (err instanceof PathEscapeError) return problem;
      throw err;
    }
  }
  return null;
}
