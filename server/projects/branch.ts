// `branch: /regex/` on a project: the project exists only for pull requests whose base branch
// matches, as in Atlantis, which drops the other projects right after parsing the file (before it
// checks names). The regex is kept as written so its `(?i)` survives; JavaScript has no inline flags.

import { slashRegex } from '../../config/server-repos.js';

/** True when a project with `branch` (a `/regex/` as written, or none) exists for `baseBranch`; unknown base: true. */
export function onBaseBranch(branch: string | undefined, baseBranch: string | undefined): boolean {
  if (branch === undefined || baseBranch === undefined) return true;
  const parsed = slashRegex(branch);
  // An invalid regex is reported by the schema; until then the project is not dropped here.
  return !parsed.ok || parsed.regex.test(baseBranch);
}
