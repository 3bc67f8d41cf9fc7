// `apply`: apply exactly the saved plans of the PR's current head, group by group. A plan of
// an older head is stale and nothing is applied. The commenter needs write access, each
// project's apply requirements (approved, mergeable, undiverged) must hold, and the projects it
// `depends_on` must be applied first (as in Atlantis).

import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { ApplyOutcome } from '../../runners/types.js';
import { runApplyWorkflow } from '../../runners/workflow.js';
import type { ProjectSelector } from '../commands/types.js';
import { automergeWaitMessage, projectLabel, renderApply, renderApplyRefused, renderConfigProblems, renderNoPlan, renderStalePlan, type ProjectApplyResult } from '../comments/index.js';
import type { PullInfo } from '../github/forge.js';
import { getLock, lockKey } from '../locks/locks.js';
import { executionWaves, type Project } from '../projects/index.js';
import { checkoutPull } from '../workspace/checkout.js';
import type { GitContext } from '../workspace/git.js';
import { refuseOutsidePaths } from '../workspace/extra-args.js';
import { automergeIfDone, automergeOn, automergeProjects, unplannedProjects } from './automerge.js';
import { STATUS_CONTEXT, type JobContext } from './context.js';
import { sha256, sha256File } from './digest.js';
import { markApplied, plansOfPull, type SavedPlan } from './plan-store.js';
import { postThenSettle, jobGit, refOf, reply, REPLY_FAILED_NOTE, sendPending, setStatus, settleIfThrown } from './post.js';
import { applyKubernetes } from './kube-project.js';
import { loadProjectSetup, stageSteps, type ProjectSetup } from './project-setup.js';
import { checkPermission, checkRequirements } from './requirements.js';
import { liveOutput, mapByProjectDir, stepVariables } from './run-project.js';
import { afterWork, JobInterruptedError } from './worker-pool.js';
import { stoppedNotice } from './stopped-notice.js';
import { cutShort, readWorkRecord, recordApplying, recordProjectResult, recordReplied, recordWorkEnded, type ProjectResult } from './work-record.js';
import type { CommandJob } from './types.js';

export async function runApply(ctx: JobContext, job: CommandJob, pr: PullInfo): Promise<void> {
  const { repo, pull, command } = job;
  const selected = plansOfPull(ctx.db, repo.fullName, pull).filter((p) => matches(p, command.selector));
  const pending = selected.filter((p) => p.appliedAt === null);
  if (pending.length === 0) {
    const named = command.selector.dir !== undefined || command.selector.project !== undefined;
    await reply(ctx, repo, pull, renderNoPlan(ctx.render, named ? (selected[0]?.project ?? selectorProject(command.selector)) : null));
    return;
  }
  const stale = pending.filter((p) => p.headSha !== pr.headSha);
  if (stale.length > 0) {
    const first = stale[0] as SavedPlan;
    const reason = `the plan was made from ${first.headSha.slice(0, 7)} but the pull request's head is now ${pr.headSha.slice(0, 7)}: the plan is stale, run plan again`;
    ctx.audit.append({ type: 'command.refused', actor: job.actor, repo: repo.fullName, pull, fields: { command: 'apply', reason: 'the plan is stale', planHeadSha: first.headSha, headSha: pr.headSha } });
    await reply(ctx, repo, pull, renderStalePlan(ctx.render, stale.length === 1 ? first.project : null, reason));
    await setStatus(ctx, repo, pr.headSha, STATUS_CONTEXT.apply, 'failure', 'apply refused: the plan is stale, run plan again');
    return;
  }
  // Saved, but its reply never reached the PR (a shutdown, a crash, a reply GitHub refused):
  // nobody has reviewed it, so it is not applied.
  const unseen = pending.filter((p) => !p.shown);
  if (unseen.length > 0) {
    const first = unseen[0] as SavedPlan;
    const reason = 'the plan was made but never posted to this pull request (the server stopped, or GitHub refused the reply), so nobody has reviewed it: run plan again';
    ctx.audit.append({ type: 'command.refused', actor: job.actor, repo: repo.fullName, pull, fields: { command: 'apply', reason: 'the plan was never posted', headSha: pr.headSha } });
    await reply(ctx, repo, pull, renderStalePlan(ctx.render, unseen.length === 1 ? first.project : null, reason));
    await setStatus(ctx, repo, pr.headSha, STATUS_CONTEXT.apply, 'failure', 'apply refused: the plan was never shown, run plan again');
    return;
  }

  const denied = await checkPermission(ctx, repo, job.actor);
  if (denied !== null) {
    ctx.audit.append({ type: 'permission.refused', actor: job.actor, repo: repo.fullName, pull, fields: { command: 'apply', rule: denied.rule, message: denied.message, headSha: pr.headSha } });
    await reply(ctx, repo, pull, renderApplyRefused(ctx.render, [], [denied]));
    await setStatus(ctx, repo, pr.headSha, STATUS_CONTEXT.apply, 'failure', `apply refused: @${job.actor} lacks write access`);
    return;
  }

  const git = await jobGit(ctx, repo);
  const root = await checkoutPull(git, { owner: repo.owner, name: repo.name, cloneUrl: repo.cloneUrl, pull, workspace: 'default', headSha: pr.headSha }, { reuse: true });
  const loaded = loadProjectSetup(ctx, repo.fullName, pr.baseRef, root);
  if (!loaded.ok) {
    // As plan does: the server's rules may have changed since the plan, and the refusal of this
    // apply is a refused configuration the audit log must show, not only the PR.
    ctx.audit.append({ type: 'config.error', actor: job.actor, repo: repo.fullName, pull, fields: { scope: 'repo', command: 'apply', file: loaded.file, headSha: pr.headSha, problems: loaded.problems } });
    await reply(ctx, repo, pull, renderConfigProblems(ctx.render, loaded.file, loaded.problems));
    return;
  }
  // --auto-merge-disabled: this apply merges nothing, so it need not wait for every plan.
  const automerge = automergeOn(loaded.setup) && command.autoMerge?.disabled !== true;
  const changed = automerge ? await automergeProjects(ctx, job, pr, root, loaded.setup) : [];
  if (automerge) {
    // Atlantis: with automerge, all plans must succeed before any is applied.
    const unplanned = unplannedProjects(ctx, job, pr, changed);
    if (unplanned.length > 0) {
      const message = automergeWaitMessage(unplanned, pr.headSha);
      ctx.audit.append({ type: 'requirement.refused', actor: job.actor, repo: repo.fullName, pull, fields: { requirement: 'automerge', message, headSha: pr.headSha } });
      await reply(ctx, repo, pull, renderApplyRefused(ctx.render, [], [{ rule: 'automerge', message }]));
      await setStatus(ctx, repo, pr.headSha, STATUS_CONTEXT.apply, 'failure', 'apply refused: automerge needs every project planned first');
      return;
    }
  }

  // Requirements are checked per project, all before anything is applied.
  const ready: SavedPlan[] = [];
  const refusedAll: { project: Project; message: string }[] = [];
  for (const plan of pending) {
    const refusals = await checkRequirements(ctx, { repo, pr, requirements: plan.project.applyRequirements ?? [], git, checkoutDir: root });
    if (refusals.length === 0) {
      ready.push(plan);
      continue;
    }
    for (const r of refusals) {
      ctx.audit.append({ type: 'requirement.refused', actor: job.actor, repo: repo.fullName, pull, project: plan.projectKey, fields: { requirement: r.rule, message: r.message, headSha: pr.headSha } });
    }
    refusedAll.push({ project: plan.project, message: refusals.map((r) => `\`${r.rule}\`: ${r.message}`).join('; ') });
  }
  if (refusedAll.length > 0) {
    await reply(ctx, repo, pull, renderApplyRefused(ctx.render, refusedAll.map((r) => r.project), refusedAll.map((r) => ({ rule: 'requirements', message: `${projectLabel(r.project)}: ${r.message}` }))));
    await setStatus(ctx, repo, pr.headSha, STATUS_CONTEXT.apply, 'failure', 'apply refused: apply requirements not met');
    return;
  }

  // Kept on the job as it goes, so a restart after a kill can say which projects were applied.
  recordApplying(ctx, ready.map((p) => ({ key: p.projectKey, project: p.project })));
  const status = sendPending(ctx, repo, pr.headSha, STATUS_CONTEXT.apply, `applying ${ready.length} project(s)…`);
  // An apply that stops after the pending status settles it as an error: nothing is left pending.
  const results = await settleIfThrown(
    status.sent,
    (why) => status.settle('error', cutShortStatus(ctx) ?? `apply ${why}`),
    async () => {
      const byKey = new Map(ready.map((p) => [p.projectKey, p]));
      const results: ProjectApplyResult[] = [];
      let aborted = false;
      for (const wave of executionWaves(ready.map((p) => p.project))) {
        if (aborted) {
          for (const project of wave) {
            recordProjectResult(ctx, lockKey(repo.fullName, project), 'failed');
            results.push({ project, outcome: skipped('not applied: an earlier execution group failed and abort_on_execution_order_fail is set') });
          }
          continue;
        }
        const done = await mapByProjectDir(wave, ctx.parallelism, async (project) => {
          const plan = byKey.get(lockKey(repo.fullName, project));
          if (plan === undefined) {
            recordProjectResult(ctx, lockKey(repo.fullName, project), 'failed');
            return { project, outcome: skipped('not applied: its saved plan could not be matched') };
          }
          return { project, outcome: await applyOne(ctx, job, pr, git, loaded.setup, plan) };
        });
        results.push(...done);
        if (loaded.setup.config?.abortOnExecutionOrderFail === true && done.some((r) => r.outcome.result === 'error')) aborted = true;
      }
      // Stopped by shutdown, unless it came after every project had its result: then nothing
      // was cut short, and the apply is told as it ran, by its own reply and final status.
      if (ctx.signal?.aborted === true && !everyProjectFinished(ctx)) throw new JobInterruptedError('apply stopped by shutdown');
      return results;
    },
  );
  const failed = results.filter((r) => r.outcome.result === 'error').length;
  const summary = failed === 0 ? `${results.length}/${results.length} projects applied successfully` : `${failed}/${results.length} projects failed to apply`;
  // The apply ran to its end: what follows tells the PR, and a shutdown from here on (the
  // timeout running out) cuts nothing short. What was applied is never called interrupted,
  // not even by the next start after a kill: the record says the work ended, before any reply.
  recordWorkEnded(ctx, summary, failed === 0 ? 'success' : 'failure');
  await afterWork(async () => {
    await postThenSettle(
      // Not "apply again": what was applied is applied; the audit log and job page record it.
      { ran: `The apply ran (${summary})`, next: "Its output stays on the job's page of the Tideline web UI for 10 minutes; the audit log records each project's result." },
      async () => {
        await reply(ctx, repo, pull, renderApply(ctx.render, results));
        recordReplied(ctx);
      },
      (replyFailed) => status.settle(failed === 0 ? 'success' : 'failure', replyFailed ? `${summary}.${REPLY_FAILED_NOTE}` : `${summary}.`),
    );
    if (failed === 0 && automerge) await automergeIfDone(ctx, job, pr, changed, command.autoMerge?.method ?? 'merge');
  });
}

async function applyOne(ctx: JobContext, job: CommandJob, pr: PullInfo, git: GitContext, setup: ProjectSetup, plan: SavedPlan): Promise<ApplyOutcome> {
  const { repo, pull } = job;
  // Not applied, and said so in the reply: the record says it did not wait on the stop.
  const skip = (message: string): ApplyOutcome => {
    recordProjectResult(ctx, plan.projectKey, 'failed');
    return skipped(message);
  };
  const lock = getLock(ctx.db, plan.projectKey);
  if (lock === null || lock.pull !== pull) {
    return skip(`not applied: ${lock === null ? 'its lock was released' : `its lock is now held by #${lock.pull}`}; run plan again`);
  }
  if (!existsSync(plan.planFile)) return skip('the saved plan file is gone: run plan again');
  const waiting = unappliedDependencies(ctx, job, plan.project);
  if (waiting.length > 0) {
    const names = waiting.map((name) => `\`${name}\``).join(', ');
    const message = `not applied: it depends on ${names} (\`depends_on\`), planned with changes in this pull request and not applied yet; apply ${names} first`;
    ctx.audit.append({ type: 'requirement.refused', actor: job.actor, repo: repo.fullName, pull, project: plan.projectKey, fields: { requirement: 'depends_on', message, headSha: pr.headSha } });
    return skip(message);
  }
  const tree = await checkoutPull(git, { owner: repo.owner, name: repo.name, cloneUrl: repo.cloneUrl, pull, workspace: plan.project.workspace, headSha: pr.headSha }, { reuse: true });
  const projectDir = join(tree, plan.project.dir);
  const refusal = refuseOutsidePaths(tree, projectDir, job.command.extraArgs);
  if (refusal !== null) return skip(refusal);

  const planSha = sha256File(plan.planFile);
  ctx.log.info({ project: plan.projectKey, sha: pr.headSha }, 'apply started');
  const outcome =
    plan.project.kind === 'kubernetes'
      ? await applyKubernetes(ctx, repo.fullName, pull, plan.project, tree, plan.planFile, job.command.extraArgs)
      : await runApplyWorkflow(ctx.terraform, ctx.exec, stageSteps(ctx, setup, plan.project, 'apply'), {
          projectDir,
          workspace: plan.project.workspace,
          extraArgs: job.command.extraArgs,
          planFile: plan.planFile,
          variables: stepVariables(job, pr, plan.project, tree, plan.planFile),
          ...liveOutput(ctx, plan.project),
          ...(ctx.signal === undefined ? {} : { signal: ctx.signal }),
        });
  ctx.log.info({ project: plan.projectKey, result: outcome.result, ms: outcome.durationMs }, 'apply finished');
  if (outcome.result === 'error') ctx.metrics.applyFailed(plan.project.kind);
  ctx.db.transaction(() => {
    if (outcome.result === 'applied') markApplied(ctx.db, repo.fullName, pull, plan.projectKey);
    recordProjectResult(ctx, plan.projectKey, projectResult(outcome, ctx.signal));
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
        ...(outcome.applied === undefined ? {} : { applied: outcome.applied.length, pruned: outcome.pruned?.length ?? 0 }),
        outputSha256: sha256(outcome.output),
      },
    });
  })();
  return outcome;
}

/**
 * Atlantis's depends_on rule: a project is not applied while a project it depends on has a plan
 * with changes in this pull request that is not applied. Read when the project's turn comes, so
 * a dependency applied by an earlier wave of this run counts, and one whose apply failed does not.
 */
function unappliedDependencies(ctx: JobContext, job: CommandJob, project: Project): string[] {
  const deps = project.dependsOn ?? [];
  if (deps.length === 0) return [];
  const waiting = plansOfPull(ctx.db, job.repo.fullName, job.pull).filter(
    (plan) => plan.project.name !== undefined && deps.includes(plan.project.name) && plan.appliedAt === null && plan.hasChanges,
  );
  return [...new Set(waiting.map((plan) => plan.project.name ?? ''))].sort();
}

/**
 * What the status of an apply the stop cut short after it had applied some projects says
 * ("1/2 projects applied. Plan the rest again."), as the next start's notice does; else null.
 */
function cutShortStatus(ctx: JobContext): string | null {
  if (ctx.jobId === undefined || ctx.signal?.aborted !== true) return null;
  const record = readWorkRecord(ctx.db, ctx.jobId);
  if (record === null || !record.projects.some((p) => p.result === 'applied') || cutShort(record).length === 0) return null;
  return stoppedNotice(ctx.render, 'apply', record).status(STATUS_CONTEXT.apply).description;
}

/** Every project of the job's apply has its result (applied or failed), by its work record. */
function everyProjectFinished(ctx: JobContext): boolean {
  const record = ctx.jobId === undefined ? null : readWorkRecord(ctx.db, ctx.jobId);
  return record !== null && record.projects.length > 0 && cutShort(record).length === 0;
}

/** An apply that failed as the stop killed it was cut short: plan again, it did not fail on its own. */
function projectResult(outcome: ApplyOutcome, signal: AbortSignal | undefined): ProjectResult {
  if (outcome.result === 'applied') return 'applied';
  return signal?.aborted === true ? 'stopped' : 'failed';
}

function skipped(message: string): ApplyOutcome {
  return { result: 'error', output: message, exitCode: -1, durationMs: 0 };
}

function matches(plan: SavedPlan, sel: ProjectSelector): boolean {
  if (sel.project !== undefined) return plan.project.name === sel.project && (sel.workspace === undefined || plan.project.workspace === sel.workspace);
  if (sel.dir === undefined && sel.workspace === undefined) return true;
  // As in plan: `-d` alone means workspace `default`, `-w` alone means the root dir.
  return plan.project.dir === (sel.dir ?? '.') && plan.project.workspace === (sel.workspace ?? 'default');
}

function selectorProject(sel: ProjectSelector): Project {
  return { dir: sel.dir ?? '.', workspace: sel.workspace ?? 'default', kind: 'terraform' };
}
