// Reads GitHub's published OpenAPI description (the single generated JSON file, never the
// package index, which loads 385 MB) and turns it into the operation table the checker and
// the response builders use. One load per double instance; nothing is cached at module level.

import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type JsonObject = { [key: string]: Json };

export interface OperationParam {
  name: string;
  in: 'path' | 'query' | 'header' | 'cookie';
  required: boolean;
  multiSegment: boolean;
  schema: JsonObject;
}

export interface OperationEntry {
  method: string;
  template: string;
  operationId: string;
  regex: RegExp;
  pathParams: OperationParam[];
  queryParams: Map<string, OperationParam>;
  /** JSON pointer (inside the document) to the application/json request body schema. */
  bodyPointer: string | null;
  bodyRequired: boolean;
  /** Match preference: more literal segments first, then literals earlier. */
  literalCount: number;
  kinds: number[];
  operation: JsonObject;
  /** JSON pointer (inside the document) to the operation object. */
  pointer: string;
}

export interface OpenApiDocument {
  doc: JsonObject;
  /** Keyed by upper-case method. */
  operations: Map<string, OperationEntry[]>;
  byId: Map<string, OperationEntry>;
  loadMs: number;
}

export function openApiFilePath(): string {
  // Resolve the package folder through its package.json only; importing the index is what
  // would load every description.
  const require = createRequire(import.meta.url);
  const packageJson = require.resolve('@octokit/openapi/package.json');
  return join(dirname(packageJson), 'generated', 'api.github.com.json');
}

export async function loadOpenApiDocument(path: string = openApiFilePath()): Promise<OpenApiDocument> {
  const started = performance.now();
  const doc = JSON.parse(await readFile(path, 'utf8')) as JsonObject;
  const components = asObject(doc['components']);
  fixNullable(components['schemas'] ?? null);
  fixNullable(components['responses'] ?? null);
  const operations = new Map<string, OperationEntry[]>();
  const byId = new Map<string, OperationEntry>();
  for (const [template, pathItem] of Object.entries(asObject(doc['paths']))) {
    for (const [method, operation] of Object.entries(asObject(pathItem))) {
      if (!isObject(operation) || typeof operation['operationId'] !== 'string') continue;
      const entry = buildEntry(doc, template, method.toUpperCase(), operation);
      const list = operations.get(entry.method) ?? [];
      list.push(entry);
      operations.set(entry.method, list);
      byId.set(entry.operationId, entry);
    }
  }
  return { doc, operations, byId, loadMs: performance.now() - started };
}

function buildEntry(doc: JsonObject, template: string, method: string, operation: JsonObject): OperationEntry {
  const params = asArray(operation['parameters']).map((p) => resolveParam(doc, p));
  const pathParams: OperationParam[] = [];
  const queryParams = new Map<string, OperationParam>();
  for (const param of params) {
    if (param.in === 'query') queryParams.set(param.name, param);
  }
  const kinds: number[] = [];
  let literalCount = 0;
  let pattern = '^';
  for (const segment of template.split('/').slice(1)) {
    const names = [...segment.matchAll(/\{([^}]+)\}/g)].map((found) => found[1] ?? '');
    if (names.length === 0) {
      pattern += '/' + escapeRegExp(segment);
      kinds.push(0);
      literalCount += 1;
      continue;
    }
    // A segment may hold several parameters around literal text ({base}...{head}).
    const resolved = names.map((name) => declaredPathParam(params, name));
    pathParams.push(...resolved);
    const multi = resolved.length === 1 && resolved[0]?.multiSegment === true && segment === `{${names[0]}}`;
    const group = multi ? '(.+)' : '([^/]+?)';
    const literals = segment.split(/\{[^}]+\}/).map((literal) => escapeRegExp(literal));
    pattern += '/' + literals.join(group);
    kinds.push(multi ? 2 : 1);
  }
  const pointer = ['', 'paths', template, method.toLowerCase()].map(escapePointer).join('/');
  const body = findBody(doc, operation, pointer);
  return {
    method,
    template,
    operationId: String(operation['operationId']),
    regex: new RegExp(pattern + '/?$'),
    pathParams,
    queryParams,
    bodyPointer: body?.pointer ?? null,
    bodyRequired: body?.required ?? false,
    literalCount,
    kinds,
    operation,
    pointer,
  };

}

/** Where the application/json request body schema sits, and whether a body is required. */
function findBody(
  doc: JsonObject,
  operation: JsonObject,
  operationPointer: string,
): { pointer: string; required: boolean } | null {
  const raw = operation['requestBody'];
  if (!isObject(raw)) return null;
  const requestBody = resolveRef(doc, raw);
  if (!isObject(asObject(requestBody['content'])['application/json'])) return null;
  const base = typeof raw['$ref'] === 'string' ? raw['$ref'].replace(/^#/, '') : `${operationPointer}/requestBody`;
  return { pointer: `${base}/content/application~1json/schema`, required: requestBody['required'] === true };
}

function declaredPathParam(params: OperationParam[], name: string): OperationParam {
  const declared = params.find((param) => param.in === 'path' && param.name === name);
  return declared ?? { name, in: 'path', required: true, multiSegment: false, schema: { type: 'string' } };
}

function resolveParam(doc: JsonObject, raw: Json): OperationParam {
  const param = resolveRef(doc, raw);
  const where = param['in'];
  return {
    name: String(param['name']),
    in: where === 'path' || where === 'header' || where === 'cookie' ? where : 'query',
    required: param['required'] === true,
    multiSegment: param['x-multi-segment'] === true,
    schema: isObject(param['schema']) ? resolveRef(doc, param['schema']) : {},
  };
}

/** Follows a local `$ref` (`#/components/...`) to its target; other values pass through. */
export function resolveRef(doc: JsonObject, value: Json | undefined): JsonObject {
  let current: Json | undefined = value;
  for (let hops = 0; hops < 8 && isObject(current) && typeof current['$ref'] === 'string'; hops += 1) {
    current = pointerGet(doc, current['$ref'].replace(/^#/, ''));
  }
  return isObject(current) ? current : {};
}

export function pointerGet(doc: Json, pointer: string): Json | undefined {
  let current: Json | undefined = doc;
  for (const raw of pointer.split('/').slice(1)) {
    const key = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    current = isObject(current) ? current[key] : Array.isArray(current) ? current[Number(key)] : undefined;
  }
  return current;
}

/**
 * OpenAPI 3.0 `nullable: true` beside `type` is understood by Ajv; without `type` Ajv refuses
 * the schema, so those become `anyOf: [rest, {type: 'null'}]`. Enums that are nullable also
 * accept null. Rewrites in place (the document belongs to one double instance).
 */
export function fixNullable(node: Json): void {
  if (Array.isArray(node)) {
    for (const item of node) fixNullable(item);
    return;
  }
  if (!isObject(node)) return;
  for (const value of Object.values(node)) fixNullable(value);
  if (node['nullable'] !== true) return;
  const enumValues = node['enum'];
  if (Array.isArray(enumValues) && !enumValues.includes(null)) enumValues.push(null);
  if (node['type'] !== undefined) return;
  const rest: JsonObject = {};
  for (const [key, value] of Object.entries(node)) {
    if (key !== 'nullable') rest[key] = value;
    delete node[key];
  }
  node['anyOf'] = [rest, { type: 'null' }];
}

/** First example of the operation's JSON response for `status`, deep-copied. */
export function exampleResponse(doc: JsonObject, entry: OperationEntry, status: string): Json {
  const response = resolveRef(doc, asObject(entry.operation['responses'])[status]);
  const media = asObject(asObject(response['content'])['application/json']);
  const examples = Object.values(asObject(media['examples']));
  const first = examples[0];
  const value = first === undefined ? media['example'] : resolveRef(doc, first)['value'];
  if (value === undefined) throw new Error(`no ${status} example for ${entry.operationId}`);
  return structuredClone(value);
}

export function isObject(value: Json | undefined): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function asObject(value: Json | undefined): JsonObject {
  return isObject(value) ? value : {};
}

function asArray(value: Json | undefined): Json[] {
  return Array.isArray(value) ? value : [];
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

function escapePointer(segment: string): string {
  return segment.replace(/~/g, '~0').replace(/\//g, '~1');
}
