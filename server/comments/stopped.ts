// What the next start tells a pull request about a plan or apply whose process stopped after
// part or all of its work was done (the job's work record, server/jobs/work-record.ts): what
// was applied is named as applied, and "plan again" is said only of what it did not apply.

import type { Project } from '../projects/types.js';
import { finishComment, inlineCode } from './markdown.js';
import { commandFor, projectLabel, pullCommand } from './project.js';
import type { RenderContext } from './types.js';

/** An apply's projects as the stop left them. */
export interface StoppedApply {
  applied: readonly Project[];
  failed: readonly Project[];
  /** Waiting or running when the server stopped: not known to be applied. */
  cutShort: readonly Project[];
}

const AUDIT = "The audit log records each project's result";

function jobPageLine(jobPage: string | undefined): string {
  return jobPage === undefined ? `${AUDIT}.` : `${AUDIT}; its output is on [its job page](${jobPage}).`;
}

function list(projects: readonly Project[]): string {
  return projects.map((p) => `* ${projectLabel(p)}`).join('\n');
}

/** The plan comment of each project, one bullet each. */
function replanList(ctx: RenderContext, projects: readonly Project[]): string {
  return projects.map((p) => `* ${projectLabel(p)}: ${inlineCode(commandFor(ctx, 'plan', p))}`).join('\n');
}

/**
 * Every project of the apply had finished (`summary`: "2/2 projects applied successfully"), and
 * the server stopped while it was telling the pull request: the reply may be missing.
 */
export function renderApplyNotReported(ctx: RenderContext, summary: string, apply: Omit<StoppedApply, 'cutShort'>, jobPage?: string): string {
  const blocks = [
    `:warning: **Apply Ran**: the apply ran (${summary}), but the server stopped before it finished posting the result, so its reply may be missing from this pull request. What was applied is applied: it does not need planning again.`,
  ];
  if (apply.applied.length > 0) blocks.push(`Applied:\n${list(apply.applied)}`);
  if (apply.failed.length > 0) blocks.push(`Failed to apply (to try again, plan it again and review the new plan):\n${replanList(ctx, apply.failed)}`);
  blocks.push(jobPageLine(jobPage));
  return finishComment(blocks, 'interrupted');
}

/** The server stopped while the apply ran, after some of its projects had finished. */
export function renderApplyCutShort(ctx: RenderContext, apply: StoppedApply, jobPage?: string): string {
  const total = apply.applied.length + apply.failed.length + apply.cutShort.length;
  const blocks = [
    `:warning: **Apply Interrupted**: the server stopped while this apply ran, after ${apply.applied.length}/${total} projects were applied. Locks held by this pull request are kept.`,
  ];
  if (apply.applied.length > 0) blocks.push(`Applied before the stop (what was applied is applied: these need no new plan):\n${list(apply.applied)}`);
  if (apply.failed.length > 0) blocks.push(`Failed to apply before the stop:\n${replanList(ctx, apply.failed)}`);
  blocks.push(
    `Cut short by the stop (it may have changed some of their resources before it stopped): plan them again and review the new plan before applying it:\n${replanList(ctx, apply.cutShort)}`,
  );
  blocks.push(jobPageLine(jobPage));
  return finishComment(blocks, 'interrupted');
}

/** The plan ran (`summary`), and the server stopped while it was posting its output. */
export function renderPlanNotReported(ctx: RenderContext, summary: string, jobPage?: string): string {
  const blocks = [
    `:warning: **Plan Not Posted**: the plan ran (${summary}), but the server stopped before it finished posting its output. Locks held by this pull request are kept.`,
    `* :repeat: To **plan** again and see its output before applying, comment: ${inlineCode(pullCommand(ctx, 'plan'))}`,
  ];
  if (jobPage !== undefined) blocks.push(`What it printed: [its job page](${jobPage}).`);
  return finishComment(blocks, 'interrupted');
}
