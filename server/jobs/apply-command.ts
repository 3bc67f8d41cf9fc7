// `apply`: apply exactly the saved plan files of the PR's current head. A plan made from an
// older head is stale and nothing is applied; the commenter is told to plan again.

import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { ProjectSelector } from '../commands/types.js';
import { renderApply, renderError, renderNoPlan, renderStalePlan, type ProjectApplyResult } from '../comments/index.js';
import type { PullInfo } from '../github/forge.js';
import { getLock } from '../locks/locks.js';
import { checkoutPull } from '../workspace/checkout.js';
import { refuseOutsidePaths } from '../workspace/extra-args.js';
import { STATUS_CONTEXT, type JobContext } from './context.js';
import { sha256, sha256File } from './digest.js';
import { markApplied, plansOfPull, type SavedPlan } from './plan-store.js';
import { refOf, reply, setStatus } from './post.js';
import type { CommandJob } from './types.js';

export async function runApply(ctx: JobContext, job: CommandJob, pr: PullInfo): Promise<void> {
  const { repo, pull, command } = job;
  const selected = plansOfPull(ctx.db, repo.fullName, pull).filter((p) => matches(p, command.selector));
  const pending = selected.filter((p) => p.appliedAt === null);
  if (pending.length === 0) {
    const only = selected[0] ?? null;
    await reply(ctx, repo, pull, renderNoPlan(ctx.render, command.selector.dir === undefined && command.selector.project === undefined ? null : (only?.project ?? selectorProject(command.selector))));
    return;
  }
  const stale = pending.filter((p) => p.headSha !== pr.headSha);
  if (stale.length > 0) {
    const first = stale[0] as SavedPlan;
    const reason = `the plan was made from ${first.headSha.slice(0, 7)} but the pull request's head is now ${pr.headSha.slice(0, 7)}: the plan is stale, run plan again`;
    await reply(ctx, repo, pull, renderStalePlan(ctx.render, stale.length === 1 ? first.project : null, reason));
    await setStatus(ctx, repo, pr.headSha, STATUS_CONTEXT.apply, 'failure', 'apply refused: the plan is stale, run plan again');
    return;
  }

  const token = await ctx.forge.cloneToken(refOf(repo));
  await setStatus(ctx, repo, pr.headSha, STATUS_CONTEXT.apply, 'pending', `applying ${pending.length} project(s)…`);
  const results: ProjectApplyResult[] = [];
  for (const plan of pending) {
    const lock = getLock(ctx.db, plan.projectKey);
    if (lock === null || lock.pull !== pull) {
      const why = lock === null ? 'its lock was released' : `its lock is now held by #${lock.pull}`;
      await reply(ctx, repo, pull, renderError(ctx.render, 'apply', `dir \`${plan.project.dir}\` workspace \`${plan.project.workspace}\` was not applied: ${why}. Run plan again.`));
      continue;
    }
    if (!existsSync(plan.planFile)) {
      await reply(ctx, repo, pull, renderStalePlan(ctx.render, plan.project, 'the saved plan file is gone: run plan again'));
      continue;
    }
    const checkout = await checkoutPull(
      { ...ctx.git, token },
      { owner: repo.owner, name: repo.name, cloneUrl: repo.cloneUrl, pull, workspace: plan.project.workspace, headSha: pr.headSha },
      { reuse: true },
    );
    const refusal = refuseOutsidePaths(checkout, join(checkout, plan.project.dir), command.extraArgs);
    if (refusal !== null) {
      results.push({ project: plan.project, outcome: { result: 'error', output: refusal, exitCode: -1, durationMs: 0 } });
      continue;
    }
    const planSha = sha256File(plan.planFile);
    ctx.log.info({ project: plan.projectKey, sha: pr.headSha }, 'apply started');
    const outcome = await ctx.terraform.apply(
      { projectDir: join(checkout, plan.project.dir), workspace: plan.project.workspace, extraArgs: command.extraArgs },
      plan.planFile,
    );
    ctx.log.info({ project: plan.projectKey, result: outcome.result, ms: outcome.durationMs }, 'apply finished');
    ctx.db.transaction(() => {
      if (outcome.result === 'applied') markApplied(ctx.db, repo.fullName, pull, plan.projectKey);
      ctx.audit.append({
        type: 'apply',
        actor: job.actor,
        repo: repo.fullName,
        pull,
        project: plan.projectKey,
        fields: {
          dir: plan.project.dir,
          workspace: plan.project.workspace,
          name: plan.project.name ?? null,
          kind: plan.project.kind,
          headSha: pr.headSha,
          result: outcome.result,
          exitCode: outcome.exitCode,
          durationMs: Math.round(outcome.durationMs),
          planSha256: planSha,
          outputSha256: sha256(outcome.output),
        },
      });
    })();
    results.push({ project: plan.project, outcome });
  }
  if (results.length === 0) return;
  await reply(ctx, repo, pull, renderApply(ctx.render, results));
  const failed = results.filter((r) => r.outcome.result === 'error').length;
  await setStatus(
    ctx,
    repo,
    pr.headSha,
    STATUS_CONTEXT.apply,
    failed === 0 ? 'success' : 'failure',
    failed === 0 ? `${results.length}/${results.length} projects applied successfully.` : `${failed}/${results.length} projects failed to apply.`,
  );
}

function matches(plan: SavedPlan, sel: ProjectSelector): boolean {
  if (sel.project !== undefined) return plan.project.name === sel.project;
  if (sel.dir === undefined && sel.workspace === undefined) return true;
  // As in plan: `-d` alone means workspace `default`, `-w` alone means the root dir.
  return plan.project.dir === (sel.dir ?? '.') && plan.project.workspace === (sel.workspace ?? 'default');
}

function selectorProject(sel: ProjectSelector): { dir: string; workspace: string; kind: 'terraform' } {
  return { dir: sel.dir ?? '.', workspace: sel.workspace ?? 'default', kind: 'terraform' };
}
