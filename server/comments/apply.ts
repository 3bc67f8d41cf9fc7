// The comment answering an apply: Atlantis shows the output in a `diff` block, folded when long.

import { finishComment, isFolded, normalizeOutput, outputBlock } from './markdown.js';
import { multiProjectBody, singleProjectHeader } from './multi-project.js';
import { replanBullet } from './plan.js';
import { applySummaryLine } from './plan-output.js';
import type { ProjectApplyResult, RenderContext } from './types.js';

/** The body of one project's apply result, without the "Ran Apply for" header. */
export function applySection(ctx: RenderContext, r: ProjectApplyResult): string {
  const output = normalizeOutput(r.outcome.output);
  if (r.outcome.result === 'error') {
    return ['**Apply Error**', outputBlock(output, ''), replanBullet(ctx, r.project)].join('\n\n');
  }
  const blocks = [outputBlock(output, 'diff')];
  const summary = applySummaryLine(r.outcome);
  if (summary !== null && isFolded(output)) {
    blocks.push(summary);
  }
  return blocks.join('\n\n');
}

/** `2 projects, 1 applied, 1 failed` */
export function applyCounts(results: readonly ProjectApplyResult[]): string {
  const applied = results.filter((r) => r.outcome.result === 'applied').length;
  const projects = results.length === 1 ? 'project' : 'projects';
  return `${results.length} ${projects}, ${applied} applied, ${results.length - applied} failed`;
}

export function renderApply(ctx: RenderContext, results: readonly ProjectApplyResult[]): string {
  const [only] = results;
  if (results.length === 1 && only !== undefined) {
    return finishComment([singleProjectHeader('Apply', only.project), applySection(ctx, only)], 'apply');
  }
  if (results.length === 0) {
    return finishComment(['Ran Apply for 0 projects.'], 'apply');
  }
  const sections = results.map((r) => ({ project: r.project, body: applySection(ctx, r) }));
  return finishComment(
    [multiProjectBody('Apply', sections), '### Apply Summary', applyCounts(results)],
    'apply',
  );
}
