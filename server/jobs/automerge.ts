// Atlantis's `automerge: true` (repo config): once every project the pull request changes has
// been applied, the server merges it. As in Atlantis, every plan must succeed before any is
// applied, so a pull request is never merged with a project that failed to plan, or was never
// planned, left behind. The merge names the head it checked, so a push in between makes GitHub
// refuse it (409) rather than merge unapplied code.

import { renderAutomerged, renderAutomergeFailed, renderAutomergeWaiting } from '../comments/index.js';
import { ForgeError, type MergeMethod, type PullInfo } from '../github/forge.js';
import { lockKey } from '../locks/locks.js';
import type { Project } from '../projects/index.js';
import { changedProjects } from './changed-projects.js';
import type { JobContext } from './context.js';
import { plansOfPull, type SavedPlan } from './plan-store.js';
import { refOf, reply } from './post.js';
import type { ProjectSetup } from './project-setup.js';
import type { CommandJob } from './types.js';

export function automergeOn(setup: ProjectSetup): boolean {
  return setup.config?.automerge === true;
}

/** The projects the pull request changes (as a plan naming none would pick them): listed once per apply. */
export async function automergeProjects(ctx: JobContext, job: CommandJob, pr: PullInfo, root: string, setup: ProjectSetup): Promise<Project[]> {
  return (await changedProjects(ctx, job.repo, job.pull, pr, root, setup))('command').projects;
}

function plansByKey(ctx: JobContext, job: CommandJob): Map<string, SavedPlan> {
  return new Map(plansOfPull(ctx.db, job.repo.fullName, job.pull).map((p) => [p.projectKey, p]));
}

/**
 * With automerge on: the changed projects without a successful, shown plan of the head. Apply
 * waits until there are none (Atlantis: "all plans must succeed").
 */
export function unplannedProjects(ctx: JobContext, job: CommandJob, pr: PullInfo, changed: readonly Project[]): Project[] {
  const plans = plansByKey(ctx, job);
  return changed.filter((project) => {
    const plan = plans.get(lockKey(job.repo.fullName, project));
    return plan === undefined || plan.headSha !== pr.headSha || !plan.shown;
  });
}

/**
 * After an apply in which every project succeeded: merges the pull request when every changed
 * project, and every other plan of the head, is applied or had no changes. Says what it did.
 */
export async function automergeIfDone(ctx: JobContext, job: CommandJob, pr: PullInfo, changed: readonly Project[], method: MergeMethod): Promise<void> {
  const { repo, pull } = job;
  const plans = plansByKey(ctx, job);
  const done = (plan: SavedPlan | undefined): boolean => plan !== undefined && plan.headSha === pr.headSha && plan.shown && (plan.appliedAt !== null || !plan.hasChanges);
  const changedKeys = new Set(changed.map((p) => lockKey(repo.fullName, p)));
  const waiting = [
    ...changed.filter((p) => !done(plans.get(lockKey(repo.fullName, p)))),
    // Any other plan of this head (e.g. `-d` of a project the pull request does not change).
    ...[...plans.values()].filter((plan) => !changedKeys.has(plan.projectKey) && plan.headSha === pr.headSha && !done(plan)).map((plan) => plan.project),
  ];
  if (waiting.length > 0) {
    await reply(ctx, repo, pull, renderAutomergeWaiting(waiting));
    return;
  }
  try {
    const merged = await ctx.forge.mergePull(refOf(repo), pull, { sha: pr.headSha, method });
    ctx.audit.append({ type: 'automerge', actor: job.actor, repo: repo.fullName, pull, fields: { result: 'merged', headSha: pr.headSha, method, mergeSha: merged.sha } });
    await reply(ctx, repo, pull, renderAutomerged(merged.sha, method));
  } catch (err: unknown) {
    if (!(err instanceof ForgeError)) throw err;
    ctx.log.warn({ err }, 'automerge failed');
    ctx.audit.append({ type: 'automerge', actor: job.actor, repo: repo.fullName, pull, fields: { result: 'failed', headSha: pr.headSha, method, status: err.status, reason: err.message } });
    await reply(ctx, repo, pull, renderAutomergeFailed(err.message, err.status === 409));
  }
}
