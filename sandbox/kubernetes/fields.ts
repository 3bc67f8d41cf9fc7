// Field paths as server-side apply sees them (sigs.k8s.io/structured-merge-diff, simplified):
// a path is a list of elements `f:<field>` and `k:<json key>` (an item of a list merged by key,
// such as `containers` by `name`). Maps are never members themselves, only their fields; scalars
// and atomic lists are members; a keyed list item is a member and so are its fields. Lists of
// registered (custom) groups are atomic, as they are for a CRD without list-type markers. An
// empty map is a member too (`emptyDir: {}`).

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type JsonObject = { [key: string]: Json };

/** Path key → fingerprint of the value there (what a comparison of two objects compares). */
export type Members = Map<string, string>;

const SEP = '\u0000';
const ITEM = 'item';

/** Lists merged by key in the built-in groups, by field name. `ports` is decided by content. */
const LIST_KEYS: Readonly<Record<string, readonly string[]>> = {
  containers: ['name'],
  initContainers: ['name'],
  ephemeralContainers: ['name'],
  env: ['name'],
  volumes: ['name'],
  volumeMounts: ['mountPath'],
  volumeDevices: ['devicePath'],
  imagePullSecrets: ['name'],
  hostAliases: ['ip'],
  ownerReferences: ['uid'],
};

/** Set by the server, never owned by a field manager (as in the real server's strip set). */
const SERVER_METADATA = [
  'name', 'namespace', 'uid', 'resourceVersion', 'generation', 'creationTimestamp',
  'deletionTimestamp', 'managedFields', 'selfLink',
];

export function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function clone<T>(value: T): T {
  return structuredClone(value);
}

/** JSON with object keys sorted: equal values, equal strings. */
export function stableJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableJson).join(',')}]`;
  if (isObject(value)) {
    const keys = Object.keys(value).sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${stableJson(value[k])}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

export function deepEqual(a: unknown, b: unknown): boolean {
  return stableJson(a) === stableJson(b);
}

function listKeys(field: string | null, items: readonly Json[], builtIn: boolean): readonly string[] | null {
  if (!builtIn || field === null || items.length === 0 || !items.every(isObject)) return null;
  let keys = LIST_KEYS[field] ?? null;
  if (field === 'ports') {
    const objects = items as JsonObject[];
    if (objects.every((i) => i['containerPort'] !== undefined)) keys = ['containerPort', 'protocol'];
    else if (objects.every((i) => i['port'] !== undefined)) keys = ['port', 'protocol'];
  }
  if (keys === null) return null;
  const seen = new Set<string>();
  for (const item of items as JsonObject[]) {
    const key = keyElement(item, keys);
    if (key === null || seen.has(key)) return null;
    seen.add(key);
  }
  return keys;
}

/** `k:{"name":"web"}` for an item; `protocol` defaults to TCP as the real server defaults it. */
function keyElement(item: JsonObject, keys: readonly string[]): string | null {
  const key: JsonObject = {};
  for (const name of [...keys].sort()) {
    const value = item[name] ?? (name === 'protocol' ? 'TCP' : undefined);
    if (value === undefined || isObject(value) || Array.isArray(value)) return null;
    key[name] = value;
  }
  return `k:${stableJson(key)}`;
}

/** The object without what the server owns: apiVersion, kind, status, server metadata. */
export function userFields(object: JsonObject): JsonObject {
  const { apiVersion: _a, kind: _k, status: _s, metadata, ...rest } = object;
  const result: JsonObject = { ...clone(rest) };
  if (isObject(metadata)) {
    const meta = clone(metadata);
    for (const name of SERVER_METADATA) delete meta[name];
    if (Object.keys(meta).length > 0) result['metadata'] = meta;
  }
  return result;
}

/** Every member of `object` (see the file comment) with a fingerprint of its value. */
export function members(object: JsonObject, builtIn: boolean): Members {
  const out: Members = new Map();
  walk(userFields(object), [], null, builtIn, out);
  return out;
}

function walk(value: Json, path: string[], field: string | null, builtIn: boolean, out: Members): void {
  if (isObject(value)) {
    for (const [name, child] of Object.entries(value)) {
      const childPath = [...path, `f:${name}`];
      // An empty map (`emptyDir: {}`) is a member itself, as in structured-merge-diff.
      if (isObject(child) && Object.keys(child).length === 0) out.set(childPath.join(SEP), 'map:{}');
      else walk(child, childPath, name, builtIn, out);
    }
    return;
  }
  if (Array.isArray(value)) {
    const keys = listKeys(field, value, builtIn);
    if (keys === null) {
      if (path.length > 0) out.set(path.join(SEP), `atomic:${stableJson(value)}`);
      return;
    }
    for (const item of value as JsonObject[]) {
      const itemPath = [...path, keyElement(item, keys) ?? ''];
      out.set(itemPath.join(SEP), ITEM);
      walk(item, itemPath, null, builtIn, out);
    }
    return;
  }
  if (path.length > 0) out.set(path.join(SEP), `scalar:${JSON.stringify(value)}`);
}

export function splitPath(key: string): string[] {
  return key.split(SEP);
}

export function joinPath(path: readonly string[]): string {
  return path.join(SEP);
}

/** Union of `sets`. */
export function union(...sets: Iterable<string>[]): Set<string> {
  const result = new Set<string>();
  for (const set of sets) for (const key of set) result.add(key);
  return result;
}

export interface Comparison {
  added: Set<string>;
  removed: Set<string>;
  modified: Set<string>;
}

export function compare(before: Members, after: Members): Comparison {
  const result: Comparison = { added: new Set(), removed: new Set(), modified: new Set() };
  for (const [key, value] of after) {
    const old = before.get(key);
    if (old === undefined) result.added.add(key);
    else if (old !== value) result.modified.add(key);
  }
  for (const key of before.keys()) if (!after.has(key)) result.removed.add(key);
  return result;
}

/**
 * `config` merged into `live`: maps field by field, keyed lists item by item (new items after
 * the live ones), everything else replaced.
 */
export function merge(live: Json | undefined, config: Json, field: string | null, builtIn: boolean): Json {
  if (isObject(live) && isObject(config)) {
    const result: JsonObject = clone(live);
    for (const [name, value] of Object.entries(config)) result[name] = merge(live[name], value, name, builtIn);
    return result;
  }
  if (Array.isArray(live) && Array.isArray(config)) {
    const keys = listKeys(field, config, builtIn);
    if (keys === null || listKeys(field, live, builtIn) === null) return clone(config);
    const result = clone(live) as JsonObject[];
    for (const item of config as JsonObject[]) {
      const key = keyElement(item, keys);
      const at = result.findIndex((r) => keyElement(r, keys) === key);
      if (at >= 0) result[at] = merge(result[at], item, null, builtIn) as JsonObject;
      else result.push(clone(item));
    }
    return result;
  }
  return clone(config);
}

/** Removes the member at `key` from `object` (in place), then any map or list it left empty. */
export function removePath(object: JsonObject, key: string): void {
  const path = splitPath(key);
  const trail: { container: JsonObject | Json[]; at: string | number }[] = [];
  let current: Json = object;
  for (const element of path) {
    if (element.startsWith('f:') && isObject(current)) {
      const name = element.slice(2);
      if (!(name in current)) return;
      trail.push({ container: current, at: name });
      current = current[name] ?? null;
    } else if (element.startsWith('k:') && Array.isArray(current)) {
      const wanted = JSON.parse(element.slice(2)) as JsonObject;
      const at = current.findIndex((item) => isObject(item) && matchesKey(item, wanted));
      if (at < 0) return;
      trail.push({ container: current, at });
      current = current[at] ?? null;
    } else {
      return;
    }
  }
  for (let i = trail.length - 1; i >= 0; i -= 1) {
    const step = trail[i];
    if (step === undefined) return;
    if (i < trail.length - 1) {
      const child = Array.isArray(step.container) ? step.container[step.at as number] : step.container[step.at as string];
      const empty = (isObject(child) && Object.keys(child).length === 0) || (Array.isArray(child) && child.length === 0);
      if (!empty) return;
    }
    if (Array.isArray(step.container)) step.container.splice(step.at as number, 1);
    else delete step.container[step.at as string];
  }
}

function matchesKey(item: JsonObject, wanted: JsonObject): boolean {
  return Object.entries(wanted).every(([name, value]) => (item[name] ?? (name === 'protocol' ? 'TCP' : undefined)) === value);
}

/** `.spec.template.spec.containers[name="web"].image`: how the server names a field in a conflict. */
export function describePath(key: string): string {
  return splitPath(key)
    .map((element) => {
      if (element.startsWith('f:')) return `.${element.slice(2)}`;
      const parts = Object.entries(JSON.parse(element.slice(2)) as JsonObject).map(
        ([name, value]) => `${name}=${JSON.stringify(value)}`,
      );
      return `[${parts.join(',')}]`;
    })
    .join('');
}

interface FieldNode {
  member: boolean;
  children: Map<string, FieldNode>;
}

/** A set of paths as the `fieldsV1` object of a managedFields entry. */
export function fieldsV1(paths: Iterable<string>): JsonObject {
  const root: FieldNode = { member: false, children: new Map() };
  for (const key of paths) {
    let node = root;
    for (const element of splitPath(key)) {
      let child = node.children.get(element);
      if (child === undefined) {
        child = { member: false, children: new Map() };
        node.children.set(element, child);
      }
      node = child;
    }
    node.member = true;
  }
  return encodeNode(root);
}

function encodeNode(node: FieldNode): JsonObject {
  const result: JsonObject = {};
  if (node.member && node.children.size > 0) result['.'] = {};
  for (const name of [...node.children.keys()].sort()) {
    const child = node.children.get(name);
    if (child !== undefined) result[name] = encodeNode(child);
  }
  return result;
}
