// Replies that refuse work: an apply whose requirements or permissions do not hold, and a
// repo config with problems. Each lists every problem with how to fix it; nothing ran.

import type { Project } from '../projects/types.js';
import { finishComment, inlineCode } from './markdown.js';
import { projectLabel } from './project.js';
import type { RenderContext } from './types.js';

export interface RefusalLine {
  /** `approved`, `mergeable`, `undiverged` or `permission`. */
  rule: string;
  message: string;
}

export function renderApplyRefused(_ctx: RenderContext, projects: readonly Project[], refusals: readonly RefusalLine[]): string {
  const which = projects.length === 0 ? '' : ` for ${projects.map(projectLabel).join(', ')}`;
  return finishComment(
    [
      `**Apply Failed**${which}: nothing was applied.`,
      refusals.map((r) => `* ${inlineCode(r.rule)}: ${r.message}`).join('\n'),
    ],
    'error',
  );
}

export interface ProblemLine {
  path: string;
  message: string;
}

export function renderConfigProblems(_ctx: RenderContext, file: string, problems: readonly ProblemLine[]): string {
  const count = problems.length === 1 ? '1 problem' : `${problems.length} problems`;
  return finishComment(
    [
      `**Repo Config Error**: ${inlineCode(file)} has ${count}, so nothing was planned:`,
      problems.map((p) => `* ${p.path === '' ? '' : `${inlineCode(p.path)}: `}${p.message}`).join('\n'),
    ],
    'error',
  );
}

/** Keys a repo config set that Tideline reads but does not act on yet. */
export function renderWarnings(warnings: readonly string[]): string {
  if (warnings.length === 0) return '';
  return [':warning: **Repo config warnings**', ...warnings.map((w) => `* ${w}`)].join('\n');
}
