// Kubernetes runner: a `kind: kubernetes` project planned as a server-side dry-run diff and
// applied with server-side apply, Argo CD / Flux style. The plan file IS the rendered bundle:
// apply applies exactly it, never a re-render. Objects this project applied before and no longer
// declares are pruned (shown as `-` in the plan first), but only while they are still managed by
// the project's field manager. Failures never throw: they come back as outcomes with result
// 'error' and kubectl's own words.

import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { ExecError } from './exec.js';
import type { ExecContext } from './exec.js';
import { diffFileName, diffObject, matchPairs } from './kubernetes-diff.js';
import {
  closeSession,
  DEFAULT_KUBERNETES_TIMEOUTS,
  deleteObjects,
  existingNamespaces,
  failureText,
  kubectl,
  openSession,
  withoutRunnerOwnedVars,
  type KubectlCall,
  type KubernetesTimeouts,
  type Session,
} from './kubernetes-kubectl.js';
import { clusterScopedKinds, rescopeBundle, rescopeRefs } from './kubernetes-scope.js';
import { checkPrune, movedNote, serverDiff, unclaimedCandidates } from './kubernetes-plan.js';
import { formatManifestProblem, formatRef, parseBundle, refKey, sha256, type RenderedBundle } from './manifests.js';
import { elapsed, preparePlanFile } from './terraform.js';
import type { ApplyOutcome, ObjectAction, ObjectRef, PlanOutcome, PlannedObjectChange, RunContext } from './types.js';

export { renderBundle, KUSTOMIZATION_FILES, type RenderOptions, type RenderResult } from './kubernetes-render.js';
export { formatManifestProblem, formatRef, refKey, type ManifestObject, type ManifestProblem, type RenderedBundle } from './manifests.js';
export { DEFAULT_KUBERNETES_TIMEOUTS, type KubernetesTimeouts } from './kubernetes-kubectl.js';
export type { ObjectRef } from './types.js';

export interface KubernetesRunnerOptions {
  bin: string;
  exec: ExecContext;
  /** Dir for per-run discovery caches and work files (each run gets a fresh dir inside, removed after). */
  cacheRoot: string;
  timeouts?: KubernetesTimeouts;
}

export interface KubeRunContext extends RunContext {
  /** null: kubectl's default (KUBECONFIG in the base env, else ~/.kube/config). */
  kubeconfig: string | null;
  fieldManager: string;
  prune: boolean;
  /** What this project applied last time (ApplyOutcome.remember). */
  previouslyApplied: readonly ObjectRef[];
  /**
   * Objects another project on the same cluster applied: never pruned by this one, and
   * forgotten by it, since they have moved to that project, which prunes them when it drops them.
   */
  claimedElsewhere?: readonly ObjectRef[];
  /**
   * Objects another project is about to apply (a saved plan of it, or planned in the same run):
   * not pruned now, but still remembered, since that plan may never be applied.
   */
  plannedElsewhere?: readonly ObjectRef[];
  /** Whether the server lets a commenter pass `--force-conflicts`. */
  allowForceConflicts: boolean;
}

/** `exitCode` of an outcome when kubectl gave none (refused before running, killed). */
export const NO_EXIT_CODE = -1;

const FIELD_MANAGER = /^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$/;

/**
 * The first refused extra argument, as a message; null when all are fine. Only
 * `--force-conflicts` (where the server allows it) and `--request-timeout=<duration>` are
 * accepted: anything else could point kubectl at another cluster, file or field manager.
 */
export function refuseKubectlArgs(extraArgs: readonly string[], allowForceConflicts: boolean): string | null {
  for (const arg of extraArgs) {
    if (arg === '--force-conflicts' || arg === '--force-conflicts=true') {
      if (!allowForceConflicts) {
        return 'extra argument --force-conflicts is not allowed: the server config does not allow forcing field-manager conflicts';
      }
      continue;
    }
    if (arg === '--force-conflicts=false' || /^--request-timeout=[0-9]+(ms|s|m|h)?$/.test(arg)) continue;
    return (
      `extra argument ${JSON.stringify(arg)} is not allowed for kubernetes projects: only ` +
      '--force-conflicts (where the server allows it) and --request-timeout=<duration> are accepted'
    );
  }
  return null;
}

function wantsForce(extraArgs: readonly string[]): boolean {
  return extraArgs.includes('--force-conflicts') || extraArgs.includes('--force-conflicts=true');
}

function requestTimeout(extraArgs: readonly string[]): string | null {
  const arg = [...extraArgs].reverse().find((a) => a.startsWith('--request-timeout='));
  return arg === undefined ? null : arg.slice('--request-timeout='.length);
}

function refuseFieldManager(fieldManager: string): string | null {
  if (FIELD_MANAGER.test(fieldManager)) return null;
  return `invalid field manager ${JSON.stringify(fieldManager)}: use up to 128 letters, digits, "_", ".", ":" and "-"`;
}

interface PlanEntry {
  ref: ObjectRef;
  action: ObjectAction;
  diff: string;
  note?: string;
  conflict?: string;
}

const CONFLICT_HINT =
  'Field-manager conflict: not forced. Another field manager owns the fields named above. To take them over, ' +
  'comment apply with `-- --force-conflicts` (the server must allow it); or change the manifests to match the live values.';

export class KubernetesRunner {
  readonly kind = 'kubernetes' as const;
  readonly #bin: string;
  readonly #exec: ExecContext;
  readonly #cacheRoot: string;
  readonly #timeouts: Readonly<Required<KubernetesTimeouts>>;

  constructor(opts: KubernetesRunnerOptions) {
    this.#bin = opts.bin;
    this.#exec = { baseEnv: withoutRunnerOwnedVars(opts.exec.baseEnv), masker: opts.exec.masker };
    this.#cacheRoot = path.resolve(opts.cacheRoot);
    this.#timeouts = { ...DEFAULT_KUBERNETES_TIMEOUTS, ...opts.timeouts };
  }

  /**
   * Server-side dry-run diff of `bundle` (`kubectl diff --server-side --field-manager=M
   * --force-conflicts=false`), objects whose namespace this change creates diffed locally as
   * creates, prunes of `previouslyApplied` shown as deletes. Writes the bundle to planFile (a
   * relative path is taken from the project dir): that is the plan apply applies.
   */
  async plan(ctx: KubeRunContext, planFile: string, bundle: RenderedBundle): Promise<PlanOutcome> {
    const started = performance.now();
    const planPath = path.resolve(ctx.projectDir, planFile);
    const fail = (output: string, exitCode = NO_EXIT_CODE): PlanOutcome => ({
      result: 'error', summary: null, output: this.#exec.masker.mask(output), exitCode, durationMs: elapsed(started),
    });
    const refusal = refuseKubectlArgs(ctx.extraArgs, ctx.allowForceConflicts) ?? refuseFieldManager(ctx.fieldManager);
    if (refusal !== null) return fail(refusal);
    if (/\s/.test(this.#cacheRoot)) {
      return fail(`the kubectl cache root ${this.#cacheRoot} contains whitespace: kubectl splits KUBECTL_EXTERNAL_DIFF on spaces`);
    }
    const unprepared = await preparePlanFile(planPath);
    if (unprepared !== null) return fail(unprepared);

    const session = await openSession(this.#cacheRoot);
    try {
      const call = this.#call(ctx, session);
      // Cluster-scoped kinds the render could not know lose the namespace it gave them.
      const clusterKinds = await clusterScopedKinds(call, [...bundle.objects.map((o) => o.ref), ...ctx.previouslyApplied], this.#timeouts.getMs);
      const scoped = rescopeBundle(bundle, clusterKinds);
      const planned = await this.#planEntries(call, rescopeContext(ctx, clusterKinds), scoped);
      if (!planned.ok) return fail(planned.output, planned.exitCode);
      await writeFile(planPath, scoped.yaml);
      const { entries, warnings } = planned;
      const count = (action: ObjectAction): number => entries.filter((e) => e.action === action).length;
      const summary = { add: count('+'), change: count('~'), destroy: count('-') };
      const changed = summary.add + summary.change + summary.destroy > 0;
      const diff = entries.map((e) => e.diff).join('');
      const objects = entries.map((e): PlannedObjectChange => ({
        ref: e.ref, action: e.action, ...(e.conflict === undefined ? {} : { conflict: e.conflict }),
      }));
      return {
        result: changed ? 'changes' : 'no-changes',
        summary,
        output: this.#exec.masker.mask(planText(ctx.fieldManager, entries, warnings, summary, diff)),
        planFile: planPath,
        exitCode: changed ? 1 : 0,
        durationMs: elapsed(started),
        objects,
        diff: this.#exec.masker.mask(diff),
        bundleSha256: scoped.sha256,
        warnings: warnings.map((w) => this.#exec.masker.mask(w)),
      };
    } finally {
      await closeSession(session);
    }
  }

  async #planEntries(
    call: KubectlCall,
    ctx: KubeRunContext,
    bundle: RenderedBundle,
  ): Promise<{ ok: true; entries: PlanEntry[]; warnings: string[] } | { ok: false; output: string; exitCode: number }> {
    const warnings: string[] = [];
    const wanted = [...new Set(bundle.objects.flatMap((o) => (o.ref.namespace === null ? [] : [o.ref.namespace])))];
    let existing = await existingNamespaces(call, wanted, this.#timeouts.getMs);
    if (existing instanceof ExecError) {
      // A namespace-scoped identity may not read Namespace objects: then the server decides
      // (and a missing namespace is kubectl's error, as without this check).
      if (!/\(Forbidden\)|is forbidden/.test(existing.stderr)) {
        return { ok: false, output: failureText(call, 'get', existing, this.#timeouts.getMs), exitCode: existing.exitCode ?? NO_EXIT_CODE };
      }
      existing = new Set(wanted);
    }
    const created = new Set(bundle.objects.filter((o) => o.ref.kind === 'Namespace' && o.ref.apiVersion === 'v1').map((o) => o.ref.name));
    // A real server refuses even a dry run in a namespace that does not exist yet
    // (kubernetes/kubernetes#114141): such objects are creates, diffed here.
    const isLocal = (ns: string | null): boolean => ns !== null && !existing.has(ns);
    for (const ns of wanted.filter((n) => isLocal(n) && !created.has(n))) {
      warnings.push(`namespace "${ns}" does not exist and this change does not create it: applying the objects in it will fail`);
    }
    const remote = bundle.objects.filter((o) => !isLocal(o.ref.namespace));
    const force = wantsForce(ctx.extraArgs);
    const diff = await serverDiff(call, remote, { fieldManager: ctx.fieldManager, force, timeoutMs: this.#timeouts.diffMs });
    if (!diff.ok) return diff;
    const pairs = matchPairs(remote.map((o) => o.ref), diff.pairs);

    const entries: PlanEntry[] = [];
    for (const object of bundle.objects) {
      const { ref } = object;
      if (isLocal(ref.namespace)) {
        const local = diffObject(diffFileName(ref), null, object.object);
        const note = created.has(ref.namespace ?? '') ? `namespace ${ref.namespace} is created by this change` : `namespace ${ref.namespace} does not exist`;
        entries.push({ ref, action: '+', diff: local.diff, note });
        continue;
      }
      const pair = pairs.get(refKey(ref));
      if (pair === undefined) return { ok: false, output: `kubectl diff reported nothing for ${formatRef(ref)}`, exitCode: NO_EXIT_CODE };
      const result = diffObject(pair.name, pair.live, pair.merged);
      const conflict = diff.conflicts.get(refKey(ref));
      if (conflict === undefined) {
        entries.push({ ref, action: result.action, diff: result.diff });
        continue;
      }
      entries.push({ ref, action: result.action === '=' ? '~' : result.action, diff: result.diff, note: 'field-manager conflict', conflict });
      warnings.push(`${formatRef(ref)}: ${conflict}. Apply will fail unless forced: comment apply with \`-- --force-conflicts\` (the server must allow it).`);
    }

    const { candidates, claimed } = unclaimedCandidates(bundle.objects.map((o) => o.ref), ctx.previouslyApplied, ctx.claimedElsewhere, ctx.plannedElsewhere);
    if (claimed.length > 0) warnings.push(movedNote(claimed));
    if (!ctx.prune) {
      if (candidates.length > 0) {
        warnings.push(`not pruned (prune is off): ${candidates.map(formatRef).join(', ')} ${candidates.length === 1 ? 'is' : 'are'} no longer in Git`);
      }
      return { ok: true, entries, warnings };
    }
    const check = await checkPrune(call, candidates, ctx.fieldManager, this.#timeouts.getMs);
    if (!check.ok) return check;
    warnings.push(...check.notes);
    for (const { ref, live } of check.prune) {
      const result = diffObject(diffFileName(ref), live, null);
      entries.push({ ref, action: '-', diff: result.diff, note: 'prune: no longer in Git' });
    }
    return { ok: true, entries, warnings };
  }

  /**
   * `kubectl apply --server-side --field-manager=M --validate=false -f <planFile>` (the stored
   * bundle), then, when ctx.prune, deletes the previously applied objects no longer in it that
   * are still managed by M. A field-manager conflict fails the apply, unforced, unless the
   * server allows and the extra args hold `--force-conflicts`.
   */
  async apply(ctx: KubeRunContext, planFile: string): Promise<ApplyOutcome> {
    const started = performance.now();
    const planPath = path.resolve(ctx.projectDir, planFile);
    const fail = (output: string, exitCode: number, extra: Partial<ApplyOutcome> = {}): ApplyOutcome => ({
      result: 'error', output: this.#exec.masker.mask(output), exitCode, durationMs: elapsed(started), ...extra,
    });
    const refusal = refuseKubectlArgs(ctx.extraArgs, ctx.allowForceConflicts) ?? refuseFieldManager(ctx.fieldManager);
    if (refusal !== null) return fail(refusal, NO_EXIT_CODE);
    let text: string;
    try {
      text = await readFile(planPath, 'utf8');
    } catch {
      return fail(`plan file ${planPath} not found: run plan first`, NO_EXIT_CODE);
    }
    const parsed = parseBundle(text, path.basename(planPath));
    if (parsed.problems.length > 0) {
      return fail(`plan file ${planPath} is not a bundle Tideline wrote:\n${parsed.problems.map(formatManifestProblem).join('\n')}`, NO_EXIT_CODE);
    }
    const refs = parsed.objects.map((o) => o.ref);
    const bundleSha256 = sha256(text);

    const session = await openSession(this.#cacheRoot);
    try {
      const call = this.#call(ctx, session);
      // As in plan: what was applied before under a namespace its cluster-scoped kind has not.
      const clusterKinds = await clusterScopedKinds(call, [...refs, ...ctx.previouslyApplied], this.#timeouts.getMs);
      const scoped = rescopeContext(ctx, clusterKinds);
      const { candidates, claimed, held } = unclaimedCandidates(rescopeRefs(refs, clusterKinds), scoped.previouslyApplied, scoped.claimedElsewhere, scoped.plannedElsewhere);
      const keepAll = { remember: [...refs, ...candidates, ...held], bundleSha256 };
      const outputs: string[] = [];
      if (refs.length > 0) {
        const args = ['apply', '--server-side', `--field-manager=${ctx.fieldManager}`, '--validate=false'];
        if (wantsForce(ctx.extraArgs)) args.push('--force-conflicts');
        const applied = await kubectl(call, [...args, '-f', planPath], { timeoutMs: this.#timeouts.applyMs, stream: true });
        if (applied instanceof ExecError) {
          const message = failureText(call, 'apply', applied, this.#timeouts.applyMs, true);
          const hint = /Apply failed with \d+ conflicts?/.test(applied.stderr) ? `\n\n${CONFLICT_HINT}` : '';
          return fail(`${message}${hint}`, applied.exitCode ?? NO_EXIT_CODE, keepAll);
        }
        outputs.push(applied.output.trimEnd());
      } else {
        outputs.push('The bundle holds no objects: nothing to apply.');
      }
      if (!ctx.prune) {
        return this.#applied(started, outputs, { applied: refs, pruned: [], ...keepAll });
      }
      const check = await checkPrune(call, candidates, ctx.fieldManager, this.#timeouts.getMs);
      if (!check.ok) return fail([...outputs, check.output].join('\n\n'), check.exitCode, { applied: refs, ...keepAll });
      const pruned = check.prune.map((p) => p.ref);
      const deleted = await deleteObjects(call, pruned, this.#timeouts.deleteMs);
      if (deleted instanceof ExecError) {
        const message = failureText(call, 'delete', deleted, this.#timeouts.deleteMs, true);
        return fail([...outputs, `Prune failed:\n${message}`].join('\n\n'), deleted.exitCode ?? NO_EXIT_CODE, { applied: refs, ...keepAll });
      }
      if (deleted !== null) outputs.push(`Pruned (no longer in Git):\n${deleted.output.trimEnd()}`);
      const notes = claimed.length > 0 ? [...check.notes, movedNote(claimed)] : check.notes;
      if (notes.length > 0) outputs.push(notes.map((n) => `Note: ${n}`).join('\n'));
      return this.#applied(started, outputs, { applied: refs, pruned, remember: [...refs, ...held], bundleSha256 });
    } finally {
      await closeSession(session);
    }
  }

  #applied(started: number, outputs: readonly string[], extra: Partial<ApplyOutcome>): ApplyOutcome {
    return {
      result: 'applied',
      output: this.#exec.masker.mask(`${outputs.join('\n\n')}\n`),
      exitCode: 0,
      durationMs: elapsed(started),
      ...extra,
    };
  }

  #call(ctx: KubeRunContext, session: Session): KubectlCall {
    return {
      bin: this.#bin,
      exec: this.#exec,
      session,
      projectDir: ctx.projectDir,
      kubeconfig: ctx.kubeconfig,
      requestTimeout: requestTimeout(ctx.extraArgs),
      env: withoutRunnerOwnedVars(ctx.env),
      ...(ctx.onOutput === undefined ? {} : { onOutput: ctx.onOutput }),
      ...(ctx.signal === undefined ? {} : { signal: ctx.signal }),
    };
  }
}

function planText(
  fieldManager: string,
  entries: readonly PlanEntry[],
  warnings: readonly string[],
  summary: { add: number; change: number; destroy: number },
  diff: string,
): string {
  const parts: string[] = [];
  if (entries.length === 0) {
    parts.push('No objects: the manifests declare none and nothing is left to prune.');
  } else {
    const lines = entries.map((e) => `  ${e.action} ${formatRef(e.ref)}${e.note === undefined ? '' : `  (${e.note})`}`);
    parts.push(`Server-side dry run, field manager "${fieldManager}":\n${lines.join('\n')}`);
  }
  const changed = summary.add + summary.change + summary.destroy > 0;
  parts.push(
    changed
      ? `Plan: ${summary.add} to add, ${summary.change} to change, ${summary.destroy} to destroy.`
      : 'No changes. The cluster matches the manifests.',
  );
  if (warnings.length > 0) parts.push(warnings.map((w) => `Warning: ${w}`).join('\n'));
  if (diff !== '') parts.push(diff.trimEnd());
  return `${parts.join('\n\n')}\n`;
}

/** The prune inputs with cluster-scoped objects out of any namespace (see kubernetes-scope.ts). */
function rescopeContext(ctx: KubeRunContext, clusterKinds: ReadonlySet<string> | null): KubeRunContext {
  if (clusterKinds === null) return ctx;
  return {
    ...ctx,
    previouslyApplied: rescopeRefs(ctx.previouslyApplied, clusterKinds),
    claimedElsewhere: rescopeRefs(ctx.claimedElsewhere ?? [], clusterKinds),
    plannedElsewhere: rescopeRefs(ctx.plannedElsewhere ?? [], clusterKinds),
  };
}
