// The cluster-facing steps of a Kubernetes plan: the server-side dry-run diff of the objects
// whose namespace exists (one `kubectl diff` for all; one per object only when a field-manager
// conflict stops it, so each conflict is named and its object's diff still shown), and the
// check of which previously applied objects may be pruned.

import path from 'node:path';
import { ExecError } from './exec.js';
import { documentsYaml, formatRef, refKey, type ManifestObject } from './manifests.js';
import { matchPairs, readDiffOutput, type KubeObject, type ObjectPair } from './kubernetes-diff.js';
import { failureText, getObjects, kubectl, writeRunFile, type KubectlCall } from './kubernetes-kubectl.js';
import type { ObjectRef } from './types.js';

export type StepFailure = { ok: false; output: string; exitCode: number };

export interface ServerDiff {
  ok: true;
  pairs: ObjectPair[];
  /** refKey → kubectl's conflict message, for objects whose apply would need --force-conflicts. */
  conflicts: Map<string, string>;
}

export interface DiffSettings {
  fieldManager: string;
  force: boolean;
  timeoutMs: number;
}

const NO_EXIT_CODE = -1;

function isConflict(error: ExecError): boolean {
  return error.exitCode !== null && /Apply failed with \d+ conflicts?/.test(error.stderr);
}

/** `Apply failed with 1 conflict: conflict with "kubectl-edit" using apps/v1: .spec.replicas` */
function conflictMessage(error: ExecError): string {
  const text = error.stderr;
  const start = text.indexOf('Apply failed with');
  const rest = start < 0 ? text : text.slice(start);
  const end = rest.search(/\n(error:|Please review|Error from server)/);
  return (end < 0 ? rest : rest.slice(0, end)).trim();
}

async function runDiff(
  call: KubectlCall,
  file: string,
  outName: string,
  force: boolean,
  settings: DiffSettings,
): Promise<ObjectPair[] | ExecError> {
  const outDir = path.join(call.session.runDir, outName);
  const result = await kubectl(
    call,
    ['diff', '--server-side', `--field-manager=${settings.fieldManager}`, `--force-conflicts=${force}`, '-f', file],
    {
      timeoutMs: settings.timeoutMs,
      okExitCodes: [0, 1],
      env: { KUBECTL_EXTERNAL_DIFF: call.session.diffProgram, TIDELINE_DIFF_OUT: outDir },
    },
  );
  if (result instanceof ExecError) return result;
  return readDiffOutput(outDir);
}

/** `kubectl diff --server-side` of `objects` (whose namespaces exist). */
export async function serverDiff(
  call: KubectlCall,
  objects: readonly ManifestObject[],
  settings: DiffSettings,
): Promise<ServerDiff | StepFailure> {
  const conflicts = new Map<string, string>();
  if (objects.length === 0) return { ok: true, pairs: [], conflicts };
  const file = await writeRunFile(call, 'bundle.yaml', documentsYaml(objects.map((o) => o.object)));
  const all = await runDiff(call, file, 'out-bundle', settings.force, settings);
  if (!(all instanceof ExecError)) return { ok: true, pairs: all, conflicts };
  if (settings.force || !isConflict(all)) return diffFailure(call, all, settings);

  // kubectl diff stops at the first failing object: diff one by one to name every conflict.
  const pairs: ObjectPair[] = [];
  for (const [index, object] of objects.entries()) {
    const one = await writeRunFile(call, `object-${index + 1}.yaml`, documentsYaml([object.object]));
    const result = await runDiff(call, one, `out-${index + 1}`, false, settings);
    if (!(result instanceof ExecError)) {
      pairs.push(...result);
      continue;
    }
    if (!isConflict(result)) return diffFailure(call, result, settings, object.ref);
    conflicts.set(refKey(object.ref), conflictMessage(result));
    // What apply would do once forced: the reviewer sees the drift it would overwrite.
    const forced = await runDiff(call, one, `out-${index + 1}-forced`, true, settings);
    if (forced instanceof ExecError) return diffFailure(call, forced, settings, object.ref);
    pairs.push(...forced);
  }
  return { ok: true, pairs, conflicts };
}

function diffFailure(call: KubectlCall, error: ExecError, settings: DiffSettings, ref?: ObjectRef): StepFailure {
  const text = failureText(call, 'diff', error, settings.timeoutMs);
  return {
    ok: false,
    output: ref === undefined ? text : `${formatRef(ref)}: ${text}`,
    exitCode: error.exitCode ?? NO_EXIT_CODE,
  };
}

export interface PruneCheck {
  ok: true;
  /** Live objects this project applied, still managed by its field manager, no longer in Git. */
  prune: { ref: ObjectRef; live: KubeObject }[];
  /** Candidates left alone, each with why. */
  notes: string[];
}

function managedBy(object: KubeObject, fieldManager: string): boolean {
  const metadata = object['metadata'];
  if (typeof metadata !== 'object' || metadata === null) return false;
  const entries = (metadata as Record<string, unknown>)['managedFields'];
  if (!Array.isArray(entries)) return false;
  return entries.some((entry: unknown) => {
    const e = entry as Record<string, unknown> | null;
    return e !== null && e['manager'] === fieldManager && e['operation'] === 'Apply';
  });
}

function unservedKind(error: ExecError): boolean {
  return /no matches for kind|doesn't have a resource type|could not find the requested resource/.test(error.stderr);
}

/** The objects of `previouslyApplied` that are not in the bundle. */
export function pruneCandidates(bundle: readonly ObjectRef[], previouslyApplied: readonly ObjectRef[]): ObjectRef[] {
  const inBundle = new Set(bundle.map(refKey));
  const seen = new Set<string>();
  const candidates: ObjectRef[] = [];
  for (const ref of previouslyApplied) {
    const key = refKey(ref);
    if (inBundle.has(key) || seen.has(key)) continue;
    seen.add(key);
    candidates.push(ref);
  }
  return candidates;
}

/**
 * Which candidates to delete: those that still exist and are still managed (Apply) by this
 * project's field manager. Gone ones and ones someone else took over are left alone, and said so.
 */
export async function checkPrune(
  call: KubectlCall,
  candidates: readonly ObjectRef[],
  fieldManager: string,
  timeoutMs: number,
): Promise<PruneCheck | StepFailure> {
  const check: PruneCheck = { ok: true, prune: [], notes: [] };
  if (candidates.length === 0) return check;
  let live = await getObjects(call, candidates, timeoutMs);
  let checkable = [...candidates];
  if (live instanceof ExecError) {
    // One kind no longer served (a CRD removed) fails the whole get: look one by one.
    const found: KubeObject[] = [];
    checkable = [];
    for (const ref of candidates) {
      const one = await getObjects(call, [ref], timeoutMs);
      if (!(one instanceof ExecError)) {
        found.push(...one);
        checkable.push(ref);
      } else if (unservedKind(one)) {
        check.notes.push(`${formatRef(ref)} was applied before, but the cluster no longer serves its kind: nothing to prune`);
      } else {
        return { ok: false, output: failureText(call, 'get', one, timeoutMs), exitCode: one.exitCode ?? NO_EXIT_CODE };
      }
    }
    live = found;
  }
  const pairs = matchPairs(checkable, live.map((object) => ({ name: '', live: object, merged: null })));
  for (const ref of checkable) {
    const object = pairs.get(refKey(ref))?.live ?? null;
    if (object === null) {
      check.notes.push(`${formatRef(ref)} was applied before and no longer exists: nothing to prune`);
    } else if (!managedBy(object, fieldManager)) {
      check.notes.push(`${formatRef(ref)} is no longer managed by field manager "${fieldManager}": not pruned`);
    } else {
      check.prune.push({ ref, live: object });
    }
  }
  return check;
}

/**
 * Prune candidates of a project, less those another project declares (`claimed`: applied or
 * planned elsewhere; `held`: only planned elsewhere, which the project keeps remembering, since
 * that plan may never be applied).
 */
export function unclaimedCandidates(
  refs: readonly ObjectRef[],
  previouslyApplied: readonly ObjectRef[],
  claimedElsewhere: readonly ObjectRef[] = [],
  plannedElsewhere: readonly ObjectRef[] = [],
): { candidates: ObjectRef[]; claimed: ObjectRef[]; held: ObjectRef[] } {
  const all = pruneCandidates(refs, previouslyApplied);
  const applied = new Set(claimedElsewhere.map(refKey));
  const planned = new Set(plannedElsewhere.map(refKey));
  const claimedBy = (r: ObjectRef): boolean => applied.has(refKey(r)) || planned.has(refKey(r));
  return {
    candidates: all.filter((r) => !claimedBy(r)),
    claimed: all.filter(claimedBy),
    held: all.filter((r) => planned.has(refKey(r)) && !applied.has(refKey(r))),
  };
}

export function movedNote(claimed: readonly ObjectRef[]): string {
  const one = claimed.length === 1;
  return `not pruned: ${claimed.map(formatRef).join(', ')} ${one ? 'is' : 'are'} no longer in this project but another project declares ${one ? 'it' : 'them'} now`;
}
