// The job handlers, one per job type, and the command dispatch table. Both are typed as
// complete records, so a job type or command without a handler does not compile.

import type { CommandName } from '../commands/types.js';
import { renderError } from '../comments/index.js';
import { isFork, type PullInfo } from '../github/forge.js';
import { runDriftSweep, type DriftDeps } from '../drift/index.js';
import { runApply } from './apply-command.js';
import type { JobContext } from './context.js';
import { runPlan } from './plan-command.js';
import { jobGit, refOf, reply, replyOnce, settleInterrupted } from './post.js';
import { runRelease, runUnlock } from './release.js';
import type { CommandJob, Prepared } from './types.js';
import { prepareCheckout } from '../workspace/checkout.js';
import { JobInterruptedError, stoppedByShutdown, type JobHandlers } from './worker-pool.js';
import { preHookStopped, runHooks } from './workflow-hooks.js';

/** The commands workflow hooks run for (Atlantis runs them for every command it processes). */
const HOOKED: ReadonlySet<CommandName> = new Set(['plan', 'apply', 'unlock']);

type CommandHandler = (ctx: JobContext, job: CommandJob, pr: PullInfo, prepared: Prepared) => Promise<void>;

const COMMANDS: Record<CommandName, CommandHandler> = {
  plan: runPlan,
  apply: runApply,
  unlock: (ctx, job) => runUnlock(ctx, job.repo, job.pull, job.actor),
  // help and version are answered at intake as reply jobs; reaching here is a routing bug.
  help: async (ctx, job) => reply(ctx, job.repo, job.pull, renderError(ctx.render, 'help', 'help is answered directly')),
  version: async (ctx, job) => reply(ctx, job.repo, job.pull, renderError(ctx.render, 'version', 'version is answered directly')),
};

/** A plan's tree is made ready beside the GitHub call that names the head (prepareCheckout). */
async function prepareTree(ctx: JobContext, job: CommandJob): Promise<Prepared> {
  try {
    const resetAt = await prepareCheckout(await jobGit(ctx, job.repo), { owner: job.repo.owner, name: job.repo.name, cloneUrl: job.repo.cloneUrl, pull: job.pull, workspace: 'default' });
    return { resetAt };
  } catch (err: unknown) {
    ctx.log.debug({ err }, 'preparing the tree failed; the checkout does it again');
    return { resetAt: null };
  }
}

export function jobHandlers(ctx: JobContext, drift: Omit<DriftDeps, 'ctx'>): JobHandlers {
  return {
    command: async (job, signal) => {
      const payload = job.payload;
      const log = ctx.log.child({ job: job.id, repo: payload.repo.fullName, pull: payload.pull, command: payload.command.name, delivery: payload.deliveryId });
      // Lock links in its comments name the repository (comments/project.ts lockUrl).
      const jctx: JobContext = { ...ctx, log, jobId: job.id, signal, render: { ...ctx.render, repo: payload.repo.fullName } };
      // The tree is not touched again until the preparation has settled.
      const preparing = payload.command.name === 'plan' ? prepareTree(jctx, payload) : Promise.resolve({ resetAt: null });
      const pr = await ctx.forge.getPull(refOf(payload.repo), payload.pull).finally(() => preparing);
      const prepared = await preparing;
      if (pr.state !== 'open') {
        log.info('pull request is closed: command ignored');
        ctx.audit.append({ type: 'command.refused', actor: payload.actor, repo: payload.repo.fullName, pull: payload.pull, fields: { command: payload.command.name, reason: 'the pull request is closed', headSha: pr.headSha, deliveryId: payload.deliveryId } });
        await reply(jctx, payload.repo, payload.pull, renderError(ctx.render, payload.command.name, 'this pull request is closed: commands run only on open pull requests'));
        return;
      }
      // As Atlantis without --allow-fork-prs: a fork's code never runs unless the operator allows it.
      const forkHead = ctx.allowForkPulls !== true && isFork(payload.repo.fullName, pr.headRepo);
      if ((payload.command.name === 'plan' || payload.command.name === 'apply') && forkHead) {
        log.warn({ headRepo: pr.headRepo }, 'command on a pull request from a fork refused');
        ctx.audit.append({ type: 'command.refused', actor: payload.actor, repo: payload.repo.fullName, pull: payload.pull, fields: { command: payload.command.name, reason: 'the pull request is from a fork', headRepo: pr.headRepo, headSha: pr.headSha, deliveryId: payload.deliveryId } });
        const from = pr.headRepo === null ? 'a repository that has been deleted' : `the fork ${pr.headRepo}`;
        await reply(jctx, payload.repo, payload.pull, renderError(ctx.render, payload.command.name, `this pull request's branch is in ${from}, and this server does not run pull requests from forks: an operator can set TIDELINE_ALLOW_FORK_PRS=true to allow it`));
        return;
      }
      ctx.audit.append({
        type: 'command',
        actor: payload.actor,
        repo: payload.repo.fullName,
        pull: payload.pull,
        fields: {
          command: payload.command.name,
          selector: payload.command.selector,
          extraArgs: payload.command.extraArgs,
          commentUrl: payload.commentUrl,
          headSha: pr.headSha,
          baseRef: pr.baseRef,
          autoplan: payload.autoplan === true,
          deliveryId: payload.deliveryId,
        },
      });
      const started = performance.now();
      const finished = (result: 'succeeded' | 'failed'): void => ctx.metrics.commandFinished(payload.command.name, 'any', result, (performance.now() - started) / 1000);
      // A hook runs in a checkout of the head: for a fork's pull request (unlock is not refused
      // above) that would run the fork's code, which Atlantis never does without --allow-fork-prs.
      const hooked = HOOKED.has(payload.command.name) && !forkHead;
      let ready = prepared;
      // Set once the pre hooks have run, until the post hooks start: what a throw leaves to do.
      let postHooksDue = false;
      // The post hooks never change what the command came to: one that cannot even start (its
      // clone token or checkout fails) is logged, as a hook's own failure is, and the command's
      // result stands (it was posted already; a "plan failed" under it would be false).
      const postHooks = async (after: string): Promise<void> => {
        if (signal.aborted) return;
        try {
          await runHooks(jctx, payload, pr, ready, 'post');
        } catch (hookErr: unknown) {
          log.warn({ err: hookErr, after }, 'post workflow hooks failed');
        }
      };
      try {
        if (hooked) {
          const pre = await runHooks(jctx, payload, pr, prepared, 'pre');
          ready = pre.prepared;
          // A shutdown killed a hook (not a hook failure): the command must not start after it.
          if (signal.aborted) throw new JobInterruptedError('stopped by shutdown during the pre workflow hooks');
          if (pre.failed !== null && ctx.failOnPreWorkflowHookError === true) {
            // As Atlantis with --fail-on-pre-workflow-hook-error: neither the command nor the post hooks run.
            await preHookStopped(jctx, payload, pr, pre.failed);
            ctx.live.end(job.id, 'failed');
            finished('failed');
            return;
          }
        }
        postHooksDue = hooked;
        await COMMANDS[payload.command.name](jctx, payload, pr, ready);
        postHooksDue = false;
        // As Atlantis: after the command, whatever it came to (a thrown failure: below).
        if (hooked) await postHooks('the command succeeded');
        ctx.live.end(job.id, 'succeeded');
        finished('succeeded');
      } catch (err: unknown) {
        finished('failed');
        const stopped = stoppedByShutdown(err, signal);
        // Stopped by shutdown: the next start tells the PR. Anything else (a failure after the
        // work ran, though a shutdown began meanwhile) reaches the PR now, masked, so nobody
        // waits on a silent failure.
        if (stopped) {
          ctx.live.end(job.id, 'interrupted');
          throw err;
        }
        const message = err instanceof Error ? err.message : String(err);
        log.error({ err }, 'command failed');
        try {
          await reply(jctx, payload.repo, payload.pull, renderError(ctx.render, payload.command.name, message));
        } catch (replyErr: unknown) {
          // GitHub refused this comment too: the job keeps the failure that matters.
          log.warn({ err: replyErr }, 'could not post the error comment');
        }
        // Atlantis runs the post hooks whatever the command came to: one may be what removes the
        // credentials a pre hook wrote. Their own failure is logged; the job keeps the command's.
        if (postHooksDue) await postHooks('the command failed');
        ctx.live.end(job.id, 'failed');
        throw err;
      }
    },
    release: async (job) => runRelease(ctx, job.payload.repo, job.payload.pull, job.payload.merged, job.payload.actor),
    reply: async (job) => {
      // The statuses first: a notice GitHub refuses must not leave them pending.
      for (const status of job.payload.settle ?? []) await settleInterrupted(ctx, job.payload.repo, status);
      if (job.payload.body !== undefined) await replyOnce(ctx, job.id, job.payload.repo, job.payload.pull, job.payload.body);
    },
    drift: async (job, signal) => {
      const log = ctx.log.child({ job: job.id, repo: job.payload.repo.fullName, drift: job.payload.trigger });
      const started = performance.now();
      try {
        await runDriftSweep({ ...drift, ctx: { ...ctx, log, jobId: job.id, signal } }, job.payload.repo, { trigger: job.payload.trigger });
        ctx.live.end(job.id, 'succeeded');
        ctx.metrics.commandFinished('drift', 'any', 'succeeded', (performance.now() - started) / 1000);
      } catch (err: unknown) {
        ctx.live.end(job.id, stoppedByShutdown(err, signal) ? 'interrupted' : 'failed');
        ctx.metrics.commandFinished('drift', 'any', 'failed', (performance.now() - started) / 1000);
        throw err;
      }
    },
  };
}
