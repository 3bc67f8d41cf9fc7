// Replies and statuses, always masked and split to GitHub's comment limit.

import { splitComment } from '../comments/split.js';
import type { RepoRef, StatusState } from '../github/forge.js';
import type { JobContext } from './context.js';
import type { GitContext } from '../workspace/git.js';
import { forgetOpenStatus, recordOpenStatus } from './open-statuses.js';
import { partsPosted, recordPartsPosted } from './queue.js';
import { JobInterruptedError } from './worker-pool.js';
import type { InterruptedStatus, RepoInfo } from './types.js';

export function refOf(repo: RepoInfo): RepoRef {
  return { owner: repo.owner, name: repo.name };
}

/** Git for one job on `repo`: the repository's clone token, and the job's shutdown signal. */
export async function jobGit(ctx: JobContext, repo: RepoInfo): Promise<GitContext> {
  const token = await ctx.forge.cloneToken(refOf(repo));
  return { ...ctx.git, token, ...(ctx.signal === undefined ? {} : { signal: ctx.signal }) };
}

export async function reply(ctx: JobContext, repo: RepoInfo, pull: number, body: string): Promise<void> {
  for (const part of splitComment(ctx.masker.mask(body))) {
    await ctx.forge.createComment(refOf(repo), pull, part);
  }
}

/**
 * reply() for a reply job: each part GitHub takes is recorded, so the job, run again after a
 * stop (queue.ts redoneAfterStop), posts only the parts it had not posted.
 */
export async function replyOnce(ctx: JobContext, jobId: number, repo: RepoInfo, pull: number, body: string): Promise<void> {
  const parts = splitComment(ctx.masker.mask(body));
  for (let i = partsPosted(ctx.db, jobId); i < parts.length; i += 1) {
    await ctx.forge.createComment(refOf(repo), pull, parts[i] ?? '');
    recordPartsPosted(ctx.db, jobId, i + 1);
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

/** A pending status on its way, and how to settle it. */
export interface PendingStatus {
  /** Settles once the pending status was sent (or failed to be). */
  sent: Promise<void>;
  /** Sets the final status, after the pending one, and forgets the open status. */
  settle(state: StatusState, description: string): Promise<void>;
}

/**
 * Sends a pending status for the job running in `ctx`, recorded first as open (open-statuses.ts)
 * so that a process killed before `settle` leaves the next start something to settle.
 */
export function sendPending(ctx: JobContext, repo: RepoInfo, sha: string, context: string, description: string): PendingStatus {
  const { jobId } = ctx;
  if (jobId !== undefined) recordOpenStatus(ctx.db, { jobId, repo: repo.fullName, sha, context });
  const sent = setStatus(ctx, repo, sha, context, 'pending', description);
  return {
    sent,
    async settle(state, finalDescription) {
      await sent;
      await setStatus(ctx, repo, sha, context, state, finalDescription);
      if (jobId !== undefined) forgetOpenStatus(ctx.db, jobId, context);
    },
  };
}

/** Said by the status a restart settles: the run it belonged to stopped with the process. */
export function interruptedDescription(context: string): string {
  const command = context.slice(context.indexOf('/') + 1);
  return `${command} interrupted: the Tideline server stopped while it ran. Plan again.`;
}

/**
 * After a restart: sets `status` to its state (error unless the job's record says how its work
 * came out) when its newest state on GitHub is still pending. A run queued before the stop may
 * have planned the same commit since; its result stands.
 */
export async function settleInterrupted(ctx: Pick<JobContext, 'forge' | 'log' | 'masker'>, repo: RepoInfo, status: InterruptedStatus): Promise<void> {
  try {
    const latest = await ctx.forge.latestStatus(refOf(repo), status.sha, status.context);
    if (latest?.state !== 'pending') return;
    const link = status.targetUrl === undefined ? {} : { targetUrl: status.targetUrl };
    await ctx.forge.setStatus(refOf(repo), status.sha, { context: status.context, state: status.state ?? 'error', description: ctx.masker.mask(status.description), ...link });
  } catch (err: unknown) {
    ctx.log.warn({ err, repo: repo.fullName, sha: status.sha, context: status.context }, 'could not settle the status of an interrupted job');
  }
}

/** The web UI page of the job running in `ctx`, or undefined without TIDELINE_URL. */
export function jobUrl(ctx: Pick<JobContext, 'render' | 'jobId'>): string | undefined {
  const base = ctx.render.serverUrl;
  return base === undefined || base === '' || ctx.jobId === undefined ? undefined : `${base}/jobs/${ctx.jobId}`;
}

/**
 * A status that cannot be set is logged, not fatal: the comment still tells the story. Its
 * Details link is the page of the job setting it (jobUrl), when the server's URL is known.
 */
export async function setStatus(
  ctx: JobContext,
  repo: RepoInfo,
  sha: string,
  context: string,
  state: StatusState,
  description: string,
): Promise<void> {
  const targetUrl = jobUrl(ctx);
  try {
    await ctx.forge.setStatus(refOf(repo), sha, { context, state, description: ctx.masker.mask(description), ...(targetUrl === undefined ? {} : { targetUrl }) });
  } catch (err: unknown) {
    ctx.log.warn({ err, repo: repo.fullName, sha, context }, 'could not set commit status');
  }
}
