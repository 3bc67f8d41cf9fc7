// POST /events on its own (no worker pool, no GitHub): a delivery whose HMAC matches but whose
// payload is hand-made or mangled is answered, recorded and left alone, never a 500.

import { createHmac } from 'node:crypto';
import { once } from 'node:events';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { SecretMasker } from '../../runners/secrets.js';
import { AuditLog } from '../../server/audit/audit-log.js';
import { errorHandler } from '../../server/http/errors.js';
import { webhookHandler } from '../../server/http/webhook.js';
import { Metrics } from '../../server/metrics/index.js';
import { openDb, type Db } from '../../server/store/db.js';

const SECRET = 'intake-secret';
const open: { server: Server; db: Db }[] = [];

afterEach(() => {
  for (const { server, db } of open.splice(0)) {
    server.closeAllConnections();
    server.close();
    db.close();
  }
});

async function intake(): Promise<{ url: string; db: Db }> {
  const db = openDb({ dataDir: ':memory:' });
  const log = pino({ level: 'silent' });
  const audit = new AuditLog({ db, configDigest: 'c'.repeat(64), masker: new SecretMasker() });
  const app = express();
  app.post(
    '/events',
    express.raw({ type: () => true }),
    webhookHandler({
      db,
      audit,
      log,
      secret: SECRET,
      metrics: new Metrics({ db, version: '0.0.0', driftStates: () => [] }),
      notify: () => undefined,
      route: { prefix: 'tideline', botLogin: 'tideline-bot', version: '0.0.0', render: { prefix: 'tideline' }, isAllowed: () => true, allowForkPulls: false },
    }),
  );
  app.use(errorHandler(log));
  const server = app.listen(0, '127.0.0.1');
  await once(server, 'listening');
  open.push({ server, db });
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/events`, db };
}

async function deliver(url: string, event: string, payload: unknown, id: string): Promise<{ status: number; body: unknown }> {
  const body = JSON.stringify(payload);
  const signature = `sha256=${createHmac('sha256', SECRET).update(body).digest('hex')}`;
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-github-event': event, 'x-github-delivery': id, 'x-hub-signature-256': signature },
    body,
  });
  return { status: res.status, body: await res.json() };
}

const repository = { name: 'infra', full_name: 'acme/infra', owner: { login: 'acme' }, clone_url: 'https://github.com/acme/infra.git' };

describe('POST /events with a verified but malformed payload', () => {
  it.each([
    ['issue_comment', 'a null repository', { action: 'created', repository: null, issue: { number: 1, pull_request: {} } }],
    ['issue_comment', 'a null issue', { action: 'created', repository, issue: null }],
    ['issue_comment', 'a fractional issue number', { action: 'created', repository, issue: { number: 1.5, pull_request: {} }, comment: { body: 'tideline plan' } }],
    ['pull_request', 'a negative number', { action: 'opened', number: -3, repository, pull_request: null }],
    ['star', 'a fractional number on an event nobody handles', { action: 'created', number: 2.5, repository }],
  ])('answers %s with %s as ignored, and records it', async (event, _what, payload) => {
    const { url, db } = await intake();
    const res = await deliver(url, event, payload, `d-${event}`);
    expect(res).toEqual({ status: 200, body: { status: 'ignored', reason: expect.any(String) } });
    const recorded = db.prepare("SELECT pull FROM audit WHERE type = 'webhook.ignored'").all() as { pull: number | null }[];
    expect(recorded).toHaveLength(1);
    // A number GitHub would never send is not recorded as the pull request it is about.
    expect(recorded[0]?.pull === null || Number.isSafeInteger(recorded[0]?.pull)).toBe(true);
  });
});
