// Checks one HTTP request against GitHub's OpenAPI description: the method + path must be a
// real operation, query names must be declared (and enum / integer values valid), and a JSON
// body must satisfy the operation's requestBody schema (Ajv over the whole document, so
// `#/components/...` refs resolve in place).

import { Ajv, type ValidateFunction } from 'ajv';
import {
  asObject,
  fixNullable,
  isObject,
  pointerGet,
  resolveRef,
  type Json,
  type OpenApiDocument,
  type OperationEntry,
  type OperationParam,
} from './openapi-document.js';

export interface CheckedRequest {
  method: string;
  /** Raw (still percent-encoded) path, without query. */
  pathname: string;
  query: URLSearchParams;
  /** Parsed JSON body; undefined when the request had none. */
  body: Json | undefined;
}

export type CheckResult =
  | {
      ok: true;
      entry: OperationEntry;
      params: Record<string, string>;
      /** Top-level body fields the operation does not declare: GitHub ignores them, so a typo goes unseen. */
      undeclared: string[];
    }
  | { ok: false; status: 404 | 422; message: string; violation: string };

export interface RequestChecker {
  check(request: CheckedRequest): CheckResult;
  /** Problems of a response body against the operation's declared response schema ([] = fits). */
  checkResponse(entry: OperationEntry, status: number, body: Json): string[];
  /** Whether GitHub's description lists `status` among the operation's responses. */
  declaresStatus(entry: OperationEntry, status: number): boolean;
}

const DOCUMENT_ID = 'https://tideline.invalid/api.github.com.json';

export function createRequestChecker(api: OpenApiDocument): RequestChecker {
  let ajv: Ajv | null = null;
  const validators = new Map<string, ValidateFunction>();

  function validatorFor(pointer: string): ValidateFunction {
    const cached = validators.get(pointer);
    if (cached !== undefined) return cached;
    if (ajv === null) {
      ajv = new Ajv({ strict: false, allErrors: true, validateFormats: false, validateSchema: false });
      ajv.addSchema(api.doc, DOCUMENT_ID);
    }
    fixNullable(pointerGet(api.doc, pointer) ?? null);
    const validate = ajv.compile({ $ref: `${DOCUMENT_ID}#${encodePointer(pointer)}` });
    validators.set(pointer, validate);
    return validate;
  }

  function check(request: CheckedRequest): CheckResult {
    const label = `${request.method} ${request.pathname}`;
    const match = matchOperation(api, request.method, request.pathname);
    if (match === null) {
      return {
        ok: false,
        status: 404,
        message: 'Not Found',
        violation: `${label}: not an operation of GitHub's REST API`,
      };
    }
    const { entry, params } = match;
    const problems: string[] = [];
    for (const param of entry.pathParams) {
      const value = params[param.name] ?? '';
      const problem = checkScalar(param, value);
      if (problem !== null) problems.push(`path parameter ${param.name}: ${problem}`);
    }
    problems.push(...checkQuery(entry, request.query));
    problems.push(...checkBody(entry, request.body));
    if (problems.length === 0) return { ok: true, entry, params, undeclared: undeclaredFields(entry, request.body) };
    return {
      ok: false,
      status: 422,
      message: `Invalid request.\n\n${problems.join('\n')}`,
      violation: `${label} (${entry.operationId}): ${problems.join('; ')}`,
    };
  }

  function checkBody(entry: OperationEntry, body: Json | undefined): string[] {
    if (entry.bodyPointer === null) return [];
    if (body === undefined) return entry.bodyRequired ? ['request body is required'] : [];
    return validateAt(entry.bodyPointer, body, 'body');
  }

  function undeclaredFields(entry: OperationEntry, body: Json | undefined): string[] {
    if (entry.bodyPointer === null || !isObject(body)) return [];
    const declared = declaredProperties(api, pointerGet(api.doc, entry.bodyPointer));
    if (declared === null) return [];
    return Object.keys(body).filter((key) => !declared.has(key));
  }

  function checkResponse(entry: OperationEntry, status: number, body: Json): string[] {
    const pointer = responsePointer(api, entry, status);
    return pointer === null ? [] : validateAt(pointer, body, 'response');
  }

  function declaresStatus(entry: OperationEntry, status: number): boolean {
    return String(status) in asObject(entry.operation['responses']);
  }

  function validateAt(pointer: string, value: Json, label: string): string[] {
    const validate = validatorFor(pointer);
    if (validate(value)) return [];
    return (validate.errors ?? []).map((error) => {
      const where = error.instancePath === '' ? label : `${label}${error.instancePath}`;
      return `${where} ${error.message ?? 'is invalid'}${formatParams(error.params)}`;
    });
  }

  return { check, checkResponse, declaresStatus };
}

/**
 * The property names a body schema declares, through `$ref`, `allOf`, `oneOf` and `anyOf`;
 * null when some branch does not list its properties (any name may then be meant).
 */
function declaredProperties(api: OpenApiDocument, raw: Json | undefined): Set<string> | null {
  const schema = resolveRef(api.doc, raw);
  const extra = schema['additionalProperties'];
  if (extra !== undefined && extra !== false) return null;
  const names = new Set<string>();
  let listed = false;
  if (isObject(schema['properties'])) {
    listed = true;
    for (const name of Object.keys(schema['properties'])) names.add(name);
  }
  for (const key of ['allOf', 'oneOf', 'anyOf']) {
    const branches = schema[key];
    if (!Array.isArray(branches)) continue;
    for (const branch of branches) {
      const resolved = resolveRef(api.doc, branch);
      if (resolved['type'] === 'null') continue;
      const inner = declaredProperties(api, branch);
      if (inner === null) return null;
      listed = true;
      for (const name of inner) names.add(name);
    }
  }
  return listed ? names : null;
}

function responsePointer(api: OpenApiDocument, entry: OperationEntry, status: number): string | null {
  const responses = asObject(entry.operation['responses']);
  const response = responses[String(status)];
  if (!isObject(response)) return null;
  const base =
    typeof response['$ref'] === 'string'
      ? response['$ref'].replace(/^#/, '')
      : `${entry.pointer}/responses/${status}`;
  const target = resolveRef(api.doc, response);
  if (!isObject(asObject(asObject(target['content'])['application/json'])['schema'])) return null;
  return `${base}/content/application~1json/schema`;
}

/** The operation whose template matches; literal segments win over parameters. */
export function matchOperation(
  api: OpenApiDocument,
  method: string,
  pathname: string,
): { entry: OperationEntry; params: Record<string, string> } | null {
  let best: { entry: OperationEntry; groups: string[] } | null = null;
  for (const entry of api.operations.get(method.toUpperCase()) ?? []) {
    const found = entry.regex.exec(pathname);
    if (found === null) continue;
    if (best === null || prefer(entry, best.entry)) best = { entry, groups: found.slice(1) };
  }
  if (best === null) return null;
  const params: Record<string, string> = {};
  best.entry.pathParams.forEach((param, index) => {
    params[param.name] = safeDecode(best.groups[index] ?? '');
  });
  return { entry: best.entry, params };
}

function prefer(candidate: OperationEntry, current: OperationEntry): boolean {
  if (candidate.literalCount !== current.literalCount) return candidate.literalCount > current.literalCount;
  const length = Math.min(candidate.kinds.length, current.kinds.length);
  for (let i = 0; i < length; i += 1) {
    const a = candidate.kinds[i] ?? 0;
    const b = current.kinds[i] ?? 0;
    if (a !== b) return a < b;
  }
  return false;
}

function checkQuery(entry: OperationEntry, query: URLSearchParams): string[] {
  const problems: string[] = [];
  const seen = new Set<string>();
  for (const [name, value] of query) {
    const param = entry.queryParams.get(name) ?? entry.queryParams.get(name.replace(/\[\]$/, ''));
    if (param === undefined) {
      if (!seen.has(name)) problems.push(`query parameter ${name} is not declared by ${entry.operationId}`);
      seen.add(name);
      continue;
    }
    seen.add(param.name);
    const problem = checkScalar(param, value);
    if (problem !== null) problems.push(`query parameter ${name}: ${problem}`);
  }
  for (const param of entry.queryParams.values()) {
    if (param.required && !seen.has(param.name)) problems.push(`query parameter ${param.name} is required`);
  }
  return problems;
}

function checkScalar(param: OperationParam, value: string): string | null {
  const schema = param.schema;
  const allowed = schema['enum'];
  if (Array.isArray(allowed) && !allowed.includes(value)) {
    return `${JSON.stringify(value)} is not one of ${allowed.map((v) => JSON.stringify(v)).join(', ')}`;
  }
  switch (schema['type']) {
    case 'integer':
      return /^-?\d+$/.test(value) ? null : `${JSON.stringify(value)} is not an integer`;
    case 'boolean':
      return value === 'true' || value === 'false' ? null : `${JSON.stringify(value)} is not a boolean`;
    case 'number':
      return value.trim() !== '' && Number.isFinite(Number(value)) ? null : `${JSON.stringify(value)} is not a number`;
    default:
      return null;
  }
}

function formatParams(params: Record<string, unknown>): string {
  const interesting = ['missingProperty', 'allowedValues', 'type', 'additionalProperty'];
  const parts = interesting
    .filter((key) => params[key] !== undefined)
    .map((key) => `${key}: ${JSON.stringify(params[key])}`);
  return parts.length === 0 ? '' : ` (${parts.join(', ')})`;
}

function encodePointer(pointer: string): string {
  // A JSON pointer inside a URI fragment must be percent-encoded ({, }, spaces...).
  return pointer
    .split('/')
    .map((segment) => encodeURIComponent(segment).replace(/%7E/gi, '~'))
    .join('/');
}

function safeDecode(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}
