// The comment answering a plan: one section per project, Atlantis's layout.

import type { Project } from '../projects/types.js';
import {
  codeBlock,
  details,
  finishComment,
  inlineCode,
  isFolded,
  normalizeOutput,
  outputBlock,
} from './markdown.js';
import { multiProjectBody, singleProjectHeader } from './multi-project.js';
import { planOutputAsDiff, planSummaryLine } from './plan-output.js';
import { commandFor, lockUrl, pullCommand } from './project.js';
import type { ProjectPlanResult, RenderContext } from './types.js';

export const NO_CHANGES = 'No changes. Your infrastructure matches the configuration.';

/** Terraform output gets the diff view; kubectl diff output is already a unified diff. */
function displayedOutput(r: ProjectPlanResult): string {
  return r.project.kind === 'terraform'
    ? planOutputAsDiff(r.outcome.output)
    : normalizeOutput(r.outcome.output);
}

/**
 * Whether no-changes output holds more than Terraform's stock "No changes." paragraphs (e.g. a
 * warning) and so is worth showing folded.
 */
function saysMoreThanNoChanges(output: string): boolean {
  const stock = ['No changes.', 'Terraform has compared your real infrastructure'];
  return output.split(/\n\s*\n/).some((para) => {
    const text = para.trim();
    return text !== '' && !stock.some((start) => text.startsWith(start));
  });
}

function applyBullet(ctx: RenderContext, p: Project): string {
  return `* :arrow_forward: To **apply** this plan, comment: ${inlineCode(commandFor(ctx, 'apply', p))}`;
}

function deleteBullet(ctx: RenderContext, p: Project): string {
  const url = lockUrl(ctx, p);
  const link = url === undefined ? '' : `, or click [here](${url}) to release only this lock`;
  const unlock = inlineCode(pullCommand(ctx, 'unlock'));
  return `* :put_litter_in_its_place: To **delete** this plan and lock, comment ${unlock}${link}`;
}

export function replanBullet(ctx: RenderContext, p: Project): string {
  return `* :repeat: To **plan** this project again, comment: ${inlineCode(commandFor(ctx, 'plan', p))}`;
}

/** The body of one project's plan result, without the "Ran Plan for" header. */
export function planSection(ctx: RenderContext, r: ProjectPlanResult): string {
  const p = r.project;
  switch (r.outcome.result) {
    case 'error': {
      const output = normalizeOutput(r.outcome.output);
      return ['**Plan Error**', outputBlock(output, ''), replanBullet(ctx, p)].join('\n\n');
    }
    case 'no-changes': {
      const output = displayedOutput(r);
      const blocks = [NO_CHANGES];
      if (saysMoreThanNoChanges(output)) {
        blocks.push(details('Show Output', codeBlock(output, 'diff')));
      }
      blocks.push([deleteBullet(ctx, p), replanBullet(ctx, p)].join('\n'));
      return blocks.join('\n\n');
    }
    case 'changes': {
      const output = displayedOutput(r);
      const blocks = [outputBlock(output, 'diff')];
      const summary = planSummaryLine(r.outcome);
      if (summary !== null && (isFolded(output) || !output.includes(summary))) {
        blocks.push(summary);
      }
      blocks.push([applyBullet(ctx, p), deleteBullet(ctx, p), replanBullet(ctx, p)].join('\n'));
      return blocks.join('\n\n');
    }
  }
}

function pullFooter(ctx: RenderContext): string {
  const apply = inlineCode(pullCommand(ctx, 'apply'));
  const unlock = inlineCode(pullCommand(ctx, 'unlock'));
  return [
    `* :fast_forward: To **apply** all unapplied plans from this pull request, comment: ${apply}`,
    `* :put_litter_in_its_place: To **delete** all plans and locks from this pull request, comment: ${unlock}`,
  ].join('\n');
}

/** `3 projects, 1 with changes, 1 with no changes, 1 failed` */
export function planCounts(results: readonly ProjectPlanResult[]): string {
  let changes = 0;
  let noChanges = 0;
  let failed = 0;
  for (const r of results) {
    switch (r.outcome.result) {
      case 'changes':
        changes += 1;
        break;
      case 'no-changes':
        noChanges += 1;
        break;
      case 'error':
        failed += 1;
        break;
    }
  }
  const projects = results.length === 1 ? 'project' : 'projects';
  return `${results.length} ${projects}, ${changes} with changes, ${noChanges} with no changes, ${failed} failed`;
}

/**
 * One project: "Ran Plan for dir: … workspace: …", its section, then `---` and the
 * whole-pull-request commands. Several: a linked list, numbered sections, the commands and
 * the counts line last.
 */
export function renderPlan(ctx: RenderContext, results: readonly ProjectPlanResult[]): string {
  const anyPlanned = results.some((r) => r.outcome.result !== 'error');
  const [only] = results;
  if (results.length === 1 && only !== undefined) {
    const blocks = [singleProjectHeader('Plan', only.project), planSection(ctx, only)];
    if (anyPlanned) {
      blocks.push(`---\n${pullFooter(ctx)}`);
    }
    return finishComment(blocks, 'plan');
  }
  if (results.length === 0) {
    return finishComment(['Ran Plan for 0 projects.'], 'plan');
  }
  const sections = results.map((r) => ({ project: r.project, body: planSection(ctx, r) }));
  const blocks = [multiProjectBody('Plan', sections)];
  if (anyPlanned) {
    blocks.push(pullFooter(ctx));
  }
  blocks.push('### Plan Summary', planCounts(results));
  return finishComment(blocks, 'plan');
}
