// Replies and statuses, always masked and split to GitHub's comment limit.

import { splitComment } from '../comments/split.js';
import type { RepoRef, StatusState } from '../github/forge.js';
import type { JobContext } from './context.js';
import { JobInterruptedError } from './worker-pool.js';
import type { RepoInfo } from './types.js';

export function refOf(repo: RepoInfo): RepoRef {
  return { owner: repo.owner, name: repo.name };
}

export async function reply(ctx: JobContext, repo: RepoInfo, pull: number, body: string): Promise<void> {
  for (const part of splitComment(ctx.masker.mask(body))) {
    await ctx.forge.createComment(refOf(repo), pull, part);
  }
}

/** A run finished, but GitHub would not take its reply. */
export class ReplyNotPostedError extends Error {
  override readonly name = 'ReplyNotPostedError';
}

/**
 * Runs `post` (the replies of a run), then `settle` (its final status) whether or not the
 * replies went: a reply GitHub refuses (a secondary rate limit, an outage past the retries)
 * must not leave the pull request's status pending for good. `settle` is told the replies
 * failed; then a ReplyNotPostedError says what ran (`ran`, e.g. "The plan ran (1/1 projects
 * planned successfully)"), why the reply did not go, and `next`, so the job fails with it.
 */
export async function postThenSettle(
  run: { ran: string; next: string },
  post: () => Promise<void>,
  settle: (replyFailed: boolean) => Promise<void>,
): Promise<void> {
  try {
    await post();
  } catch (err: unknown) {
    await settle(true);
    const reason = err instanceof Error ? err.message : String(err);
    throw new ReplyNotPostedError(`${run.ran}, but its reply could not be posted: ${reason}\n${run.next}`, { cause: err });
  }
  await settle(false);
}

/** Added to a final status's description when the run's reply could not be posted. */
export const REPLY_FAILED_NOTE = ' The reply could not be posted.';

/**
 * Runs `body`, the part of a run after its pending status went out. If it throws, the status is
 * settled first, through `settle`, with why (a shutdown, or the failure's first line), so a
 * required check is never left pending by a run that stopped; then the error goes on.
 */
export async function settleIfThrown<T>(pending: Promise<void>, settle: (why: string) => Promise<void>, body: () => Promise<T>): Promise<T> {
  try {
    return await body();
  } catch (err: unknown) {
    await pending;
    const firstLine = (err instanceof Error ? err.message : String(err)).split('\n')[0] ?? '';
    await settle(err instanceof JobInterruptedError ? 'stopped by a server shutdown: plan again' : `failed: ${firstLine}`);
    throw err;
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
