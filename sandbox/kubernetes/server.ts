// The double's front door: HTTPS on 127.0.0.1 (port 0), bearer-token check, then the routes
// kubectl uses: /version, legacy discovery, and object and collection URLs of every served
// resource. Unknown paths answer 404 Status like a real server (so /openapi/v3 is absent and
// kubectl needs --validate=false to apply).

import { createServer, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { parse as parseYaml } from 'yaml';
import { apiGroupDocument, apiGroupList, apiResourceList, apiVersions, resourceByPlural } from './resources.js';
import { ApiError, badRequest, failureStatus, noSuchResource } from './status.js';
import { applyObject, deleteObject, getObject, listObjects, patchObject, type StoreState, type Target } from './store.js';
import type { RecordedRequest } from './types.js';

export interface ServerContext {
  state: StoreState;
  token: string | null;
  deny: ((request: { method: string; path: string }) => boolean) | null;
  requests: RecordedRequest[];
  tls: { cert: string; key: string };
}

export interface RunningServer {
  url: string;
  close(): Promise<void>;
}

const MAX_BODY_BYTES = 16 * 1024 * 1024;

/** What `GET /version` answers: kubectl's dispatcher on PATH picks its 1.32 build from it. */
export const SERVER_VERSION = {
  major: '1',
  minor: '32',
  gitVersion: 'v1.32.5',
  gitCommit: '9894294ef13a5b32803e3ca2c0d620a088cc84d1',
  gitTreeState: 'clean',
  buildDate: '2025-05-15T09:00:00Z',
  goVersion: 'go1.23.8',
  compiler: 'gc',
  platform: 'linux/amd64',
};

interface Reply {
  status: number;
  body: unknown;
  text?: boolean;
}

export async function startServer(ctx: ServerContext): Promise<RunningServer> {
  const server = createServer({ cert: ctx.tls.cert, key: ctx.tls.key }, (req, res) => {
    handle(ctx, req, res).catch((error: unknown) => {
      const message = error instanceof Error ? error.message : String(error);
      if (!res.headersSent) send(res, { status: 500, body: failureStatus(500, 'InternalError', `Kubernetes double error: ${message}`) });
    });
  });
  const port = await listen(server);
  return {
    url: `https://127.0.0.1:${port}`,
    close: () => closeServer(server),
  };
}

async function handle(ctx: ServerContext, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const method = (req.method ?? 'GET').toUpperCase();
  const url = new URL(req.url ?? '/', 'https://double.invalid');
  const query = Object.fromEntries(url.searchParams);
  const contentType = req.headers['content-type'] ?? null;
  const body = await readBody(req);
  let reply: Reply;
  try {
    reply = route(ctx, { method, path: url.pathname, params: url.searchParams, contentType, body, authorization: req.headers.authorization, host: req.headers.host ?? '127.0.0.1' });
  } catch (error: unknown) {
    if (!(error instanceof ApiError)) throw error;
    reply = { status: error.code, body: error.body };
  }
  ctx.requests.push({
    method,
    path: url.pathname,
    query,
    contentType,
    userAgent: req.headers['user-agent'] ?? null,
    status: reply.status,
  });
  send(res, reply);
}

const PUBLIC_PATHS: ReadonlySet<string> = new Set(['/version', '/healthz', '/livez', '/readyz']);

interface Incoming {
  method: string;
  path: string;
  params: URLSearchParams;
  contentType: string | null;
  body: Buffer | null;
  authorization: string | undefined;
  host: string;
}

function route(ctx: ServerContext, incoming: Incoming): Reply {
  const { method, path, params, contentType, body, authorization } = incoming;
  if (body === null) throw new ApiError(413, 'RequestEntityTooLarge', 'the request body is too large');
  const clean = path.replace(/\/+$/, '') || '/';
  if (PUBLIC_PATHS.has(clean) && method === 'GET') {
    return clean === '/version' ? { status: 200, body: SERVER_VERSION } : { status: 200, body: 'ok', text: true };
  }
  if (ctx.token !== null && authorization !== `Bearer ${ctx.token}`) {
    throw new ApiError(401, 'Unauthorized', 'Unauthorized');
  }
  if (ctx.deny?.({ method, path: clean }) === true) throw forbidden(method, clean);
  const segments = clean.split('/').filter((s) => s !== '').map(decodeURIComponent);
  const { state } = ctx;
  if (method === 'GET') {
    if (clean === '/api') return ok(apiVersions(incoming.host));
    if (clean === '/apis') return ok(apiGroupList(state.registry));
    if (segments[0] === 'api' && segments.length === 2) return ok(orNotFound(apiResourceList(state.registry, '', segments[1] ?? '')));
    if (segments[0] === 'apis' && segments.length === 2) return ok(orNotFound(apiGroupDocument(state.registry, segments[1] ?? '')));
    if (segments[0] === 'apis' && segments.length === 3) {
      return ok(orNotFound(apiResourceList(state.registry, segments[1] ?? '', segments[2] ?? '')));
    }
  }
  const target = resolveTarget(ctx, segments);
  if (target === null) throw noSuchResource();
  const dryRun = parseDryRun(params);
  if (target.name === null) {
    if (method !== 'GET') throw methodNotAllowed(method);
    if (params.get('watch') === 'true' || params.get('watch') === '1') throw badRequest('watch is not supported by the Kubernetes double');
    const selectors = {
      ...(params.get('labelSelector') === null ? {} : { labelSelector: params.get('labelSelector') ?? '' }),
      ...(params.get('fieldSelector') === null ? {} : { fieldSelector: params.get('fieldSelector') ?? '' }),
    };
    return ok(listObjects(state, target.resource, target.namespace, selectors));
  }
  const object: Target = { resource: target.resource, namespace: target.namespace, name: target.name };
  switch (method) {
    case 'GET':
      return ok(getObject(state, object));
    case 'DELETE':
      return ok(deleteObject(state, object, dryRun));
    case 'PATCH':
      return patch(ctx, object, params, contentType, body, dryRun);
    default:
      throw methodNotAllowed(method);
  }
}

function patch(
  ctx: ServerContext,
  target: Target,
  params: URLSearchParams,
  contentType: string | null,
  body: Buffer,
  dryRun: boolean,
): Reply {
  const type = (contentType ?? '').split(';')[0]?.trim() ?? '';
  const fieldManager = params.get('fieldManager') ?? '';
  if (type === 'application/apply-patch+yaml') {
    if (fieldManager === '') {
      throw new ApiError(422, 'Invalid', 'PatchOptions.meta.k8s.io "" is invalid: fieldManager: Required value: is required for apply patch', {
        kind: 'PatchOptions', group: 'meta.k8s.io', causes: [{ reason: 'FieldValueRequired', message: 'Required value: is required for apply patch', field: 'fieldManager' }],
      });
    }
    const force = params.get('force') === 'true';
    const result = applyObject(ctx.state, target, decode(body), { fieldManager, force, dryRun });
    return { status: result.code, body: result.object };
  }
  if (type === 'application/merge-patch+json' || type === 'application/strategic-merge-patch+json') {
    const result = patchObject(ctx.state, target, decode(body), { fieldManager: fieldManager || 'kubectl', dryRun });
    return { status: result.code, body: result.object };
  }
  throw new ApiError(415, 'UnsupportedMediaType', `the body of the request was in an unknown format - accepted media types include: application/apply-patch+yaml, application/merge-patch+json, application/strategic-merge-patch+json`);
}

/** The body of an apply patch is YAML (kubectl sends JSON, which is YAML too). */
function decode(body: Buffer): unknown {
  try {
    return parseYaml(body.toString('utf8'), { version: '1.1' }) as unknown;
  } catch (error: unknown) {
    throw badRequest(`error decoding patch: ${error instanceof Error ? error.message : String(error)}`);
  }
}

function parseDryRun(params: URLSearchParams): boolean {
  const values = params.getAll('dryRun');
  for (const value of values) if (value !== 'All') throw badRequest(`dryRun: Unsupported value: "${value}": supported values: "All"`);
  return values.length > 0;
}

interface ResolvedTarget {
  resource: NonNullable<ReturnType<typeof resourceByPlural>>;
  namespace: string | null;
  name: string | null;
}

/** `/api/v1/...` or `/apis/<g>/<v>/...` → resource, namespace, name (null for a collection). */
function resolveTarget(ctx: ServerContext, segments: string[]): ResolvedTarget | null {
  let group: string;
  let version: string;
  let rest: string[];
  if (segments[0] === 'api' && segments.length >= 3) {
    [group, version, rest] = ['', segments[1] ?? '', segments.slice(2)];
  } else if (segments[0] === 'apis' && segments.length >= 4) {
    [group, version, rest] = [segments[1] ?? '', segments[2] ?? '', segments.slice(3)];
  } else {
    return null;
  }
  const lookup = (plural: string | undefined): ResolvedTarget['resource'] | null =>
    plural === undefined ? null : resourceByPlural(ctx.state.registry, group, version, plural);
  if (rest[0] === 'namespaces' && rest.length >= 3) {
    const resource = lookup(rest[2]);
    if (resource === null || !resource.namespaced || rest.length > 4) return null;
    return { resource, namespace: rest[1] ?? null, name: rest[3] ?? null };
  }
  const resource = lookup(rest[0]);
  if (resource === null || rest.length > 2) return null;
  if (resource.namespaced) return rest.length === 1 ? { resource, namespace: null, name: null } : null;
  return { resource, namespace: null, name: rest[1] ?? null };
}

/** `namespaces "shop" is forbidden: User "tideline" cannot get resource "namespaces" …` */
function forbidden(method: string, path: string): ApiError {
  const segments = path.split('/').filter((s) => s !== '');
  const verb = method === 'GET' ? 'get' : method === 'DELETE' ? 'delete' : 'patch';
  const name = segments[segments.length - 1] ?? '';
  const resource = segments[segments.length - 2] ?? '';
  return new ApiError(
    403,
    'Forbidden',
    `${resource} ${JSON.stringify(name)} is forbidden: User "tideline" cannot ${verb} resource ${JSON.stringify(resource)} in the Kubernetes double`,
    { name, kind: resource },
  );
}

function ok(body: unknown): Reply {
  return { status: 200, body };
}

function orNotFound<T>(value: T | null): T {
  if (value === null) throw noSuchResource();
  return value;
}

function methodNotAllowed(method: string): ApiError {
  return new ApiError(405, 'MethodNotAllowed', `the server does not allow this method on the requested resource (${method} is not served by the Kubernetes double)`);
}

function send(res: ServerResponse, reply: Reply): void {
  const text = reply.text === true ? String(reply.body) : JSON.stringify(reply.body);
  res.writeHead(reply.status, {
    'Content-Type': reply.text === true ? 'text/plain; charset=utf-8' : 'application/json',
    'Content-Length': Buffer.byteLength(text),
  });
  res.end(text);
}

function readBody(req: IncomingMessage): Promise<Buffer | null> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let tooLarge = false;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) tooLarge = true;
      else chunks.push(chunk);
    });
    req.on('end', () => resolve(tooLarge ? null : Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function listen(server: Server): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port));
  });
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}
