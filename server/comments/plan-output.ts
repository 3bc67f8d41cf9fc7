// Terraform output made readable in a PR: refresh noise dropped, change markers moved to
// column 0 so GitHub's `diff` highlighter colours them, summary lines picked out.

import { isRefreshNoise } from '../../runners/refresh-noise.js';
import type { ApplyOutcome, PlanOutcome } from '../../runners/types.js';
import { normalizeOutput } from './markdown.js';


/** An indented change line: `  + resource …`, `      ~ tags = {`, `          - "a",`. */
const INDENTED_MARKER = /^( +)([-+~]) (.*)$/;

/**
 * Atlantis-style diff view of terraform plan output: drops refresh noise, moves a leading
 * `+`, `-` or `~` to column 0 (`  + resource` → `+   resource`), shows `~` as `!` (GitHub
 * colours it as a change), and keeps everything else. Leading and trailing blank lines go.
 */
export function planOutputAsDiff(output: string): string {
  const kept: string[] = [];
  for (const line of normalizeOutput(output).split('\n')) {
    if (isRefreshNoise(line)) {
      continue;
    }
    kept.push(moveMarker(line));
  }
  while (kept.length > 0 && (kept[0] ?? '').trim() === '') {
    kept.shift();
  }
  return kept.join('\n').replace(/\s+$/, '');
}

function moveMarker(line: string): string {
  const match = INDENTED_MARKER.exec(line);
  if (match !== null) {
    const [, indent = '', marker = '', rest = ''] = match;
    return `${marker === '~' ? '!' : marker} ${indent}${rest}`;
  }
  // Terraform 0.11 printed `~ resource` at column 0.
  return line.startsWith('~ ') ? `!${line.slice(1)}` : line;
}

// Exactly terraform's own summary lines (with imports; later versions add `removed` blocks' forgets).
// These lines are shown outside the code block, and a check block's `error_message` or an
// output's heredoc reaches column 0 too: anything looser would put text a pull request wrote,
// an `@team` mention or a link, into the reply as markdown.
const PLAN_LINE = /^Plan: (?:\d+ to import, )?\d+ to add, \d+ to change, \d+ to destroy(?:, \d+ to forget)?\.$/m;
const APPLY_LINE = /^Apply complete! Resources: (?:\d+ imported, )?\d+ added, \d+ changed, \d+ destroyed(?:, \d+ forgotten)?\.$/m;

/**
 * `Plan: 1 to add, 0 to change, 0 to destroy.`, as terraform printed it when it did (it may
 * mention imports), else built from the outcome's summary; null when there is neither.
 */
export function planSummaryLine(outcome: PlanOutcome): string | null {
  const printed = PLAN_LINE.exec(normalizeOutput(outcome.output));
  if (printed !== null) {
    return printed[0];
  }
  const s = outcome.summary;
  if (s === null) {
    return null;
  }
  return `Plan: ${s.add} to add, ${s.change} to change, ${s.destroy} to destroy.`;
}

/** `Apply complete! Resources: 1 added, 0 changed, 0 destroyed.` when terraform printed it. */
export function applySummaryLine(outcome: ApplyOutcome): string | null {
  return APPLY_LINE.exec(normalizeOutput(outcome.output))?.[0] ?? null;
}
