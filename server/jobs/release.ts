// Releasing a pull request's hold: on close or merge (a `release` job) and on `unlock`.

import { renderReleased } from '../comments/index.js';
import { projectOf, releasePull } from '../locks/locks.js';
import type { Project } from '../projects/types.js';
import { removePullCheckouts, tidyCache } from '../workspace/checkout.js';
import type { JobContext } from './context.js';
import { deletePlansOfPull } from './plan-store.js';
import { reply } from './post.js';
import type { RepoInfo } from './types.js';

export interface Released {
  projects: Project[];
  plans: number;
}

/** Drops the pull's locks and plans in one transaction; files are removed after it commits. */
export function releaseLocksAndPlans(ctx: JobContext, repo: RepoInfo, pull: number, actor: string, reason: string): Released {
  const released = ctx.db.transaction((): Released => {
    const locks = releasePull(ctx.db, ctx.audit, repo.fullName, pull, actor, reason);
    const plans = deletePlansOfPull(ctx.db, ctx.plansDir, repo.fullName, pull);
    return { projects: locks.map(projectOf), plans };
  })();
  return released;
}

export async function runUnlock(ctx: JobContext, repo: RepoInfo, pull: number, actor: string): Promise<void> {
  const released = releaseLocksAndPlans(ctx, repo, pull, actor, 'unlock command');
  ctx.log.info({ locks: released.projects.length, plans: released.plans }, 'pull unlocked by command');
  await reply(ctx, repo, pull, renderReleased(ctx.render, released.projects, 'unlock'));
}

/**
 * A closed pull (merged or not) gives everything back: locks, plans, working trees. Like
 * Atlantis, it replies only when something was held, so closing an untouched PR stays quiet.
 */
export async function runRelease(ctx: JobContext, repo: RepoInfo, pull: number, merged: boolean, actor: string): Promise<void> {
  const released = releaseLocksAndPlans(ctx, repo, pull, actor, merged ? 'pull request merged' : 'pull request closed');
  await removePullCheckouts(ctx.git, repo.owner, repo.name, pull);
  ctx.log.info({ locks: released.projects.length, plans: released.plans, merged }, 'pull closed: released');
  if (released.projects.length > 0 || released.plans > 0) {
    await reply(ctx, repo, pull, renderReleased(ctx.render, released.projects, merged ? 'merged' : 'closed'));
  }
  // Housekeeping after the reply: nobody waits on it, and a failure costs only disk space.
  try {
    await tidyCache(ctx.git, repo.owner, repo.name, pull);
  } catch (err: unknown) {
    ctx.log.warn({ err }, 'git cache not tidied: the objects of this pull request stay until a later gc');
  }
}
