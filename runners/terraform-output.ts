// What terraform's plan output says about the changes: the `Plan:` line's counts, or that
// there are none.

import type { ChangeSummary } from './types.js';

const PLAN_LINE =
  /Plan: (?:(\d+) to import, )?(\d+) to add, (\d+) to change, (\d+) to destroy/g;
const NO_CHANGES_LINE = /^\s*No changes\./m;
const ANSI_ESCAPE = /\u001b\[[0-9;]*m/g;

/**
 * `Plan: 1 to add, 0 to change, 0 to destroy.` → counts; `No changes.` → zeros; also
 * handles the `N to import, ` and `, N to forget` variants; null when absent (e.g. a plan
 * that only changes outputs). When several plan lines appear, the last one wins.
 */
export function parsePlanSummary(output: string): ChangeSummary | null {
  const text = output.replace(ANSI_ESCAPE, '');
  let summary: ChangeSummary | null = null;
  for (const match of text.matchAll(PLAN_LINE)) {
    summary = { add: Number(match[2]), change: Number(match[3]), destroy: Number(match[4]) };
  }
  if (summary !== null) return summary;
  return NO_CHANGES_LINE.test(text) ? { add: 0, change: 0, destroy: 0 } : null;
}

/**
 * True when terraform's output says `No changes.` and prints no `Plan:` line. (A zero summary
 * is not enough: an import-only plan prints `Plan: 2 to import, 0 to add, …` and is a change.)
 */
export function planSaysNoChanges(output: string): boolean {
  const text = output.replace(ANSI_ESCAPE, '');
  return NO_CHANGES_LINE.test(text) && !new RegExp(PLAN_LINE.source).test(text);
}
