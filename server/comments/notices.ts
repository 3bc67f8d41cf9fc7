// Short replies: stale or missing plans, errors, invalid commands, help, interrupted runs.

import type { Project } from '../projects/types.js';
import {
  capitalize,
  codeBlock,
  finishComment,
  inlineCode,
  normalizeOutput,
  outputBlock,
} from './markdown.js';
import { singleProjectHeader } from './multi-project.js';
import { commandFor, projectLabel, pullCommand } from './project.js';
import type { RenderContext } from './types.js';

/** The comment that plans `project` again, or the whole pull request when there is none. */
function planCommand(ctx: RenderContext, project: Project | null): string {
  return inlineCode(project === null ? pullCommand(ctx, 'plan') : commandFor(ctx, 'plan', project));
}

function applyHeader(project: Project | null): string {
  return project === null ? '' : singleProjectHeader('Apply', project);
}

/** The apply was refused because the plan no longer matches the pull request. */
export function renderStalePlan(ctx: RenderContext, project: Project | null, reason: string): string {
  return finishComment(
    [
      applyHeader(project),
      '**Apply Failed**: the plan is stale: run plan again.',
      `Reason: ${reason}`,
      `* :repeat: To **plan** ${project === null ? 'again' : 'this project again'}, ` +
        `comment: ${planCommand(ctx, project)}`,
    ],
    'stale-plan',
  );
}

/** The apply was refused because nothing was planned. */
export function renderNoPlan(ctx: RenderContext, project: Project | null): string {
  const what =
    project === null
      ? 'there are no plans to apply in this pull request.'
      : 'there is no plan to apply for this project.';
  return finishComment(
    [
      applyHeader(project),
      `**Apply Failed**: ${what}`,
      `* :repeat: To **plan** first, comment: ${planCommand(ctx, project)}`,
    ],
    'no-plan',
  );
}

/** `**Plan Error**` and the message in a code block (folded when long). */
export function renderError(_ctx: RenderContext, command: string, message: string): string {
  const title = `**${capitalize(command)} Error**`;
  return finishComment([title, outputBlock(normalizeOutput(message), '')], 'error');
}

/**
 * A comment addressed to us that we could not read: what was wrong (fenced, since it may
 * echo the commenter's text), then the help, which is markdown (`server/commands/help.ts`).
 */
export function renderInvalidCommand(_ctx: RenderContext, message: string, help: string): string {
  return finishComment(['**Invalid Command**', codeBlock(normalizeOutput(message)), help.trim()], 'invalid');
}

/** The answer to `tideline help`; the help text is markdown. */
export function renderHelp(_ctx: RenderContext, help: string): string {
  return finishComment([help.trim()], 'help');
}

/** The server restarted while this command ran; it did not finish and its lock stays. */
/** `jobPage`: the web UI page of the stopped job, where its output up to the stop is kept. */
export function renderInterrupted(ctx: RenderContext, command: string, project: Project | null, jobPage?: string): string {
  const target = project === null ? '' : ` of ${projectLabel(project)}`;
  const blocks = [
    `:warning: **${capitalize(command)} Interrupted**: the server restarted while this ${command}${target} was running, so it did not finish. Locks held by this pull request are kept.`,
  ];
  if (command === 'apply') {
    blocks.push(
      'An interrupted apply may have changed some resources before it stopped: plan again and review the new plan before applying it.',
      `* :repeat: To **plan** again, comment: ${planCommand(ctx, project)}`,
    );
  } else if (command === 'plan') {
    blocks.push(`* :repeat: To **plan** again, comment: ${planCommand(ctx, project)}`);
  } else {
    blocks.push(`To run it again, comment: ${inlineCode(`${ctx.prefix} ${command}`)}`);
  }
  if (jobPage !== undefined) blocks.push(`What it printed before it stopped: [its job page](${jobPage}).`);
  return finishComment(blocks, 'interrupted');
}

/**
 * A queued job of this pull request was stored in a form this server cannot read (written by
 * another Tideline version, or damaged), so it was dropped rather than tried at every start.
 */
export function renderUnreadableJob(ctx: RenderContext): string {
  return finishComment([
    ':x: **Job Not Run**: a job queued for this pull request was stored in a form this Tideline server cannot read (after an upgrade or downgrade), so it was dropped without running.',
    `* :repeat: To run it again, comment the command again, e.g. ${inlineCode(pullCommand(ctx, 'plan'))}`,
  ], 'error');
}
