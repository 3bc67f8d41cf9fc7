// `plan` (a comment, or autoplan on a pull request event): check out the PR head, read its
// repo config against the server's rules, choose the projects, then plan them group by group
// — in parallel within a group — each under its lock. One reply covers every project.

import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { RenderedBundle } from '../../runners/kubernetes.js';
import type { ObjectRef, PlanOutcome } from '../../runners/types.js';
import { runPlanWorkflow } from '../../runners/workflow.js';
import { projectLabel, renderConfigProblems, renderError, renderLockConflict, renderPlan, renderWarnings, type ProjectPlanResult } from '../comments/index.js';
import type { PullInfo } from '../github/forge.js';
import { DEFAULT_BRANCH_PULL, lockKey, locksOfPull, projectOf, releaseKey, tryLock } from '../locks/locks.js';
import { executionWaves, projectsForSelector, type Project } from '../projects/index.js';
import { checkoutPull } from '../workspace/checkout.js';
import { refuseOutsidePaths } from '../workspace/extra-args.js';
import { changedProjects } from './changed-projects.js';
import { STATUS_CONTEXT, type JobContext } from './context.js';
import { sha256, sha256File } from './digest.js';
import { deletePlan, markShown, planFilePath, plansOfPull, savePlan } from './plan-store.js';
import { postThenSettle, jobGit, refOf, reply, REPLY_FAILED_NOTE, sendPending, setStatus, settleIfThrown } from './post.js';
import { planKubernetes, renderProject, type Rendered } from './kube-project.js';
import { loadProjectSetup, stageSteps, type ProjectSetup } from './project-setup.js';
import { liveOutput, mapByProjectDir, mapLimit, stepVariables } from './run-project.js';
import { afterWork, JobInterruptedError } from './worker-pool.js';
import { checkRequirements, type Refusal } from './requirements.js';
import { recordReplied, recordWorkEnded } from './work-record.js';
import type { CommandJob, Prepared } from './types.js';

export async function runPlan(ctx: JobContext, job: CommandJob, pr: PullInfo, prepared: Prepared = { resetAt: null }): Promise<void> {
  const { repo, pull, command } = job;
  const git = await jobGit(ctx, repo);
  const root = await checkoutPull(git, { owner: repo.owner, name: repo.name, cloneUrl: repo.cloneUrl, pull, workspace: 'default', headSha: pr.headSha }, { resetAt: prepared.resetAt, ...(prepared.reuse === true ? { reuse: true } : {}) });

  const loaded = loadProjectSetup(ctx, repo.fullName, pr.baseRef, root);
  if (!loaded.ok) {
    ctx.audit.append({ type: 'config.error', actor: job.actor, repo: repo.fullName, pull, fields: { scope: 'repo', command: 'plan', file: loaded.file, headSha: pr.headSha, problems: loaded.problems } });
    await reply(ctx, repo, pull, renderConfigProblems(ctx.render, loaded.file, loaded.problems));
    await setStatus(ctx, repo, pr.headSha, STATUS_CONTEXT.plan, 'failure', `${loaded.file} is invalid: nothing was planned`);
    return;
  }
  const setup = loaded.setup;
  const chosen = await chooseProjects(ctx, job, pr, root, setup);
  if (!chosen.ok) {
    await reply(ctx, repo, pull, renderError(ctx.render, 'plan', chosen.message));
    await setStatus(ctx, repo, pr.headSha, STATUS_CONTEXT.plan, 'failure', 'plan failed: no project to plan');
    return;
  }
  const projects = chosen.projects;
  // A plan of the whole pull request replaces its earlier plans, as in Atlantis: a project it no
  // longer changes keeps neither a plan (which would make every apply stale) nor a lock.
  const discarded = chosen.changed === undefined ? [] : discardUnchanged(ctx, job, chosen.changed);
  if (projects.length === 0) {
    // Atlantis stays quiet when a push touches no project; a comment gets an answer.
    if (job.autoplan !== true) await reply(ctx, repo, pull, renderError(ctx.render, 'plan', 'this pull request changes no project, so there is nothing to plan: name one with `-d dir` or `-p project`'));
    await setStatus(ctx, repo, pr.headSha, STATUS_CONTEXT.plan, 'success', 'no projects to plan');
    return;
  }

  // Sent while terraform starts; awaited before the final status so the two cannot cross.
  const status = sendPending(ctx, repo, pr.headSha, STATUS_CONTEXT.plan, `planning ${projects.length} project(s)…`);
  // A run that stops after the pending status settles it as an error: nothing is left pending.
  const { results, conflicts } = await settleIfThrown(
    status.sent,
    (why) => status.settle('error', `plan ${why}`),
    async () => {
      // One working tree per workspace, prepared one at a time before any project runs in it.
      const trees = new Map<string, string>([['default', root]]);
      for (const ws of new Set(projects.map((p) => p.workspace))) {
        if (!trees.has(ws)) trees.set(ws, await checkoutPull(git, { owner: repo.owner, name: repo.name, cloneUrl: repo.cloneUrl, pull, workspace: ws, headSha: pr.headSha }));
      }

      // Kubernetes manifests are rendered and validated before anything is locked or touches a
      // cluster, all of them first: an object one project declares is one no other may prune.
      const kube = projects.filter((p) => p.kind === 'kubernetes');
      const renders = await mapLimit(kube, ctx.parallelism, (project) => renderProject(ctx, project, trees.get(project.workspace) ?? root));
      const rendered = new Map<Project, Rendered>(kube.map((project, i) => [project, renders[i] as Rendered]));
      const declaredBesides = (project: Project): ObjectRef[] =>
        [...rendered].flatMap(([other, r]) => (other === project || !r.ok ? [] : r.bundle.objects.map((o) => o.ref)));

      // Asked once for every project, before any runs: the answers are the pull request's, not
      // a project's, and each `undiverged` check fetches the base into the same tree, where two
      // fetches at once race for one ref and one fails ("cannot lock ref").
      const refusals = await checkRequirements(ctx, { repo: job.repo, pr, requirements: projects.flatMap((p) => p.planRequirements ?? []), git, checkoutDir: root });

      const results: ProjectPlanResult[] = [];
      const conflicts: string[] = [];
      for (const wave of executionWaves(projects)) {
        const done = await mapByProjectDir(wave, ctx.parallelism, async (project) => {
          const tree = trees.get(project.workspace) ?? root;
          let bundle: RenderedBundle | undefined;
          const render = rendered.get(project);
          if (render !== undefined) {
            if (!render.ok) return { project, outcome: render.outcome };
            bundle = render.bundle;
          }
          // Atlantis's plan_requirements, checked before the lock as Atlantis does: a plan runs
          // the PR's code, so a project that gates it is not planned until they hold.
          const refused = planRefusal(ctx, job, pr, project, refusals);
          if (refused !== null) return { project, outcome: refused };
          const lock = tryLock(ctx.db, ctx.audit, { repo: repo.fullName, project, pull, pullUrl: pr.htmlUrl, user: job.actor });
          if (!lock.acquired) {
            ctx.log.warn({ project: lock.key, holder: lock.holder.pull }, 'lock held by another pull');
            if (lock.holder.pull === DEFAULT_BRANCH_PULL) {
              // Not a pull request: drift remediation holds the project for a moment.
              conflicts.push(renderError(ctx.render, 'plan', `${projectLabel(project)} is being re-applied from the default branch by drift remediation right now: plan again when it finishes`));
              return null;
            }
            const holder = lock.holder.pullUrl === '' ? { pull: lock.holder.pull } : { pull: lock.holder.pull, url: lock.holder.pullUrl };
            conflicts.push(renderLockConflict(ctx.render, project, holder));
            return null;
          }
          return { project, outcome: await planProject(ctx, job, pr, setup, project, tree, bundle, declaredBesides(project)) };
        });
        for (const r of done) if (r !== null) results.push(r);
      }

      // Stopped by shutdown: say nothing half-done; the next start tells the PR to plan again.
      if (ctx.signal?.aborted === true) throw new JobInterruptedError('plan stopped by shutdown');
      return { results, conflicts };
    },
  );
  const failed = results.filter((r) => r.outcome.result === 'error').length + conflicts.length;
  const total = projects.length;
  const summary = failed === 0 ? `${total}/${total} projects planned successfully` : `${failed}/${total} projects failed to plan`;
  // The plan ran to its end: a shutdown from here on cuts nothing short, and the reply goes out.
  // Recorded first, so the next start after a kill says the plan ran, not that it was cut short.
  recordWorkEnded(ctx, summary, failed === 0 ? 'success' : 'failure');
  await afterWork(async () => {
    await postThenSettle(
      { ran: `The plan ran (${summary})`, next: 'Plan again to see its output.' },
      async () => {
        for (const conflict of conflicts) await reply(ctx, repo, pull, conflict);
        if (results.length > 0) {
          const notes = [renderWarnings([...setup.warnings, ...chosen.warnings]), renderDiscarded(discarded)].filter((n) => n !== '');
          await reply(ctx, repo, pull, [...notes, renderPlan(ctx.render, results)].join('\n\n'));
        }
        // Shown now, so appliable: a plan whose reply never went out cannot be applied unseen.
        // Marked with the reply in one step: a kill from here on leaves only the status to set.
        ctx.db.transaction(() => {
          if (results.length > 0) markShown(ctx.db, repo.fullName, pull, pr.headSha, results.map((r) => lockKey(repo.fullName, r.project)));
          recordReplied(ctx);
        })();
      },
      (replyFailed) => status.settle(failed === 0 ? 'success' : 'failure', replyFailed ? `${summary}.${REPLY_FAILED_NOTE} Plan again to see it.` : `${summary}.`),
    );
  });
}

/**
 * `changed`: for a plan of the whole pull request, the lock keys and dirs of every project it
 * changes. A dir it changes keeps its plans and locks in every workspace (`-d dir -w staging`).
 */
type Changed = { keys: ReadonlySet<string>; dirs: ReadonlySet<string> };
type Chosen = { ok: true; projects: Project[]; warnings: string[]; changed?: Changed } | { ok: false; message: string };

/** Autoplan, or a plan comment that names no project: it plans what the pull request changes. */
function isWholePull(job: CommandJob): boolean {
  const sel = job.command.selector;
  return job.autoplan === true || (sel.project === undefined && sel.dir === undefined && sel.workspace === undefined);
}

function renderDiscarded(notes: readonly string[]): string {
  return notes.length === 0 ? '' : [':information_source: **Earlier plans discarded**', ...notes.map((n) => `* ${n}`)].join('\n');
}

/** Drops the pull request's plans and locks of projects it no longer changes; says what went. */
function discardUnchanged(ctx: JobContext, job: CommandJob, changed: Changed): string[] {
  const repo = job.repo.fullName;
  const reason = 'the pull request no longer changes this project';
  const notes: string[] = [];
  ctx.db.transaction(() => {
    const kept = (key: string, dir: string): boolean => changed.keys.has(key) || changed.dirs.has(dir);
    const plans = new Map(plansOfPull(ctx.db, repo, job.pull).filter((p) => !kept(p.projectKey, p.project.dir)).map((p) => [p.projectKey, p.project]));
    for (const key of plans.keys()) deletePlan(ctx.db, repo, job.pull, key);
    const locks = locksOfPull(ctx.db, repo, job.pull).filter((l) => !kept(l.key, l.dir));
    for (const lock of locks) releaseKey(ctx.db, ctx.audit, lock.key, job.actor, reason);
    const released = new Set(locks.map((l) => l.key));
    for (const [key, project] of plans) notes.push(`the plan${released.has(key) ? ' and lock' : ''} of ${projectLabel(project)} ${released.has(key) ? 'were' : 'was'} discarded: this pull request no longer changes it`);
    for (const lock of locks.filter((l) => !plans.has(l.key))) notes.push(`the lock of ${projectLabel(projectOf(lock))} was released: this pull request no longer changes it`);
  })();
  return notes;
}

async function chooseProjects(ctx: JobContext, job: CommandJob, pr: PullInfo, root: string, setup: ProjectSetup): Promise<Chosen> {
  const sel = job.command.selector;
  if (isWholePull(job)) {
    const select = await changedProjects(ctx, job.repo, job.pull, pr, root, setup);
    const picked = select(job.autoplan === true ? 'autoplan' : 'command');
    // Every project the PR changes, autoplanned or not: what keeps its plan and lock.
    const changed = job.autoplan === true ? select('command').projects : picked.projects;
    return { ok: true, projects: picked.projects, warnings: picked.warnings, changed: { keys: new Set(changed.map((p) => lockKey(job.repo.fullName, p))), dirs: new Set(changed.map((p) => p.dir)) } };
  }
  const picked = projectsForSelector(root, setup.config, setup.projects, sel, { defaults: setup.defaults });
  return picked.ok ? { ok: true, projects: picked.projects, warnings: [] } : picked;
}

/**
 * The plan's error outcome when the project's `plan_requirements` do not hold (each refusal
 * audited), else null. `checked`: what checkRequirements refused of every project's requirements.
 */
function planRefusal(ctx: JobContext, job: CommandJob, pr: PullInfo, project: Project, checked: readonly Refusal[]): PlanOutcome | null {
  const requirements = new Set<string>(project.planRequirements ?? []);
  const refusals = checked.filter((r) => requirements.has(r.rule));
  if (refusals.length === 0) return null;
  for (const r of refusals) {
    ctx.audit.append({ type: 'requirement.refused', actor: job.actor, repo: job.repo.fullName, pull: job.pull, project: lockKey(job.repo.fullName, project), fields: { stage: 'plan', requirement: r.rule, message: r.message, headSha: pr.headSha } });
  }
  const output = ['Not planned: the plan requirements (`plan_requirements`) of this project are not met.', ...refusals.map((r) => `* \`${r.rule}\`: ${r.message}`)].join('\n');
  return { result: 'error', summary: null, output, exitCode: -1, durationMs: 0 };
}

async function planProject(ctx: JobContext, job: CommandJob, pr: PullInfo, setup: ProjectSetup, project: Project, tree: string, bundle: RenderedBundle | undefined, declaredBesides: readonly ObjectRef[]): Promise<PlanOutcome> {
  const repo = job.repo.fullName;
  const key = lockKey(repo, project);
  const log = ctx.log.child({ project: key, sha: pr.headSha });
  const planFile = planFilePath(ctx.plansDir, repo, job.pull, project, pr.headSha);
  mkdirSync(dirname(planFile), { recursive: true });
  const projectDir = join(tree, project.dir);

  let outcome: PlanOutcome;
  const refusal = refuseOutsidePaths(tree, projectDir, job.command.extraArgs);
  if (refusal !== null) {
    outcome = { result: 'error', summary: null, output: refusal, exitCode: -1, durationMs: 0 };
  } else if (bundle !== undefined) {
    log.info('plan started');
    outcome = await planKubernetes(ctx, repo, project, tree, bundle, planFile, job.command.extraArgs, declaredBesides);
    log.info({ result: outcome.result, summary: outcome.summary, ms: outcome.durationMs }, 'plan finished');
  } else {
    log.info('plan started');
    outcome = await runPlanWorkflow(ctx.terraform, ctx.exec, stageSteps(ctx, setup, project, 'plan'), {
      projectDir,
      workspace: project.workspace,
      extraArgs: job.command.extraArgs,
      planFile,
      variables: stepVariables(job, pr, project, tree, planFile),
      ...liveOutput(ctx, project),
      ...(ctx.signal === undefined ? {} : { signal: ctx.signal }),
    });
    log.info({ result: outcome.result, summary: outcome.summary, ms: outcome.durationMs }, 'plan finished');
  }

  const planned = outcome.result !== 'error' && outcome.planFile !== undefined ? outcome.planFile : null;
  const fields = {
    dir: project.dir,
    workspace: project.workspace,
    name: project.name ?? null,
    kind: project.kind,
    workflow: project.workflow ?? null,
    headSha: pr.headSha,
    result: outcome.result,
    summary: outcome.summary,
    exitCode: outcome.exitCode,
    durationMs: Math.round(outcome.durationMs),
    planSha256: planned === null ? null : sha256File(planned),
    bundleSha256: outcome.bundleSha256 ?? null,
    outputSha256: sha256(outcome.output),
  };
  if (outcome.result === 'error') ctx.metrics.planFailed(project.kind);
  ctx.db.transaction(() => {
    if (planned === null) {
      deletePlan(ctx.db, repo, job.pull, key);
    } else {
      savePlan(ctx.db, { repo, pull: job.pull, project, headSha: pr.headSha, planFile: planned, summary: outcome.summary, hasChanges: outcome.result === 'changes' });
    }
    ctx.audit.append({ type: 'plan', actor: job.actor, repo, pull: job.pull, project: key, fields });
  })();
  return outcome;
}
