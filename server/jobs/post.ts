// Replies and statuses, always masked and split to GitHub's comment limit.

import { splitComment } from '../comments/split.js';
import type { RepoRef, StatusState } from '../github/forge.js';
import type { JobContext } from './context.js';
import type { RepoInfo } from './types.js';

export function refOf(repo: RepoInfo): RepoRef {
  return { owner: repo.owner, name: repo.name };
}

export async function reply(ctx: JobContext, repo: RepoInfo, pull: number, body: string): Promise<void> {
  for (const part of splitComment(ctx.masker.mask(body))) {
    await ctx.forge.createComment(refOf(repo), pull, part);
  }
}

/** A status that cannot be set is logged, not fatal: the comment still tells the story. */
export async function setStatus(
  ctx: JobContext,
  repo: RepoInfo,
  sha: string,
  context: string,
  state: StatusState,
  description: string,
): Promise<void> {
  try {
    await ctx.forge.setStatus(refOf(repo), sha, { context, state, description: ctx.masker.mask(description) });
  } catch (err: unknown) {
    ctx.log.warn({ err, repo: repo.fullName, sha, context }, 'could not set commit status');
  }
}
