// What `kubectl diff` hands its external diff program (a LIVE and a MERGED directory, one YAML
// file per object) turned into per-object pairs; Secret values masked on both sides before
// anything is compared or shown; server-owned noise (managedFields, uid, resourceVersion, …)
// left out of the diff, as Argo CD and Flux leave it out.

import { READ_YAML } from './manifests.js';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { parse } from 'yaml';
import { groupOf, objectYaml, refKey } from './manifests.js';
import { unifiedDiff } from './kubernetes-text-diff.js';
import type { ObjectAction, ObjectRef } from './types.js';

export type KubeObject = Record<string, unknown>;

export interface ObjectPair {
  /** kubectl's file name: `<group.>version.Kind.namespace.name`. */
  name: string;
  live: KubeObject | null;
  merged: KubeObject | null;
}

const LAST_APPLIED = 'kubectl.kubernetes.io/last-applied-configuration';
const SERVER_METADATA = ['managedFields', 'uid', 'resourceVersion', 'generation', 'creationTimestamp', 'selfLink'];

function isRecord(value: unknown): value is KubeObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

async function readObjects(dir: string): Promise<Map<string, KubeObject>> {
  const objects = new Map<string, KubeObject>();
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return objects;
  }
  for (const name of names) {
    // kubectl writes `null` for the live side of a Secret that does not exist yet.
    const value: unknown = parse(await readFile(path.join(dir, name), 'utf8'), READ_YAML);
    if (isRecord(value)) objects.set(name, value);
  }
  return objects;
}

/** The pairs one `kubectl diff` run left in `outDir` (`live/` and `merged/`). */
export async function readDiffOutput(outDir: string): Promise<ObjectPair[]> {
  const live = await readObjects(path.join(outDir, 'live'));
  const merged = await readObjects(path.join(outDir, 'merged'));
  const names = [...new Set([...live.keys(), ...merged.keys()])].sort();
  return names.map((name) => ({ name, live: live.get(name) ?? null, merged: merged.get(name) ?? null }));
}

/** The object a pair is about, read from its content (file names are ambiguous with dots). */
export function pairRef(pair: ObjectPair): ObjectRef | null {
  const object = pair.merged ?? pair.live;
  if (object === null) return null;
  const metadata = isRecord(object['metadata']) ? object['metadata'] : {};
  if (typeof object['apiVersion'] !== 'string' || typeof object['kind'] !== 'string' || typeof metadata['name'] !== 'string') {
    return null;
  }
  const namespace = typeof metadata['namespace'] === 'string' && metadata['namespace'] !== '' ? metadata['namespace'] : null;
  return { apiVersion: object['apiVersion'], kind: object['kind'], namespace, name: metadata['name'] };
}

/** `apps.v1.Deployment.shop.web`: kubectl's name for an object's diff file. */
export function diffFileName(ref: ObjectRef): string {
  const group = groupOf(ref.apiVersion);
  const version = ref.apiVersion.slice(ref.apiVersion.indexOf('/') + 1);
  return `${group === '' ? '' : `${group}.`}${version}.${ref.kind}.${ref.namespace ?? ''}.${ref.name}`;
}

function isSecret(object: KubeObject | null): boolean {
  return object !== null && object['kind'] === 'Secret' && object['apiVersion'] === 'v1';
}

/**
 * Masks `keys` (default: all) of two records in place: `***` where both sides agree or only one
 * has the key, `*** (before)` / `*** (after)` where they differ (kubectl's words).
 */
function maskKeys(a: KubeObject | null, b: KubeObject | null, keys?: readonly string[]): void {
  const names = keys ?? [...new Set([...Object.keys(a ?? {}), ...Object.keys(b ?? {})])];
  for (const key of names) {
    const before = a?.[key];
    const after = b?.[key];
    const same = before !== undefined && after !== undefined && JSON.stringify(before) === JSON.stringify(after);
    if (a !== null && before !== undefined) a[key] = same || after === undefined ? '***' : '*** (before)';
    if (b !== null && after !== undefined) b[key] = same || before === undefined ? '***' : '*** (after)';
  }
}

function child(object: KubeObject | null, ...keys: string[]): KubeObject | null {
  let current: unknown = object;
  for (const key of keys) current = isRecord(current) ? current[key] : undefined;
  return isRecord(current) ? current : null;
}

/**
 * Copies of a pair with every Secret value masked: `data`, `stringData`, and the
 * last-applied-configuration annotation (which holds the values of a client-side-applied Secret).
 */
export function maskSecrets(live: KubeObject | null, merged: KubeObject | null): [KubeObject | null, KubeObject | null] {
  if (!isSecret(live) && !isSecret(merged)) return [live, merged];
  const a = live === null ? null : structuredClone(live);
  const b = merged === null ? null : structuredClone(merged);
  for (const side of [a, b]) {
    // A malformed Secret (data that is not a map) is masked whole.
    for (const field of ['data', 'stringData']) {
      if (side !== null && side[field] !== undefined && side[field] !== null && !isRecord(side[field])) side[field] = '***';
    }
  }
  maskKeys(child(a, 'data'), child(b, 'data'));
  maskKeys(child(a, 'stringData'), child(b, 'stringData'));
  maskKeys(child(a, 'metadata', 'annotations'), child(b, 'metadata', 'annotations'), [LAST_APPLIED]);
  return [a, b];
}

/** Without what the server owns (status, managedFields, uid, resourceVersion, …). */
export function forDisplay(object: KubeObject | null): KubeObject | null {
  if (object === null) return null;
  const { status: _status, ...rest } = object;
  if (!isRecord(rest['metadata'])) return rest;
  const metadata = { ...rest['metadata'] };
  for (const name of SERVER_METADATA) delete metadata[name];
  return { ...rest, metadata };
}

/** YAML with keys sorted (as kubectl writes it), '' for nothing. */
export function displayYaml(object: KubeObject | null): string {
  return object === null ? '' : objectYaml(sortKeys(object));
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (!isRecord(value)) return value;
  const sorted: KubeObject = {};
  for (const key of Object.keys(value).sort()) sorted[key] = sortKeys(value[key]);
  return sorted;
}

export interface ObjectDiff {
  action: ObjectAction;
  /** Unified diff of the masked, display forms; '' when unchanged. */
  diff: string;
}

/** Action and diff of one object: live null → create, merged null → delete. */
export function diffObject(fileName: string, live: KubeObject | null, merged: KubeObject | null): ObjectDiff {
  const [a, b] = maskSecrets(live, merged);
  const before = displayYaml(forDisplay(a));
  const after = displayYaml(forDisplay(b));
  const action: ObjectAction = live === null ? '+' : merged === null ? '-' : before === after ? '=' : '~';
  return { action, diff: unifiedDiff(before, after, `live/${fileName}`, `merged/${fileName}`) };
}

/**
 * Finds each wanted object's pair: by full identity, else (a ref without a namespace, left to
 * the kubeconfig's) by group, kind and name when exactly one pair has them.
 */
export function matchPairs(wanted: readonly ObjectRef[], pairs: readonly ObjectPair[]): Map<string, ObjectPair> {
  const byKey = new Map<string, ObjectPair>();
  const loose = new Map<string, ObjectPair[]>();
  for (const pair of pairs) {
    const ref = pairRef(pair);
    if (ref === null) continue;
    byKey.set(refKey(ref), pair);
    const looseKey = refKey({ ...ref, namespace: null });
    loose.set(looseKey, [...(loose.get(looseKey) ?? []), pair]);
  }
  const found = new Map<string, ObjectPair>();
  for (const ref of wanted) {
    const exact = byKey.get(refKey(ref));
    const candidates = loose.get(refKey({ ...ref, namespace: null })) ?? [];
    const pair = exact ?? (candidates.length === 1 ? candidates[0] : undefined);
    if (pair !== undefined) found.set(refKey(ref), pair);
  }
  return found;
}
