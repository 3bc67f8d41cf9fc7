import { once } from 'node:events';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SecretMasker } from '../../runners/secrets.js';
import { AuditLog } from '../../server/audit/audit-log.js';
import type { AuditRecord } from '../../server/audit/types.js';
import { auditApi } from '../../server/http/api-audit.js';
import { openDb, type Db } from '../../server/store/db.js';

const SECRET = 'api-secret-4d1e';
const N = 2500;

interface Running {
  url: string;
  close: () => Promise<void>;
}

async function serve(db: Db, apiSecret: string | null, audit?: AuditLog): Promise<Running> {
  const app = express();
  app.use(auditApi({ db, apiSecret, log: pino({ level: 'silent' }), ...(audit === undefined ? {} : { audit }) }));
  const server: Server = app.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** One record a minute from 2025-04-01T00:00Z: record i (seq i + 1) is at minute i. */
const clock = { minute: 0 };
const db = openDb({ dataDir: ':memory:' });
const log = new AuditLog({ db, configDigest: 'c'.repeat(64), masker: new SecretMasker(), now: () => new Date(Date.parse('2025-04-01T00:00:00Z') + clock.minute++ * 60_000) });
for (let i = 0; i < N; i += 1) {
  log.append({ type: i % 2 === 0 ? 'plan' : 'apply', actor: i % 3 === 0 ? 'alice' : 'bob', repo: i % 5 === 0 ? 'acme/app' : 'acme/infra', pull: 1 + (i % 9), fields: { i } });
}

let api: Running;
let disabled: Running;
beforeAll(async () => {
  api = await serve(db, SECRET);
  disabled = await serve(db, null);
});
afterAll(async () => {
  await api.close();
  await disabled.close();
});

function get(path: string, token: string | null = SECRET, base = (): string => api.url): Promise<Response> {
  return fetch(`${base()}${path}`, token === null ? {} : { headers: { authorization: `Bearer ${token}` } });
}

describe('GET /api/audit', () => {
  it('streams every record as JSON Lines, in seq order', async () => {
    const res = await get('/api/audit');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/x-ndjson; charset=utf-8');
    const lines = (await res.text()).trim().split('\n');
    expect(lines).toHaveLength(N);
    const records = lines.map((line) => JSON.parse(line) as AuditRecord);
    expect(records.map((r) => r.seq)).toEqual(Array.from({ length: N }, (_, i) => i + 1));
  });

  it('applies the filters', async () => {
    const res = await get('/api/audit?repo=acme/app&actor=alice&type=plan&since=2025-04-01T10:00:00Z&until=2025-04-02T00:00:00Z');
    const records = (await res.text()).trim().split('\n').map((line) => JSON.parse(line) as AuditRecord);
    const expected = [];
    for (let i = 0; i < N; i += 1) {
      const minutes = i;
      if (i % 5 === 0 && i % 3 === 0 && i % 2 === 0 && minutes >= 600 && minutes < 1440) expected.push(i + 1);
    }
    expect(expected.length).toBeGreaterThan(5);
    expect(records.map((r) => r.seq)).toEqual(expected);
  });

  it('serves CSV with a header row', async () => {
    const res = await get('/api/audit?format=csv&type=apply&until=2025-04-01T00:10:00Z');
    expect(res.headers.get('content-type')).toBe('text/csv; charset=utf-8');
    expect(res.headers.get('content-disposition')).toContain('tideline-audit.csv');
    const lines = (await res.text()).split('\r\n');
    expect(lines[0]).toBe('seq,time,type,actor,repo,pull,project,config_digest,fields,prev_hash,hash');
    expect(lines.slice(1, -1).map((line) => line.split(',')[0])).toEqual(['2', '4', '6', '8', '10']);
  });

  it.each<[string, string | null, number, RegExp]>([
    ['no token', null, 401, /missing bearer token/],
    ['a wrong token', 'api-secret-4d1f', 401, /wrong bearer token/],
    ['a token that is a prefix of the secret', 'api-secret', 401, /wrong bearer token/],
    ['an empty token', '', 401, /missing bearer token/],
  ])('refuses %s', async (_name, token, status, message) => {
    const res = await get('/api/audit', token);
    expect(res.status).toBe(status);
    expect(res.headers.get('www-authenticate')).toBe('Bearer realm="tideline"');
    expect(((await res.json()) as { error: string }).error).toMatch(message);
  });

  it('refuses a Basic authorization header', async () => {
    const res = await fetch(`${api.url}/api/audit`, { headers: { authorization: `Basic ${Buffer.from(`x:${SECRET}`).toString('base64')}` } });
    expect(res.status).toBe(401);
  });

  it('is disabled, saying how to enable it, without an API secret', async () => {
    const res = await get('/api/audit', SECRET, () => disabled.url);
    expect(res.status).toBe(404);
    expect(((await res.json()) as { error: string }).error).toBe('the audit API is disabled: set TIDELINE_API_SECRET to enable /api/audit');
  });

  it.each([
    ['since=last-tuesday', 'since', /query parameter since must be an ISO 8601 date/],
    ['until=2025-13-01', 'until', /query parameter until must be an ISO 8601 date/],
    ['type=plans', 'type', /query parameter type must be a record type/],
    ['format=xml', 'format', /query parameter format must be jsonl or csv/],
    ['repository=acme/infra', 'repository', /query parameter repository is not a query parameter of \/api\/audit/],
    ['repo=a&repo=b', 'repo', /query parameter repo must be given once/],
    ['actor=', 'actor', /query parameter actor is empty/],
    ['since=2030-01-01&until=2020-01-01', 'until', /query parameter until 2020-01-01 is not after since 2030-01-01: the range since ≤ time < until is empty, so no record could match; give an until later than since, or swap them/],
    ['since=2025-04-01T10:00:00Z&until=2025-04-01T12:00:00%2B02:00', 'until', /query parameter until 2025-04-01T12:00:00\+02:00 is not after since 2025-04-01T10:00:00Z: the range since ≤ time < until is empty/],
  ])('answers 400 naming the parameter for %s', async (query, param, message) => {
    const res = await get(`/api/audit?${query}`);
    expect(res.status).toBe(400);
    const body = (await res.json()) as { error: string; param: string };
    expect(body.param).toBe(param);
    expect(body.error).toMatch(message);
  });

  it('checks the token before the query: a bad query without a token is 401', async () => {
    expect((await get('/api/audit?since=x', null)).status).toBe(401);
  });

  // Last: it appends a record the counts above do not expect.
  it('keeps the database writable while a client reads slowly', async () => {
    const res = await get('/api/audit');
    const reader = res.body?.getReader();
    if (reader === undefined) throw new Error('no body');
    const first = await reader.read();
    expect(first.done).toBe(false);
    await new Promise((resolve) => setTimeout(resolve, 50)); // the server is now waiting for drain, or done
    const appended = log.append({ type: 'plan', actor: 'during-export', fields: {} });
    let text = Buffer.from(first.value ?? new Uint8Array()).toString('utf8');
    for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read()) text += Buffer.from(chunk.value).toString('utf8');
    const seqs = text.trim().split('\n').map((line) => (JSON.parse(line) as AuditRecord).seq);
    expect(seqs).toHaveLength(N);
    expect(seqs).not.toContain(appended.seq);
  });
});

describe('GET /api/audit on a server that records its exports', () => {
  it('records each export after it, with its format, filter and count, so no export holds its own record', async () => {
    const own = openDb({ dataDir: ':memory:' });
    const audit = new AuditLog({ db: own, configDigest: 'c'.repeat(64), masker: new SecretMasker() });
    for (let i = 0; i < 3; i += 1) audit.append({ type: 'plan', actor: 'alice', repo: 'acme/infra', pull: 1, fields: { i } });
    const running = await serve(own, SECRET, audit);
    try {
      const first = await (await get('/api/audit?type=plan&format=csv', SECRET, () => running.url)).text();
      expect(first).not.toContain('audit.exported');
      const second = (await (await get('/api/audit', SECRET, () => running.url)).text()).trim().split('\n').map((line) => JSON.parse(line) as AuditRecord);
      expect(second).toHaveLength(4);
      expect(second[3]).toMatchObject({ type: 'audit.exported', actor: 'api', fields: { format: 'csv', filter: { type: 'plan' }, records: 3, completed: true, remoteAddress: '127.0.0.1' } });
      expect(own.prepare("SELECT COUNT(*) AS n FROM audit WHERE type = 'audit.exported'").get()).toEqual({ n: 2 });
    } finally {
      await running.close();
    }
  });
});
