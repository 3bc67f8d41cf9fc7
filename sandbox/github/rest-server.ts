// The double's REST front door (node:http on 127.0.0.1, port 0): authentication, then the
// OpenAPI check, then whether the credential may call that operation, then the handler table. Every refusal that a real GitHub would give for a malformed request
// is also written to `violations`, so a test can assert the client never sent one.

import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { authenticate, authorize } from './app-auth.js';
import type { RequestChecker } from './openapi-check.js';
import type { Json } from './openapi-document.js';
import type { DoubleState, InjectedFailure } from './types.js';
import type { Handler, HandlerContext } from './rest-handlers.js';

export interface RestServer {
  url: string;
  close(): Promise<void>;
}

const MAX_BODY_BYTES = 25 * 1024 * 1024;
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

export async function startRestServer(
  ctx: HandlerContext,
  checker: RequestChecker,
  handlers: ReadonlyMap<string, Handler>,
): Promise<RestServer> {
  const server = createServer((req, res) => {
    handle(ctx, checker, handlers, req, res)
      .catch((error: unknown) => {
        const message = error instanceof Error ? error.message : String(error);
        ctx.state.violations.push(`${req.method ?? '?'} ${req.url ?? '?'}: the double failed: ${message}`);
        if (!res.headersSent) send(res, 500, { message: `GitHub double error: ${message}` });
      })
      .finally(() => {
        for (const listener of ctx.state.answered) listener();
      });
  });
  const port = await listen(server);
  return {
    url: `http://127.0.0.1:${port}`,
    close: () => closeServer(server),
  };
}

async function handle(
  ctx: HandlerContext,
  checker: RequestChecker,
  handlers: ReadonlyMap<string, Handler>,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  const method = (req.method ?? 'GET').toUpperCase();
  const rawUrl = req.url ?? '/';
  const queryAt = rawUrl.indexOf('?');
  const pathname = queryAt === -1 ? rawUrl : rawUrl.slice(0, queryAt);
  const query = new URLSearchParams(queryAt === -1 ? '' : rawUrl.slice(queryAt + 1));
  const label = `${method} ${pathname}`;
  const raw = await readBody(req);
  if (raw === null) {
    send(res, 413, { message: 'Request body too large' });
    return;
  }
  const auth = authenticate(ctx.state, req.headers.authorization);
  if (!auth.ok) {
    send(res, auth.status, { message: auth.message, documentation_url: 'https://docs.github.com/rest', status: String(auth.status) });
    return;
  }
  let body: Json | undefined;
  if (raw.length > 0) {
    try {
      body = JSON.parse(raw.toString('utf8')) as Json;
    } catch {
      ctx.state.violations.push(`${label}: request body is not JSON`);
      send(res, 400, { message: 'Problems parsing JSON', documentation_url: 'https://docs.github.com/rest', status: '400' });
      return;
    }
  }
  const unencodable = body === undefined ? null : loneSurrogateAt(body, 'body');
  if (unencodable !== null) {
    // JSON may escape half of a surrogate pair; GitHub keeps text as UTF-8, which cannot hold it.
    ctx.state.violations.push(`${label}: ${unencodable} holds half of a UTF-16 surrogate pair, which is no character`);
  }
  const checked = checker.check({ method, pathname, query, body });
  if (!checked.ok) {
    ctx.state.violations.push(checked.violation);
    const documentation = 'https://docs.github.com/rest';
    send(res, checked.status, { message: checked.message, documentation_url: documentation, status: String(checked.status) });
    return;
  }
  if (checked.undeclared.length > 0) {
    ctx.state.violations.push(`${label} (${checked.entry.operationId}): body field ${checked.undeclared.join(', ')} is not declared by GitHub, which ignores it`);
  }
  const refused = authorize(auth.principal, checked.entry.operationId, checked.params);
  if (refused !== null) {
    send(res, refused.status, { message: refused.message, documentation_url: 'https://docs.github.com/rest', status: String(refused.status) });
    return;
  }
  const hold = takeHold(ctx, checked.entry.operationId, body);
  if (hold !== undefined) {
    hold.take();
    // Dropped: it never reached GitHub, so nothing runs and no answer goes back.
    if (!(await hold.done)) return;
  }
  const injected = takeFailure(ctx, checked.entry.operationId);
  if (injected !== undefined) {
    if (injected.status < 500 && !checker.declaresStatus(checked.entry, injected.status)) {
      ctx.state.violations.push(`${label} (${checked.entry.operationId}): failNext asked for ${injected.status}, which GitHub does not document for it`);
    }
    send(res, injected.status, { message: injected.message, documentation_url: 'https://docs.github.com/rest', status: String(injected.status) }, injected.headers);
    return;
  }
  const handler = handlers.get(checked.entry.operationId);
  if (handler === undefined) {
    ctx.state.unimplemented.push(`${label} (${checked.entry.operationId})`);
    send(res, 501, { message: 'not implemented by the double', operation: checked.entry.operationId });
    return;
  }
  const response = await handler(ctx, { params: checked.params, query, body, requestUrl: `${ctx.state.url}${rawUrl}` });
  if (response.status < 300) {
    // The double's own answers must fit GitHub's response schema too; a misfit is a double bug.
    for (const problem of checker.checkResponse(checked.entry, response.status, response.body)) {
      ctx.state.violations.push(`${label} (${checked.entry.operationId}): the double answered badly: ${problem}`);
    }
  }
  send(res, response.status, response.body, response.headers);
}

/** Where in `value` a string holds a lone surrogate (JSON's `\ud83d` alone), or null. */
function loneSurrogateAt(value: Json, where: string): string | null {
  if (typeof value === 'string') return LONE_SURROGATE.test(value) ? where : null;
  if (Array.isArray(value)) {
    for (const [index, item] of value.entries()) {
      const found = loneSurrogateAt(item, `${where}[${index}]`);
      if (found !== null) return found;
    }
    return null;
  }
  if (value === null || typeof value !== 'object') return null;
  for (const [key, item] of Object.entries(value)) {
    const found = loneSurrogateAt(item, `${where}.${key}`);
    if (found !== null) return found;
  }
  return null;
}

/** The first hold holdNext queued for the operation that matches `body`, used up by this request. */
function takeHold(ctx: HandlerContext, operationId: string, body: Json | undefined): DoubleState['holds'][number] | undefined {
  const at = ctx.state.holds.findIndex((h) => h.operationId === operationId && h.matches(body));
  if (at === -1) return undefined;
  return ctx.state.holds.splice(at, 1)[0];
}

/** The first failure failNext queued for the operation, used up one request at a time. */
function takeFailure(ctx: HandlerContext, operationId: string): InjectedFailure | undefined {
  const queued = ctx.state.failures.find((f) => f.operationId === operationId && f.remaining > 0);
  if (queued === undefined) return undefined;
  queued.remaining -= 1;
  if (queued.remaining === 0) ctx.state.failures.splice(ctx.state.failures.indexOf(queued), 1);
  return queued.failure;
}

function send(res: ServerResponse, status: number, body: Json, headers: Record<string, string> = {}): void {
  const text = status === 204 ? '' : JSON.stringify(body);
  const reset = Math.floor(Date.now() / 1000) + 3600;
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
    'x-github-media-type': 'github.v3; format=json',
    'x-github-api-version-selected': '2022-11-28',
    'x-github-request-id': randomUUID().toUpperCase(),
    'x-ratelimit-limit': '5000',
    'x-ratelimit-remaining': '4999',
    'x-ratelimit-reset': String(reset),
    'x-ratelimit-used': '1',
    'x-ratelimit-resource': 'core',
    'x-oauth-scopes': 'repo',
    ...headers,
  });
  res.end(text);
}

async function readBody(req: IncomingMessage): Promise<Buffer | null> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const buffer = chunk as Buffer;
    size += buffer.length;
    if (size > MAX_BODY_BYTES) return null;
    chunks.push(buffer);
  }
  return Buffer.concat(chunks);
}

function listen(server: Server): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve, reject) => {
    server.close((error) => (error === undefined ? resolve() : reject(error)));
    server.closeAllConnections();
  });
}
