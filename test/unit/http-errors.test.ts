// The error handler on its own: which errors are the client's (a 4xx with words that say what
// was wrong) and which are the server's (a 500 that says only where to look).

import { once } from 'node:events';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { SecretMasker } from '../../runners/secrets.js';
import { AuditLog } from '../../server/audit/audit-log.js';
import { clientError, errorHandler } from '../../server/http/errors.js';
import { uiRouter } from '../../server/http/ui/index.js';
import { LiveOutput } from '../../server/jobs/live-output.js';
import { openDb } from '../../server/store/db.js';

describe('clientError', () => {
  it.each([
    ['a too-large body', Object.assign(new Error('request entity too large'), { status: 413, expose: true, type: 'entity.too.large', length: 20_000, limit: 16_384 }), 413, 'the request body is 20000 bytes; this route takes at most 16384 bytes'],
    ['a bad percent-encoding', Object.assign(new URIError("Failed to decode param '%E0'"), { status: 400 }), 400, "the URL path is not valid percent-encoding: Failed to decode param '%E0'"],
    ['another exposed 4xx', Object.assign(new Error('request aborted'), { status: 400, expose: true, type: 'request.aborted' }), 400, 'request aborted'],
    ['an unexposed 4xx', Object.assign(new Error('secret detail'), { status: 404, expose: false }), 404, 'the request was refused'],
  ])('reads %s as the client’s', (_what, err, status, message) => {
    expect(clientError(err)).toEqual({ status, message });
  });

  it.each([
    ['a plain error', new Error('SQLITE_BUSY')],
    ['a 5xx', Object.assign(new Error('stream is not readable'), { status: 500, expose: false })],
    ['a thrown string', 'boom'],
  ])('reads %s as the server’s own', (_what, err) => {
    expect(clientError(err)).toBeNull();
  });
});

describe('errorHandler', () => {
  it('answers a UI route that fails inside with a plain 500 that names no detail', async () => {
    const db = openDb({ dataDir: ':memory:' });
    const audit = new AuditLog({ db, configDigest: 'c'.repeat(64), masker: new SecretMasker() });
    const app = express();
    app.use(uiRouter({ db, audit, live: new LiveOutput(), log: pino({ level: 'silent' }), web: null, hosts: [], driftStates: () => [], version: '9.9.9', csrfSecret: 'x'.repeat(32) }));
    app.use(errorHandler(pino({ level: 'silent' })));
    const server: Server = app.listen(0, '127.0.0.1');
    await once(server, 'listening');
    try {
      db.close(); // the overview's read now throws, as it would with the store gone
      const res = await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`);
      const text = await res.text();
      expect(res.status).toBe(500);
      expect(res.headers.get('content-type')).toMatch(/^text\/plain/);
      expect(text).toBe('internal error: see the server log\n');
    } finally {
      server.closeAllConnections();
      server.close();
    }
  });
});
