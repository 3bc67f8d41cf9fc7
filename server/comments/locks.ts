// Comments about locks: a project held by another pull request, and locks released.

import type { Project } from '../projects/types.js';
import { finishComment, inlineCode } from './markdown.js';
import { commandFor, lockUrl, projectLabel, pullCommand } from './project.js';
import type { RenderContext } from './types.js';

export interface LockHolder {
  pull: number;
  /** Link to the holding pull request. */
  url?: string;
}

/** This project is locked by another pull request: say which, and how to get past it. */
export function renderLockConflict(ctx: RenderContext, project: Project, holder: LockHolder): string {
  const pull = holder.url === undefined ? `#${holder.pull}` : `[#${holder.pull}](${holder.url})`;
  const url = lockUrl(ctx, project);
  const inUi = url === undefined ? '' : `, or [release it here](${url})`;
  const unlock = inlineCode(pullCommand(ctx, 'unlock'));
  const plan = inlineCode(commandFor(ctx, 'plan', project));
  return finishComment(
    [
      `:lock: **Locked**: ${projectLabel(project)} is locked by pull request ${pull}, which has an unapplied plan for it.`,
      `To continue, apply that plan and merge ${pull}, or comment ${unlock} on ${pull} to discard its plans and locks${inUi}.`,
      `Once the lock is released, comment ${plan} here to plan again.`,
    ],
    'lock',
  );
}

const LEAD: Readonly<Record<'closed' | 'merged' | 'unlock', string>> = {
  closed: 'This pull request was closed.',
  merged: 'This pull request was merged.',
  unlock: '',
};

/** The locks (and plans) a pull request held and no longer holds. */
export function renderReleased(
  ctx: RenderContext,
  released: readonly Project[],
  why: 'closed' | 'merged' | 'unlock',
): string {
  const lead = LEAD[why];
  if (released.length === 0) {
    const nothing = 'There was nothing to release: no locks were held by this pull request.';
    return finishComment([lead === '' ? nothing : `${lead} ${nothing}`], 'released');
  }
  const count = released.length === 1 ? '1 project' : `${released.length} projects`;
  const sentence = `Released the locks and deleted the plans of ${count}:`;
  const blocks = [
    lead === '' ? sentence : `${lead} ${sentence}`,
    released.map((p) => `- ${projectLabel(p)}`).join('\n'),
  ];
  if (why === 'unlock') {
    blocks.push(`To plan again, comment ${inlineCode(pullCommand(ctx, 'plan'))}.`);
  }
  return finishComment(blocks, 'released');
}
