// The double's objects and the verbs on them: get, list, server-side apply (also as a dry run),
// update (merge patch, kubectl edit) and delete. resourceVersion changes only when something
// really changed; a namespaced object needs its namespace to exist, as on a real server.

import { randomUUID } from 'node:crypto';
import { clone, deepEqual, describePath, fieldsV1, isObject, type Json, type JsonObject } from './fields.js';
import { groupVersion, resourceByGroupKind, splitApiVersion, type ResolvedResource, type ResourceRegistry } from './resources.js';
import { applyConfiguration, FieldConflictError, updateObject, type ManagedResult, type ManagerEntry } from './ssa.js';
import { ApiError, badRequest, notFound, qualifiedName, successStatus, type StatusCause } from './status.js';
import type { ObjectRef } from './types.js';

export interface StoredObject {
  resource: ResolvedResource;
  object: JsonObject;
  managers: ManagerEntry[];
}

export interface StoreState {
  registry: ResourceRegistry;
  objects: Map<string, StoredObject>;
  lastResourceVersion: number;
}

export interface Target {
  resource: ResolvedResource;
  /** null for cluster-scoped resources. */
  namespace: string | null;
  name: string;
}

export interface WriteResult {
  code: number;
  object: JsonObject;
}

const INITIAL_NAMESPACES = ['default', 'kube-system', 'kube-public', 'kube-node-lease'];

function now(): string {
  return new Date().toISOString().replace(/\.\d+Z$/, 'Z');
}

function key(group: string, kind: string, namespace: string | null, name: string): string {
  return [group, kind, namespace ?? '', name].join('\u0000');
}

function targetKey(t: Target): string {
  return key(t.resource.group, t.resource.kind, t.namespace, t.name);
}

export function createStore(registry: ResourceRegistry): StoreState {
  const state: StoreState = { registry, objects: new Map(), lastResourceVersion: 1000 };
  const namespaces = resourceByGroupKind(registry, '', 'Namespace');
  if (namespaces === null) throw new Error('the core group has no Namespace resource');
  for (const name of INITIAL_NAMESPACES) {
    applyObject(state, { resource: namespaces, namespace: null, name }, { apiVersion: 'v1', kind: 'Namespace', metadata: { name } }, {
      fieldManager: 'kube-apiserver', force: true, dryRun: false,
    });
  }
  return state;
}

/** The object as served: apiVersion of its resource, managedFields in its metadata. */
export function render(stored: StoredObject): JsonObject {
  const object = clone(stored.object);
  const metadata = isObject(object['metadata']) ? object['metadata'] : {};
  metadata['managedFields'] = stored.managers.map((m) => ({
    manager: m.manager,
    operation: m.operation,
    apiVersion: m.apiVersion,
    time: m.time,
    fieldsType: 'FieldsV1',
    fieldsV1: fieldsV1(m.fields),
  }));
  return { ...object, apiVersion: groupVersion(stored.resource.group, stored.resource.version), metadata };
}

export function findByRef(state: StoreState, ref: ObjectRef): StoredObject | null {
  const { group } = splitApiVersion(ref.apiVersion);
  return state.objects.get(key(group, ref.kind, ref.namespace, ref.name)) ?? null;
}

export function getObject(state: StoreState, t: Target): JsonObject {
  const stored = state.objects.get(targetKey(t));
  if (stored === undefined) throw notFound(t.resource.plural, t.resource.group, t.name);
  return render(stored);
}

export function listObjects(
  state: StoreState,
  resource: ResolvedResource,
  namespace: string | null,
  selectors: { labelSelector?: string; fieldSelector?: string },
): JsonObject {
  const labels = parseSelector(selectors.labelSelector ?? '', 'labelSelector');
  const fields = parseSelector(selectors.fieldSelector ?? '', 'fieldSelector');
  const items: JsonObject[] = [];
  for (const stored of sortedObjects(state)) {
    if (stored.resource.group !== resource.group || stored.resource.kind !== resource.kind) continue;
    const metadata = stored.object['metadata'] as JsonObject;
    if (namespace !== null && metadata['namespace'] !== namespace) continue;
    const fieldValues: Record<string, string> = {
      'metadata.name': String(metadata['name']),
      'metadata.namespace': typeof metadata['namespace'] === 'string' ? metadata['namespace'] : '',
    };
    const labelValues = isObject(metadata['labels']) ? (metadata['labels'] as Record<string, string>) : {};
    if (!labels.every((term) => term(labelValues)) || !fields.every((term) => term(fieldValues))) continue;
    items.push(render(stored));
  }
  return {
    kind: `${resource.kind}List`,
    apiVersion: groupVersion(resource.group, resource.version),
    metadata: { resourceVersion: String(state.lastResourceVersion) },
    items,
  };
}

export function sortedObjects(state: StoreState): StoredObject[] {
  const name = (s: StoredObject): string => {
    const m = s.object['metadata'] as JsonObject;
    return `${String(m['namespace'] ?? '')}\u0000${String(m['name'])}`;
  };
  return [...state.objects.values()].sort((a, b) => (name(a) < name(b) ? -1 : name(a) > name(b) ? 1 : 0));
}

type Term = (values: Record<string, string>) => boolean;

function parseSelector(text: string, what: string): Term[] {
  const terms: Term[] = [];
  for (const raw of text.split(',')) {
    const part = raw.trim();
    if (part === '') continue;
    const match = /^(!)?([\w./-]+)\s*(?:(==|=|!=)\s*([\w./-]*))?$/.exec(part);
    if (match === null) throw badRequest(`unable to parse requirement: ${what} ${JSON.stringify(part)} is not supported by this double`);
    const [, negate, name = '', op, value = ''] = match;
    if (op === undefined) terms.push((v) => (negate === '!') !== (name in v));
    else if (op === '!=') terms.push((v) => v[name] !== value);
    else terms.push((v) => v[name] === value);
  }
  return terms;
}

export interface ApplyRequest {
  fieldManager: string;
  force: boolean;
  dryRun: boolean;
}

/** Server-side apply: 201 when it created the object, 200 otherwise. */
export function applyObject(state: StoreState, t: Target, body: unknown, req: ApplyRequest): WriteResult {
  const config = checkBody(t, body);
  requireNamespace(state, t);
  const existing = state.objects.get(targetKey(t)) ?? null;
  const metadata = config['metadata'] as JsonObject;
  const wantedVersion = metadata['resourceVersion'];
  if (existing !== null && typeof wantedVersion === 'string' && wantedVersion !== currentVersion(existing)) {
    throw modified(t);
  }
  const current = existing ?? { resource: t.resource, object: skeleton(t), managers: [] };
  let result: ManagedResult;
  try {
    result = applyConfiguration(current, config, req.force, writeContext(t, req.fieldManager));
  } catch (error: unknown) {
    if (error instanceof FieldConflictError) throw conflictError(t, error);
    throw error;
  }
  return commit(state, t, existing, result, req.dryRun);
}

/** An Update (JSON merge patch, and strategic merge patch approximated as one). */
export function patchObject(state: StoreState, t: Target, patch: unknown, req: { fieldManager: string; dryRun: boolean }): WriteResult {
  const existing = state.objects.get(targetKey(t));
  if (existing === undefined) throw notFound(t.resource.plural, t.resource.group, t.name);
  if (!isObject(patch)) throw badRequest('the patch must be a JSON object');
  const updated = mergePatch(clone(existing.object), patch) as JsonObject;
  return update(state, t, existing, updated, req.fieldManager, req.dryRun);
}

/** `kubectl edit` from the test's side. */
export function editObject(state: StoreState, ref: ObjectRef, mutate: (object: JsonObject) => void): JsonObject {
  const existing = findByRef(state, ref);
  if (existing === null) throw new Error(`editOutOfBand: ${ref.kind} ${ref.namespace ?? ''}/${ref.name} does not exist`);
  const t: Target = { resource: existing.resource, namespace: ref.namespace, name: ref.name };
  const edited = clone(existing.object);
  mutate(edited);
  const meta = isObject(edited['metadata']) ? edited['metadata'] : {};
  if (meta['name'] !== ref.name || (meta['namespace'] ?? null) !== ref.namespace || edited['kind'] !== existing.object['kind']) {
    throw new Error('editOutOfBand: the edit may not change kind, name or namespace');
  }
  return update(state, t, existing, edited, 'kubectl-edit', false).object;
}

function update(state: StoreState, t: Target, existing: StoredObject, updated: JsonObject, manager: string, dryRun: boolean): WriteResult {
  const result = updateObject(existing, updated, writeContext(t, manager));
  return commit(state, t, existing, result, dryRun);
}

export function deleteObject(state: StoreState, t: Target, dryRun: boolean): JsonObject {
  const k = targetKey(t);
  const stored = state.objects.get(k);
  if (stored === undefined) throw notFound(t.resource.plural, t.resource.group, t.name);
  const uid = (stored.object['metadata'] as JsonObject)['uid'];
  if (!dryRun) {
    state.objects.delete(k);
    if (t.resource.group === '' && t.resource.kind === 'Namespace') {
      for (const [other, s] of state.objects) {
        if ((s.object['metadata'] as JsonObject)['namespace'] === t.name) state.objects.delete(other);
      }
    }
    state.lastResourceVersion += 1;
  }
  return successStatus({
    name: t.name,
    ...(t.resource.group === '' ? {} : { group: t.resource.group }),
    kind: t.resource.plural,
    ...(typeof uid === 'string' ? { uid } : {}),
  });
}

function writeContext(t: Target, manager: string): Parameters<typeof applyConfiguration>[3] {
  return {
    manager,
    apiVersion: groupVersion(t.resource.group, t.resource.version),
    builtIn: t.resource.builtIn,
    now: now(),
    finish: (object) => normalise(t.resource, object),
  };
}

function commit(state: StoreState, t: Target, existing: StoredObject | null, result: ManagedResult, dryRun: boolean): WriteResult {
  const code = existing === null ? 201 : 200;
  if (!result.changed && existing !== null) return { code, object: render(existing) };
  const object = clone(result.object);
  const metadata = object['metadata'] as JsonObject;
  const before = existing?.object;
  if (before === undefined) {
    metadata['uid'] = randomUUID();
    metadata['creationTimestamp'] = now();
    if (hasGeneration(t.resource, object)) metadata['generation'] = 1;
    if (t.resource.group === '' && t.resource.kind === 'Namespace') object['status'] = { phase: 'Active' };
  } else if (hasGeneration(t.resource, object) && !deepEqual(object['spec'], before['spec'])) {
    const generation = (before['metadata'] as JsonObject)['generation'];
    metadata['generation'] = (typeof generation === 'number' ? generation : 0) + 1;
  }
  if (!dryRun) {
    state.lastResourceVersion += 1;
    metadata['resourceVersion'] = String(state.lastResourceVersion);
  } else if (before === undefined) {
    delete metadata['resourceVersion'];
  }
  object['metadata'] = orderedMetadata(metadata);
  const stored: StoredObject = { resource: t.resource, object, managers: result.managers };
  if (!dryRun) state.objects.set(targetKey(t), stored);
  return { code, object: render(stored) };
}

/** Objects with a spec outside the core group count spec changes in metadata.generation. */
function hasGeneration(resource: ResolvedResource, object: JsonObject): boolean {
  return resource.group !== '' && object['spec'] !== undefined;
}

const METADATA_ORDER = ['name', 'generateName', 'namespace', 'uid', 'resourceVersion', 'generation', 'creationTimestamp'];

function orderedMetadata(metadata: JsonObject): JsonObject {
  const ordered: JsonObject = {};
  for (const name of METADATA_ORDER) if (metadata[name] !== undefined) ordered[name] = metadata[name] ?? null;
  for (const [name, value] of Object.entries(metadata)) if (!(name in ordered)) ordered[name] = value;
  return ordered;
}

/** What the real server does to every write of these kinds. */
function normalise(resource: ResolvedResource, object: JsonObject): void {
  if (resource.group !== '' || resource.kind !== 'Secret') return;
  const stringData = object['stringData'];
  if (isObject(stringData)) {
    const data = isObject(object['data']) ? object['data'] : {};
    for (const [name, value] of Object.entries(stringData)) {
      data[name] = Buffer.from(typeof value === 'string' ? value : String(value), 'utf8').toString('base64');
    }
    object['data'] = data;
  }
  delete object['stringData'];
  if (object['type'] === undefined) object['type'] = 'Opaque';
}

function currentVersion(stored: StoredObject): string {
  return String((stored.object['metadata'] as JsonObject)['resourceVersion']);
}

function skeleton(t: Target): JsonObject {
  const metadata: JsonObject = { name: t.name };
  if (t.namespace !== null) metadata['namespace'] = t.namespace;
  return { apiVersion: groupVersion(t.resource.group, t.resource.version), kind: t.resource.kind, metadata };
}

function checkBody(t: Target, body: unknown): JsonObject {
  if (!isObject(body)) throw badRequest('the request body must be an object');
  const expected = groupVersion(t.resource.group, t.resource.version);
  if (body['apiVersion'] !== expected) {
    throw badRequest(`the API version in the data (${String(body['apiVersion'])}) does not match the expected API version (${expected})`);
  }
  if (body['kind'] !== t.resource.kind) {
    throw badRequest(`the kind in the data (${String(body['kind'])}) does not match the expected kind (${t.resource.kind})`);
  }
  const metadata = isObject(body['metadata']) ? clone(body['metadata']) : {};
  if (metadata['name'] !== undefined && metadata['name'] !== t.name) {
    throw badRequest(`the name of the object (${String(metadata['name'])}) does not match the name on the URL (${t.name})`);
  }
  if (t.namespace === null) delete metadata['namespace'];
  else if (metadata['namespace'] !== undefined && metadata['namespace'] !== t.namespace) {
    throw badRequest('the namespace of the provided object does not match the namespace sent on the request');
  }
  metadata['name'] = t.name;
  if (t.namespace !== null) metadata['namespace'] = t.namespace;
  return { ...clone(body), metadata };
}

function requireNamespace(state: StoreState, t: Target): void {
  if (t.namespace === null) return;
  if (!state.objects.has(key('', 'Namespace', null, t.namespace))) {
    throw new ApiError(404, 'NotFound', `namespaces ${JSON.stringify(t.namespace)} not found`, { name: t.namespace, kind: 'namespaces' });
  }
}

function modified(t: Target): ApiError {
  return new ApiError(
    409,
    'Conflict',
    `Operation cannot be fulfilled on ${qualifiedName(t.resource.plural, t.resource.group, t.name)}: the object has been modified; please apply your changes to the latest version and try again`,
    { name: t.name, ...(t.resource.group === '' ? {} : { group: t.resource.group }), kind: t.resource.plural },
  );
}

function who(entry: ManagerEntry): string {
  return entry.operation === 'Update' ? `"${entry.manager}" using ${entry.apiVersion}` : `"${entry.manager}"`;
}

/** 409 as the real server words it (structured-merge-diff's Conflicts.Error). */
function conflictError(t: Target, error: FieldConflictError): ApiError {
  const { conflicts } = error;
  const causes: StatusCause[] = conflicts.map((c) => ({
    reason: 'FieldManagerConflict',
    message: `conflict with ${who(c.entry)}`,
    field: describePath(c.path),
  }));
  let text: string;
  const first = conflicts[0];
  if (conflicts.length === 1 && first !== undefined) {
    text = `conflict with ${who(first.entry)}: ${describePath(first.path)}`;
  } else {
    const byManager = new Map<string, string[]>();
    for (const c of conflicts) byManager.set(who(c.entry), [...(byManager.get(who(c.entry)) ?? []), describePath(c.path)]);
    const blocks = [...byManager].map(([manager, paths]) => `${manager}:\n${paths.map((p) => `- ${p}\n`).join('')}`);
    text = byManager.size === 1 ? `conflicts with ${blocks[0] ?? ''}` : `conflicts with${blocks.map((b) => `\n${b}`).join('')}`;
  }
  const plural = conflicts.length === 1 ? '' : 's';
  return new ApiError(409, 'Conflict', `Apply failed with ${conflicts.length} conflict${plural}: ${text}`, {
    name: t.name,
    ...(t.resource.group === '' ? {} : { group: t.resource.group }),
    kind: t.resource.plural,
    causes,
  });
}

/** RFC 7386 JSON merge patch. */
function mergePatch(target: Json | undefined, patch: Json): Json {
  if (!isObject(patch)) return clone(patch);
  const result: JsonObject = isObject(target) ? target : {};
  for (const [name, value] of Object.entries(patch)) {
    if (value === null) delete result[name];
    else result[name] = mergePatch(result[name], value);
  }
  return result;
}
