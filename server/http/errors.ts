// The app's last error handler. Without it express's own answers a body too large, malformed
// JSON, a bad charset or a path that is not valid percent-encoding with an HTML page, and,
// unless NODE_ENV=production (which `npm start` does not set), with the stack trace and the
// server's file paths in it. Here a client's mistake gets its 4xx saying what was wrong, as
// JSON on the API and the webhook route, as plain text elsewhere; anything else is a 500 that
// says nothing but where to look, and the error goes to the log.

import type { ErrorRequestHandler, Request, RequestHandler, Response } from 'express';
import type { Logger } from 'pino';

/** What body-parser, raw-body and the router attach to the errors they raise (http-errors). */
interface HttpErrorFields {
  status?: unknown;
  statusCode?: unknown;
  expose?: unknown;
  type?: unknown;
  limit?: unknown;
  length?: unknown;
}

export interface ClientError {
  status: number;
  message: string;
}

function fieldsOf(err: unknown): HttpErrorFields {
  return typeof err === 'object' && err !== null ? (err as HttpErrorFields) : {};
}

/** The 4xx a client caused, in words that name the fix; null for the server's own failures. */
export function clientError(err: unknown): ClientError | null {
  const f = fieldsOf(err);
  const status = typeof f.status === 'number' ? f.status : typeof f.statusCode === 'number' ? f.statusCode : 500;
  if (status < 400 || status > 499) return null;
  const detail = err instanceof Error ? err.message : String(err);
  if (err instanceof URIError) return { status, message: `the URL path is not valid percent-encoding: ${detail}` };
  switch (f.type) {
    case 'entity.too.large': {
      const size = typeof f.length === 'number' ? `${f.length} bytes` : 'larger than allowed';
      return { status, message: `the request body is ${size}; this route takes at most ${String(f.limit)} bytes` };
    }
    case 'entity.parse.failed':
      return { status, message: `the request body could not be parsed: ${detail}` };
    case 'charset.unsupported':
      return { status, message: `the request body's charset is not supported (${detail}): send UTF-8` };
    case 'encoding.unsupported':
      return { status, message: `the request body's Content-Encoding is not supported (${detail}): send it as gzip, deflate, br or uncompressed` };
    case 'parameters.too.many':
      return { status, message: 'the form has more fields than this route takes' };
    default:
      // http-errors marks 4xx messages as safe to show; anything else stays in the log.
      return f.expose === true ? { status, message: detail } : { status, message: 'the request was refused' };
  }
}

/** JSON where the route speaks JSON (the API, the webhook intake), plain text elsewhere. */
function speaksJson(req: Request): boolean {
  return req.path.startsWith('/api/') || req.path === '/api' || req.path === '/events';
}

function send(req: Request, res: Response, status: number, message: string): void {
  res.status(status);
  res.setHeader('Cache-Control', 'no-store');
  res.setHeader('X-Content-Type-Options', 'nosniff');
  if (speaksJson(req)) {
    res.type('application/json; charset=utf-8').send(JSON.stringify({ error: message }));
    return;
  }
  res.setHeader('Content-Security-Policy', "default-src 'none'");
  res.type('text/plain; charset=utf-8').send(`${message}\n`);
}

export function errorHandler(log: Logger): ErrorRequestHandler {
  return function handleError(err: unknown, req, res, next): void {
    if (res.headersSent) {
      // Too late for a status: express's own handler cuts the connection, so a cut-off body
      // cannot look complete.
      next(err);
      return;
    }
    const client = clientError(err);
    if (client !== null) {
      log.info({ method: req.method, path: req.path, status: client.status, reason: client.message }, 'request refused');
      send(req, res, client.status, client.message);
      return;
    }
    log.error({ err, method: req.method, path: req.path }, 'request failed');
    send(req, res, 500, 'internal error: see the server log');
  };
}

/**
 * For a route's other methods (mounted with `app.all` after the route): 405 with `Allow`, where
 * express would answer "Cannot GET /events" as an HTML 404, as if the route did not exist.
 * OPTIONS gets the `Allow` list with 204.
 */
export function methodNotAllowed(allowed: readonly string[]): RequestHandler {
  const allow = allowed.join(', ');
  return function refuseMethod(req, res): void {
    res.setHeader('Allow', allow);
    if (req.method === 'OPTIONS') {
      res.status(204).end();
      return;
    }
    send(req, res, 405, `${req.method} is not allowed on ${req.path}: use ${allow}`);
  };
}

/** After every route: an unknown path, in the form the routes around it speak, not express's HTML. */
export function routeNotFound(): RequestHandler {
  return function noRoute(req, res): void {
    send(req, res, 404, `no route ${req.method} ${req.path}: see the Endpoints section of the README for the routes`);
  };
}
