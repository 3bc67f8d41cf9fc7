// The web UI on a loopback port over an in-memory database, for the UI's HTTP tests: its
// router as the server mounts it, a `/healthz` beside it, and the log lines it wrote.

import { once } from 'node:events';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { pino } from 'pino';
import { SecretMasker } from '../../runners/secrets.js';
import { AuditLog } from '../../server/audit/audit-log.js';
import { uiRouter, type UiContext } from '../../server/http/ui/index.js';
import { LiveOutput } from '../../server/jobs/live-output.js';
import { openDb, type Db } from '../../server/store/db.js';

export const CSRF_SECRET = 'csrf-secret-for-tests-0123456789abcdef';

export interface UiRig {
  url: string;
  port: number;
  db: Db;
  audit: AuditLog;
  live: LiveOutput;
  /** Warnings and worse the UI logged, one JSON line each. */
  logs: string[];
  close: () => Promise<void>;
}

export interface UiRigOptions {
  web: UiContext['web'];
  hosts?: string[];
  notify?: () => void;
  /** The server's shutdown signal. */
  signal?: AbortSignal;
}

export async function startUiRig(opts: UiRigOptions): Promise<UiRig> {
  const db = openDb({ dataDir: ':memory:' });
  const audit = new AuditLog({ db, configDigest: 'c'.repeat(64), masker: new SecretMasker() });
  const live = new LiveOutput();
  const logs: string[] = [];
  const log = pino({ level: 'warn' }, { write: (line: string) => void logs.push(line) });
  const app = express();
  app.use(uiRouter({ db, audit, live, log, web: opts.web, hosts: opts.hosts ?? [], driftStates: () => [], version: '9.9.9', csrfSecret: CSRF_SECRET, notify: opts.notify ?? (() => {}), ...(opts.signal === undefined ? {} : { signal: opts.signal }) }));
  app.get('/healthz', (_req, res) => void res.json({ status: 'ok' }));
  const server: Server = app.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    db,
    audit,
    live,
    logs,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => {
          db.close();
          resolve();
        });
      }),
  };
}
