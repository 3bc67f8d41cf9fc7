// `plan`: check out the PR head, lock each project, run the plan, save the plan file keyed by
// the head SHA, reply in Atlantis's shape and set `tideline/plan`.

import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { PlanOutcome } from '../../runners/types.js';
import { renderError, renderLockConflict, renderPlan, type ProjectPlanResult } from '../comments/index.js';
import type { PullInfo } from '../github/forge.js';
import { tryLock } from '../locks/locks.js';
import { lockKey } from '../locks/locks.js';
import { resolveProjects } from '../projects/resolve.js';
import type { Project } from '../projects/types.js';
import { checkoutPull } from '../workspace/checkout.js';
import { refuseOutsidePaths } from '../workspace/extra-args.js';
import { STATUS_CONTEXT, type JobContext } from './context.js';
import { sha256, sha256File } from './digest.js';
import { deletePlan, planFilePath, savePlan } from './plan-store.js';
import { refOf, reply, setStatus } from './post.js';
import type { CommandJob } from './types.js';

export async function runPlan(ctx: JobContext, job: CommandJob, pr: PullInfo): Promise<void> {
  const { repo, pull, command } = job;
  const token = await ctx.forge.cloneToken(refOf(repo));
  const git = { ...ctx.git, token };
  const workspace = command.selector.workspace ?? 'default';
  const checkout = await checkoutPull(git, {
    owner: repo.owner,
    name: repo.name,
    cloneUrl: repo.cloneUrl,
    pull,
    workspace,
    headSha: pr.headSha,
  });
  const resolved = await resolveProjects(checkout, command.selector, () => ctx.forge.listPullFiles(refOf(repo), pull));
  if (!resolved.ok) {
    await reply(ctx, repo, pull, renderError(ctx.render, 'plan', resolved.message));
    await setStatus(ctx, repo, pr.headSha, STATUS_CONTEXT.plan, 'failure', 'plan failed: no project to plan');
    return;
  }
  if (resolved.projects.length === 0) {
    await reply(ctx, repo, pull, renderError(ctx.render, 'plan', 'this pull request changes no Terraform files, so there is nothing to plan: name a directory with `-d dir`'));
    return;
  }

  // Sent while terraform starts; awaited before the final status so the two cannot cross.
  const pending = setStatus(ctx, repo, pr.headSha, STATUS_CONTEXT.plan, 'pending', `planning ${count(resolved.projects.length)}…`);
  const results: ProjectPlanResult[] = [];
  let conflicts = 0;
  for (const project of resolved.projects) {
    const lock = tryLock(ctx.db, ctx.audit, { repo: repo.fullName, project, pull, pullUrl: pr.htmlUrl, user: job.actor });
    if (!lock.acquired) {
      conflicts += 1;
      ctx.log.warn({ project: lock.key, holder: lock.holder.pull }, 'lock held by another pull');
      const holder = lock.holder.pullUrl === '' ? { pull: lock.holder.pull } : { pull: lock.holder.pull, url: lock.holder.pullUrl };
      await reply(ctx, repo, pull, renderLockConflict(ctx.render, project, holder));
      continue;
    }
    const checkoutDir = project.workspace === workspace ? checkout : await checkoutFor(ctx, job, pr, project, token);
    results.push({ project, outcome: await planProject(ctx, job, pr, project, checkoutDir) });
  }

  if (results.length > 0) await reply(ctx, repo, pull, renderPlan(ctx.render, results));
  await pending;
  const failed = results.filter((r) => r.outcome.result === 'error').length + conflicts;
  const total = resolved.projects.length;
  await setStatus(
    ctx,
    repo,
    pr.headSha,
    STATUS_CONTEXT.plan,
    failed === 0 ? 'success' : 'failure',
    failed === 0 ? `${total - failed}/${total} projects planned successfully.` : `${failed}/${total} projects failed to plan.`,
  );
}

async function planProject(
  ctx: JobContext,
  job: CommandJob,
  pr: PullInfo,
  project: Project,
  checkoutDir: string,
): Promise<PlanOutcome> {
  const repo = job.repo.fullName;
  const planFile = planFilePath(ctx.plansDir, repo, job.pull, project, pr.headSha);
  mkdirSync(dirname(planFile), { recursive: true });
  const log = ctx.log.child({ project: lockKey(repo, project), sha: pr.headSha });
  const refusal = refuseOutsidePaths(checkoutDir, join(checkoutDir, project.dir), job.command.extraArgs);
  if (refusal !== null) {
    deletePlan(ctx.db, repo, job.pull, lockKey(repo, project));
    return { result: 'error', summary: null, output: refusal, exitCode: -1, durationMs: 0 };
  }
  log.info('plan started');
  const outcome = await ctx.terraform.plan(
    { projectDir: join(checkoutDir, project.dir), workspace: project.workspace, extraArgs: job.command.extraArgs },
    planFile,
  );
  log.info({ result: outcome.result, summary: outcome.summary, ms: outcome.durationMs }, 'plan finished');
  const planned = outcome.result !== 'error' && outcome.planFile !== undefined ? outcome.planFile : null;
  const record = {
    type: 'plan' as const,
    actor: job.actor,
    repo,
    pull: job.pull,
    project: lockKey(repo, project),
    fields: {
      dir: project.dir,
      workspace: project.workspace,
      name: project.name ?? null,
      kind: project.kind,
      headSha: pr.headSha,
      result: outcome.result,
      summary: outcome.summary,
      exitCode: outcome.exitCode,
      durationMs: Math.round(outcome.durationMs),
      planSha256: planned === null ? null : sha256File(planned),
      outputSha256: sha256(outcome.output),
    },
  };
  ctx.db.transaction(() => {
    if (planned === null) {
      deletePlan(ctx.db, repo, job.pull, lockKey(repo, project));
    } else {
      savePlan(ctx.db, { repo, pull: job.pull, project, headSha: pr.headSha, planFile: planned, summary: outcome.summary, hasChanges: outcome.result === 'changes' });
    }
    ctx.audit.append(record);
  })();
  return outcome;
}

async function checkoutFor(ctx: JobContext, job: CommandJob, pr: PullInfo, project: Project, token: string | null): Promise<string> {
  return checkoutPull(
    { ...ctx.git, token },
    { owner: job.repo.owner, name: job.repo.name, cloneUrl: job.repo.cloneUrl, pull: job.pull, workspace: project.workspace, headSha: pr.headSha },
  );
}

function count(n: number): string {
  return n === 1 ? '1 project' : `${n} projects`;
}

