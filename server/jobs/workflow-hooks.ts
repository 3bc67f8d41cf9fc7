// Server-side pre and post workflow hooks around a plan, apply or unlock, as Atlantis runs
// them: in the default workspace's tree of the PR head, pre hooks before the repo config is
// read (so one may generate atlantis.yaml), post hooks after the command. Like Atlantis, a hook
// never adds to the PR comment: its output streams to the job's page, each hook gets a commit
// status (`tideline/pre_workflow_hook: <description>`, described by $OUTPUT_STATUS_FILE), and a
// failure is logged and stops the later hooks. The command itself still runs, unless the server
// has TIDELINE_FAIL_ON_PRE_WORKFLOW_HOOK_ERROR (Atlantis's --fail-on-pre-workflow-hook-error):
// then a failing pre hook stops it, its status fails, and the PR is told why (preHookStopped).

import { hooksFor } from '../../config/server-repos.js';
import type { WorkflowHook } from '../../config/server-repos-types.js';
import { DEFAULT_HOOK_SHELL, DEFAULT_HOOK_SHELL_ARGS, runWorkflowHooks, type HookResult, type HookSpec } from '../../runners/workflow-hooks.js';
import { renderPreHookFailed } from '../comments/index.js';
import { commentArgsVariable, DEFAULT_RUN_STEP_TIMEOUT_MS } from '../../runners/workflow.js';
import type { PullInfo } from '../github/forge.js';
import { checkoutPull } from '../workspace/checkout.js';
import { STATUS_CONTEXT, type JobContext } from './context.js';
import { forgetOpenStatus, recordOpenStatus } from './open-statuses.js';
import { jobGit, jobUrl, reply, setStatus } from './post.js';
import type { CommandJob, Prepared } from './types.js';

type When = 'pre' | 'post';

/** The status of a hook a server stop cut short: set at the stop, or by the next start's notice. */
export const HOOK_INTERRUPTED = 'interrupted: the Tideline server stopped while this hook ran.';

/** The commit status of one hook: `tideline/pre_workflow_hook: <description>`. */
function hookContext(when: When, description: string): string {
  return `tideline/${when}_workflow_hook: ${description}`;
}

/** Whether `context` is a hook's status, which a stop leaves interrupted whatever its command came to. */
export function isHookContext(context: string): boolean {
  return (['pre', 'post'] as const).some((when) => context.startsWith(hookContext(when, '')));
}

/** Atlantis's COMMAND_NAME: `autoplan` for a plan a pull request event started. */
export function hookCommandName(job: CommandJob): string {
  return job.autoplan === true ? 'autoplan' : job.command.name;
}

export interface HooksRan {
  /** `prepared`, marked so the command reuses the tree the hooks ran in (and what they wrote). */
  prepared: Prepared;
  /** The hook that failed (and stopped the ones after it), or null. */
  failed: HookResult | null;
}

/** Runs the hooks `when` for this job's command; with none configured, touches nothing. */
export async function runHooks(ctx: JobContext, job: CommandJob, pr: PullInfo, prepared: Prepared, when: When): Promise<HooksRan> {
  const command = hookCommandName(job);
  const hooks = hooksFor(ctx.repoRules.rules, when, command, job.repo.fullName, { baseBranch: pr.baseRef, host: ctx.git.githubHost });
  if (hooks.length === 0) return { prepared, failed: null };
  const { repo, pull } = job;
  const git = await jobGit(ctx, repo);
  const root = await checkoutPull(git, { owner: repo.owner, name: repo.name, cloneUrl: repo.cloneUrl, pull, workspace: 'default', headSha: pr.headSha }, when === 'pre' ? { resetAt: prepared.resetAt } : { reuse: true });
  const specs = hooks.map((hook, index) => specOf(hook, index, when));
  const context = (spec: HookSpec): string => hookContext(when, spec.description);
  const { jobId } = ctx;
  // Recorded as open before it is sent, as a command's status is (sendPending): a process killed
  // before the hook's result is set leaves the next start a status to settle, not one pending for good.
  for (const spec of specs) {
    if (jobId !== undefined) recordOpenStatus(ctx.db, { jobId, repo: repo.fullName, sha: pr.headSha, context: context(spec) });
    await setStatus(ctx, repo, pr.headSha, context(spec), 'pending', 'running');
  }
  const settle = async (spec: HookSpec, state: 'success' | 'failure' | 'error', description: string): Promise<void> => {
    await setStatus(ctx, repo, pr.headSha, context(spec), state, description);
    if (jobId !== undefined) forgetOpenStatus(ctx.db, jobId, context(spec));
  };
  const live = ctx.jobId === undefined ? undefined : ctx.jobId;
  const tag = `[${when}_workflow_hooks] `;
  const onOutput = live === undefined ? undefined : (chunk: string): void => ctx.live.append(live, chunk.replace(/\r?\n$/, '').split(/\r?\n/).map((line) => tag + line).join('\n'));
  // A hook that could not even be started (not a failure of its own) settles every status
  // still pending before the error goes on: none is left pending, or open, for good.
  let results: HookResult[];
  try {
    results = await runWorkflowHooks(ctx.exec, specs, {
      variables: {
        BASE_REPO_NAME: repo.name,
        BASE_REPO_OWNER: repo.owner,
        HEAD_REPO_NAME: (pr.headRepo ?? repo.fullName).split('/')[1] ?? repo.name,
        HEAD_REPO_OWNER: (pr.headRepo ?? repo.fullName).split('/')[0] ?? repo.owner,
        HEAD_BRANCH_NAME: pr.headRef,
        HEAD_COMMIT: pr.headSha,
        BASE_BRANCH_NAME: pr.baseRef,
        PULL_NUM: String(pr.number),
        PULL_URL: pr.htmlUrl,
        PULL_AUTHOR: pr.author,
        DIR: root,
        USER_NAME: job.actor,
        COMMENT_ARGS: commentArgsVariable(job.command.extraArgs),
        COMMAND_NAME: command,
      },
      timeoutMs: DEFAULT_RUN_STEP_TIMEOUT_MS,
      ...(onOutput === undefined ? {} : { onOutput }),
      ...(ctx.signal === undefined ? {} : { signal: ctx.signal }),
    });
  } catch (err: unknown) {
    const message = err instanceof Error ? err.message : String(err);
    for (const spec of specs) await settle(spec, 'error', `could not run: ${message}`.slice(0, 140));
    throw err;
  }
  for (const [index, spec] of specs.entries()) {
    const result = results[index];
    if (result !== undefined) auditHookRun(ctx, job, pr, when, command, spec, result);
    if (result === undefined) {
      // Atlantis stops at the first failing hook; the ones after it did not run.
      await settle(spec, 'error', 'not run: an earlier hook failed');
      continue;
    }
    if (!result.ok) {
      const stops = when === 'pre' && ctx.failOnPreWorkflowHookError === true;
      ctx.log.warn({ hook: spec.description, when, command }, stops ? 'pre workflow hook failed; the command does not run' : 'workflow hook failed; the command runs anyway');
      if (live !== undefined) ctx.live.append(live, tag + (result.output.trimEnd().split('\n')[0] ?? ''));
    }
    if (!result.ok && ctx.signal?.aborted === true) {
      // Killed by the server's shutdown, not failed on its own: said as the next start would.
      await settle(spec, 'error', HOOK_INTERRUPTED);
      continue;
    }
    await settle(spec, result.ok ? 'success' : 'failure', result.status !== '' ? result.status : result.ok ? 'succeeded' : 'failed: see the job page');
  }
  ctx.log.info({ when, command, hooks: specs.map((spec, index) => ({ description: spec.description, result: results[index] === undefined ? 'not run' : results[index]?.ok === true ? 'succeeded' : 'failed' })) }, 'workflow hooks ran');
  return { prepared: { ...prepared, reuse: true }, failed: results.find((result) => !result.ok) ?? null };
}

/**
 * What Atlantis does when --fail-on-pre-workflow-hook-error stops a command: the plan or apply
 * status fails (unlock has none). Atlantis says nothing more, leaving a red check unexplained,
 * so the PR also gets a reply naming the hook, how it failed and the end of its output. An
 * autoplan fails `tideline/plan` too: Atlantis's switch on the command name misses autoplan and
 * leaves the plan status as it was, which a required check would read as a pass from before.
 */
export async function preHookStopped(ctx: JobContext, job: CommandJob, pr: PullInfo, failed: HookResult): Promise<void> {
  const command = hookCommandName(job);
  const context = job.command.name === 'plan' ? STATUS_CONTEXT.plan : job.command.name === 'apply' ? STATUS_CONTEXT.apply : null;
  if (context !== null) await setStatus(ctx, job.repo, pr.headSha, context, 'failure', `not run: pre workflow hook "${failed.description}" failed`);
  const hook = { description: failed.description, failure: failed.failure ?? 'failed', printed: failed.printed };
  await reply(ctx, job.repo, job.pull, renderPreHookFailed(ctx.render, command, hook, jobUrl(ctx)));
}

/**
 * A hook is a command the server ran in a pull request's checkout, as much as a plan is, so each
 * run is audited like one; the audit log masks `run` (a hook may name a secret) with the rest.
 * A hook an earlier failure kept from running executed nothing, and gets no record.
 */
function auditHookRun(ctx: JobContext, job: CommandJob, pr: PullInfo, when: When, command: string, spec: HookSpec, result: HookResult): void {
  ctx.audit.append({
    type: 'workflow_hook',
    actor: job.actor,
    repo: job.repo.fullName,
    pull: job.pull,
    fields: {
      hook: when,
      description: spec.description,
      shell: [spec.shell ?? DEFAULT_HOOK_SHELL, ...(spec.shellArgs ?? DEFAULT_HOOK_SHELL_ARGS)].join(' '),
      run: spec.run,
      command,
      headSha: pr.headSha,
      // A hook the server's shutdown killed did not fail on its own.
      result: result.ok ? 'succeeded' : ctx.signal?.aborted === true ? 'interrupted' : 'failed',
      exitCode: result.exitCode,
      ...(result.failure === null ? {} : { failure: result.failure }),
      durationMs: result.durationMs,
      deliveryId: job.deliveryId,
    },
  });
}

function specOf(hook: WorkflowHook, index: number, when: When): HookSpec {
  const spec: HookSpec = { run: hook.run, description: hook.description ?? `${when === 'pre' ? 'Pre' : 'Post'} workflow hook #${index}` };
  if (hook.shell !== undefined) spec.shell = hook.shell;
  if (hook.shellArgs !== undefined) spec.shellArgs = hook.shellArgs;
  return spec;
}
