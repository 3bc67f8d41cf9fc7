// The kubernetes side of plan and apply: render and validate the project's manifests before
// anything is locked or touches a cluster, then a server-side dry-run diff as the plan, and a
// server-side apply of exactly the stored bundle (with prune) as the apply.

import { join } from 'node:path';
import { formatManifestProblem, renderBundle, type KubeRunContext, type RenderedBundle } from '../../runners/kubernetes.js';
import type { ApplyOutcome, ObjectRef, PlanOutcome } from '../../runners/types.js';
import { lockKey } from '../locks/locks.js';
import type { Project } from '../projects/index.js';
import type { JobContext } from './context.js';
import { claimedByOthers, clusterOf, previouslyApplied, rememberApplied } from './kube-applied.js';
import { liveOutput } from './run-project.js';

export type Rendered = { ok: true; bundle: RenderedBundle } | { ok: false; outcome: PlanOutcome };

/** Renders and validates; a problem becomes an error outcome naming file and line or document. */
export async function renderProject(ctx: JobContext, project: Project, tree: string): Promise<Rendered> {
  const rendered = await renderBundle(ctx.exec, ctx.kubectlBin, join(tree, project.dir), {
    checkoutRoot: tree,
    ...(project.kubernetes?.namespace === undefined ? {} : { namespace: project.kubernetes.namespace }),
    ...(ctx.signal === undefined ? {} : { signal: ctx.signal }),
  });
  if (rendered.ok) return rendered;
  const output = ['The manifests are invalid, so nothing was locked or sent to a cluster:', '', ...rendered.problems.map((p) => `- ${formatManifestProblem(p)}`)].join('\n');
  return { ok: false, outcome: { result: 'error', summary: null, output, exitCode: -1, durationMs: 0 } };
}

type KubeContext = { ok: true; run: KubeRunContext } | { ok: false; message: string };

/** What other projects on this project's cluster declare, for prune (see claimedByOthers). */
function claims(ctx: JobContext, repo: string, project: Project): { claimedElsewhere: ObjectRef[]; plannedElsewhere: ObjectRef[] } {
  const { applied, planned } = claimedByOthers(ctx.db, lockKey(repo, project), clusterOf(project));
  return { claimedElsewhere: applied, plannedElsewhere: planned };
}

function kubeContext(ctx: JobContext, repo: string, project: Project, tree: string, extraArgs: readonly string[]): KubeContext {
  const cluster = project.kubernetes?.cluster;
  let kubeconfig: string | null = null;
  if (cluster !== undefined) {
    const path = ctx.kube.clusters[cluster];
    if (path === undefined) {
      return { ok: false, message: `cluster \`${cluster}\` is not configured on this server: add \`kubernetes.clusters.${cluster}.kubeconfig\` to the server config (TIDELINE_CONFIG)` };
    }
    kubeconfig = path;
  }
  return {
    ok: true,
    run: {
      projectDir: join(tree, project.dir),
      workspace: project.workspace,
      extraArgs,
      kubeconfig,
      fieldManager: project.kubernetes?.fieldManager ?? 'tideline',
      prune: project.kubernetes?.prune ?? true,
      previouslyApplied: previouslyApplied(ctx.db, lockKey(repo, project)),
      ...claims(ctx, repo, project),
      allowForceConflicts: ctx.kube.allowForceConflicts,
      ...liveOutput(ctx, project),
      ...(ctx.signal === undefined ? {} : { signal: ctx.signal }),
    },
  };
}

/** `declaredBesides`: what the other projects planned in the same run declare (never pruned here). */
export async function planKubernetes(ctx: JobContext, repo: string, project: Project, tree: string, bundle: RenderedBundle, planFile: string, extraArgs: readonly string[], declaredBesides: readonly ObjectRef[] = []): Promise<PlanOutcome> {
  const kube = kubeContext(ctx, repo, project, tree, extraArgs);
  if (!kube.ok) return { result: 'error', summary: null, output: kube.message, exitCode: -1, durationMs: 0 };
  return ctx.kubernetes.plan({ ...kube.run, plannedElsewhere: [...(kube.run.plannedElsewhere ?? []), ...declaredBesides] }, planFile, bundle);
}

export interface KubeApplyOptions {
  /**
   * Take over fields another manager changed (drift remediation: a `kubectl edit` moved
   * ownership of the drifted fields, and self-heal means Git wins, as Argo CD and Flux do).
   */
  forceConflicts?: boolean;
}

export async function applyKubernetes(ctx: JobContext, repo: string, pull: number, project: Project, tree: string, planFile: string, extraArgs: readonly string[], opts: KubeApplyOptions = {}): Promise<ApplyOutcome> {
  const force = opts.forceConflicts === true;
  const kube = kubeContext(ctx, repo, project, tree, force ? [...extraArgs, '--force-conflicts'] : extraArgs);
  if (!kube.ok) return { result: 'error', output: kube.message, exitCode: -1, durationMs: 0 };
  const outcome = await ctx.kubernetes.apply(force ? { ...kube.run, allowForceConflicts: true } : kube.run, planFile);
  // Remembered even after a failed apply: what did get applied must be prunable later.
  if (outcome.remember !== undefined) rememberApplied(ctx.db, repo, lockKey(repo, project), pull, outcome.remember, clusterOf(project));
  return outcome;
}
