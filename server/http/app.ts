// The express app: the webhook route with its raw body, the health endpoints, the API, the UI
// and, last, the error handler that answers malformed requests.
// The webhook route is mounted before any JSON parser, so the HMAC is checked on the exact bytes sent.

import express, { type Express } from 'express';
import type { Db } from '../store/db.js';
import { isReachable } from '../store/db.js';
import { driftApi } from '../drift/index.js';
import { auditApi } from './api-audit.js';
import { errorHandler, methodNotAllowed, routeNotFound } from './errors.js';
import { metricsRoute } from './metrics-route.js';
import { uiRouter, type UiContext } from './ui/index.js';
import { webhookHandler, type WebhookContext } from './webhook.js';

export interface AppContext extends WebhookContext {
  db: Db;
  version: string;
  ui: UiContext;
  drift: { runNow: (repoFullName?: string) => number };
  /** Bearer token for /api/* routes; null disables them. */
  apiSecret: string | null;
}

export function createApp(ctx: AppContext): Express {
  const app = express();
  app.disable('x-powered-by');
  // GitHub caps payloads at 25 MB.
  app.post('/events', express.raw({ type: () => true, limit: '25mb' }), webhookHandler(ctx));
  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok', version: ctx.version });
  });
  app.use(auditApi({ db: ctx.db, apiSecret: ctx.apiSecret, log: ctx.log, audit: ctx.audit }));
  app.get('/metrics', metricsRoute(ctx.metrics));
  app.use(driftApi({ db: ctx.db, apiSecret: ctx.apiSecret, runNow: ctx.drift.runNow, log: ctx.log }));
  app.get('/readyz', (_req, res) => {
    const ok = isReachable(ctx.db);
    res.status(ok ? 200 : 503).json({ status: ok ? 'ready' : 'database unreachable' });
  });
  // The other methods of the routes above (a GET of /events from a browser, a curl without -X
  // POST): 405 naming the method to use. The UI's routes keep theirs behind its own guard.
  app.all('/events', methodNotAllowed(['POST']));
  app.all('/api/drift/run', methodNotAllowed(['POST']));
  for (const path of ['/healthz', '/readyz', '/metrics', '/api/audit', '/api/drift']) app.all(path, methodNotAllowed(['GET', 'HEAD']));
  // Last: the UI guards its own routes, so it never puts basic auth, or its Host check against
  // DNS rebinding (ui/host-check.ts), in front of the others. Those answer any Host on purpose:
  // /events is HMAC-checked and GitHub sends whatever name its webhook URL has; /api/* needs a
  // bearer token a browser cannot attach by itself; /healthz, /readyz and /metrics hold no
  // secret and change nothing, and probes and scrapers reach them by service name.
  app.use(uiRouter(ctx.ui));
  app.use(routeNotFound());
  // After every route: body-parser and router errors land here instead of express's HTML page.
  app.use(errorHandler(ctx.log));
  return app;
}
