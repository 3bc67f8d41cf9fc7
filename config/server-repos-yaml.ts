// YAML and zod plumbing shared by the server-side repo rules and the repo config reader: parse a
// document keeping line numbers, turn zod issues into `{ path, message, line }` problems whose
// path is the key path (`projects[2].workspace`), and name the nearest valid key for a typo.

import { isMap, isNode, isPair, isScalar, isSeq, LineCounter, parseDocument, visit } from 'yaml';
import type { Scalar } from 'yaml';
import type { z } from 'zod';
import { editDistance } from './edit-distance.js';

export type KeyPath = readonly (string | number)[];

/** One thing wrong with a YAML config, before the caller words where it is. */
export interface YamlProblem {
  path: KeyPath;
  message: string;
  /** 1-based line of the key (or of the nearest enclosing key that exists), when known. */
  line: number | null;
}

export type ReadYamlResult =
  | { ok: true; data: unknown; lineOf: (path: KeyPath) => number | null }
  /** `syntax`: malformed at `line`; `aliases`: anchors expand too far (an alias bomb, or a file to write out). */
  | { ok: false; kind: 'syntax' | 'aliases'; line: number; reason: string };

/** Alias expansions allowed per document: thousands of `<<: *project` merges, not a billion laughs. */
const MAX_ALIAS_COUNT = 10_000;

export interface ReadYamlOptions {
  /** Keys whose scalar value is text even when it looks like a number (`workspace: 2024`). */
  stringKeys: ReadonlySet<string>;
  /** Keys whose list items are text even when they look like numbers (`extra_args: [-parallelism, 5]`). */
  stringListKeys: ReadonlySet<string>;
}

function asText(node: Scalar): void {
  if (typeof node.value === 'number' || typeof node.value === 'boolean' || typeof node.value === 'bigint') {
    node.value = node.source ?? String(node.value);
  }
}

/** `null` values of mapping keys become `undefined`, so `workspace:` means "not set", as in Atlantis. */
function nullsAsUnset(value: unknown): unknown {
  if (Array.isArray(value)) {
    return value.map(nullsAsUnset);
  }
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) {
      out[key] = item === null ? undefined : nullsAsUnset(item);
    }
    return out;
  }
  return value;
}

/**
 * Parses `text` as one YAML document (merge keys `<<` allowed, duplicate keys refused). Returns
 * plain data and a way to find the line of a key path, or the first syntax error's line.
 */
export function readYaml(text: string, options: ReadYamlOptions): ReadYamlResult {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, merge: true, prettyErrors: false, uniqueKeys: true });
  const [error] = doc.errors;
  if (error !== undefined) {
    return { ok: false, kind: 'syntax', line: lineCounter.linePos(error.pos[0]).line, reason: error.message.split('\n')[0] ?? error.code };
  }
  visit(doc, {
    Pair(_, pair) {
      const key = isScalar(pair.key) ? String(pair.key.value) : null;
      if (key === null) return;
      if (options.stringKeys.has(key) && isScalar(pair.value)) asText(pair.value);
      if (options.stringListKeys.has(key) && isSeq(pair.value)) {
        for (const item of pair.value.items) if (isScalar(item)) asText(item);
      }
    },
  });
  let data: unknown;
  try {
    data = nullsAsUnset(doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT }));
  } catch (err: unknown) {
    return { ok: false, kind: 'aliases', line: 1, reason: err instanceof Error ? err.message : String(err) };
  }
  function lineAt(offset: number): number {
    return lineCounter.linePos(offset).line;
  }
  function lineOf(path: KeyPath): number | null {
    for (let length = path.length; length > 0; length -= 1) {
      const parent: unknown = length === 1 ? doc.contents : doc.getIn(path.slice(0, length - 1), true);
      const last = path[length - 1];
      if (isMap(parent)) {
        const pair = parent.items.find((item) => isPair(item) && isScalar(item.key) && String(item.key.value) === String(last));
        if (pair !== undefined && isNode(pair.key) && pair.key.range) return lineAt(pair.key.range[0]);
      }
      if (isSeq(parent) && typeof last === 'number') {
        const item: unknown = parent.items[last];
        if (isNode(item) && item.range) return lineAt(item.range[0]);
      }
    }
    return isNode(doc.contents) && doc.contents.range ? lineAt(doc.contents.range[0]) : null;
  }
  return { ok: true, data, lineOf };
}

/** `projects[2].workspace`; keys that are not plain words are quoted: `workflows["a.b"]`. */
export function formatKeyPath(path: KeyPath): string {
  let out = '';
  for (const segment of path) {
    if (typeof segment === 'number') out += `[${segment}]`;
    else if (/^[A-Za-z0-9_-]+$/.test(segment)) out += out === '' ? segment : `.${segment}`;
    else out += `[${JSON.stringify(segment)}]`;
  }
  return out;
}

/** The candidate closest to `word` (camelCase and dashes read as snake_case), or null when none is close. */
export function nearestKey(word: string, candidates: readonly string[]): string | null {
  const normal = word
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .toLowerCase()
    .replace(/-/g, '_');
  let best: string | null = null;
  let bestDistance = Number.POSITIVE_INFINITY;
  for (const candidate of candidates) {
    const distance = editDistance(normal, candidate);
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  const limit = Math.max(2, Math.floor(normal.length / 3));
  return best !== null && bestDistance <= limit ? best : null;
}

/** "is not a valid key of a project: did you mean `workspace`? Valid keys: …" */
export function unknownKeyMessage(key: string, known: readonly string[], place: string): string {
  const near = nearestKey(key, known);
  const hint = near === null ? `remove it` : `did you mean \`${near}\`?`;
  return `is not a valid key ${place}: ${hint} Valid keys: ${known.join(', ')}`;
}

interface DefLike {
  type: string;
  shape?: Record<string, unknown>;
  element?: unknown;
  valueType?: unknown;
  innerType?: unknown;
  in?: unknown;
}

function defOf(schema: unknown): DefLike | null {
  const internals = (schema as { _zod?: { def?: DefLike } } | null)?._zod;
  return internals?.def ?? null;
}

const WRAPPERS = new Set(['optional', 'nullable', 'default', 'prefault', 'nonoptional', 'readonly', 'catch']);

function unwrap(schema: unknown): unknown {
  let current = schema;
  for (let depth = 0; depth < 20; depth += 1) {
    const def = defOf(current);
    if (def === null) return current;
    if (WRAPPERS.has(def.type)) current = def.innerType;
    else if (def.type === 'pipe') current = def.in;
    else return current;
  }
  return current;
}

/** The keys the object schema at `path` inside `schema` allows, or null when there is none. */
export function knownKeysAt(schema: z.ZodType, path: KeyPath): string[] | null {
  let current: unknown = schema;
  for (const segment of path) {
    const def = defOf(unwrap(current));
    if (def === null) return null;
    if (def.type === 'array' && typeof segment === 'number') current = def.element;
    else if (def.type === 'object' && typeof segment === 'string' && def.shape !== undefined) current = def.shape[segment];
    else if (def.type === 'record' && typeof segment === 'string') current = def.valueType;
    else return null;
  }
  const def = defOf(unwrap(current));
  return def?.type === 'object' && def.shape !== undefined ? Object.keys(def.shape) : null;
}

/** How to say where an object is: `of a project`, `in \`autoplan\``, `at the top level`. */
export function placeOf(path: KeyPath, nouns: Readonly<Record<string, string>>): string {
  const last = path[path.length - 1];
  if (last === undefined) return 'at the top level';
  if (typeof last === 'number') {
    const list = path[path.length - 2];
    return `of ${typeof list === 'string' ? (nouns[list] ?? `a \`${list}\` item`) : 'a list item'}`;
  }
  const parent = path[path.length - 2];
  if (typeof parent === 'string' && nouns[`${parent}.*`] !== undefined) return `of ${nouns[`${parent}.*`]}`;
  return `in \`${last}\``;
}

/** Every zod issue as a problem; an unknown key becomes one problem per key, naming the nearest valid key. */
export function issuesToProblems(
  schema: z.ZodType,
  issues: readonly z.core.$ZodIssue[],
  lineOf: (path: KeyPath) => number | null,
  nouns: Readonly<Record<string, string>>,
): YamlProblem[] {
  const problems: YamlProblem[] = [];
  for (const issue of issues) {
    const path = issue.path.filter((segment): segment is string | number => typeof segment !== 'symbol');
    if (issue.code === 'unrecognized_keys') {
      const known = knownKeysAt(schema, path) ?? [];
      for (const key of issue.keys) {
        const at = [...path, key];
        problems.push({ path: at, message: unknownKeyMessage(key, known, placeOf(path, nouns)), line: lineOf(at) });
      }
      continue;
    }
    if (issue.code === 'invalid_key') {
      problems.push({ path, message: `is not a usable name: ${issue.issues[0]?.message ?? 'rename it'}`, line: lineOf(path) });
      continue;
    }
    const message = issue.message.startsWith('Invalid input') ? `is not what this key takes (${issue.message.replace(/^Invalid input: /, '')}): fix the value` : issue.message;
    problems.push({ path, message, line: lineOf(path) });
  }
  return problems;
}

/** A value as a message shows it: `` `helm` ``, `` `[1,2]` ``, or `nothing`. */
export function shownValue(input: unknown): string {
  if (input === undefined) return 'nothing';
  const text = typeof input === 'string' ? input : JSON.stringify(input) ?? String(input);
  return `\`${text.length > 40 ? `${text.slice(0, 37)}...` : text}\``;
}

/** zod `error` for a choice: "is `helm`: use terraform or kubernetes". */
export function choiceError(values: readonly string[]): (issue: { input?: unknown }) => string {
  const listed = values.length < 2 ? values.join('') : `${values.slice(0, -1).join(', ')} or ${values[values.length - 1] ?? ''}`;
  return (issue) => `is ${shownValue(issue.input)}: use ${listed}`;
}

/** zod `error` for a boolean: "is `maybe`: write true or false". */
export function booleanError(issue: { input?: unknown }): string {
  return `is ${shownValue(issue.input)}: write true or false`;
}

/** zod `error` for a wrong type: "is `yes`, not a list of globs: write it like `["*.tf"]`". */
export function expected(what: string, example: string): (issue: { input?: unknown }) => string {
  return (issue) => `is ${shownValue(issue.input)}, not ${what}: write it like ${example}`;
}
