import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { driftApi } from '../../server/drift/api.js';
import { saveDriftRecord } from '../../server/drift/store.js';
import { openDb, type Db } from '../../server/store/db.js';

const SECRET = 'api-secret-7c1e';

describe('drift API', () => {
  let db: Db;
  let server: Server | null;
  let runs: (string | undefined)[];

  async function serve(apiSecret: string | null): Promise<string> {
    const app = express();
    app.use(driftApi({ db, apiSecret, log: pino({ level: 'silent' }), runNow: (repo) => (runs.push(repo), repo === 'acme/unknown' ? 0 : repo === undefined ? 3 : 1) }));
    server = app.listen(0, '127.0.0.1');
    await new Promise((resolve) => server?.once('listening', resolve));
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }

  beforeEach(() => {
    db = openDb({ dataDir: ':memory:' });
    server = null;
    runs = [];
    const now = '2026-01-01T00:00:00.000Z';
    saveDriftRecord(db, {
      key: 'acme/infra/app/default/',
      repo: 'acme/infra',
      dir: 'app',
      workspace: 'default',
      name: null,
      kind: 'terraform',
      state: 'drifted',
      reason: null,
      summary: { add: 0, change: 1, destroy: 0 },
      excerpt: '! input = "a" -> "b"',
      headSha: 'f'.repeat(40),
      schedule: null,
      fingerprint: 'a'.repeat(64),
      firstSeen: now,
      lastSeen: now,
      issueNumber: 7,
      issueUrl: 'https://github.example/acme/infra/issues/7',
      remediatedAt: null,
      lastChecked: now,
      lastChanged: now,
    });
  });
  afterEach(async () => {
    await new Promise<void>((resolve) => (server === null ? resolve() : server.close(() => resolve())));
    db.close();
  });

  it('is disabled without TIDELINE_API_SECRET, and says how to enable it', async () => {
    const url = await serve(null);
    for (const [method, path] of [['POST', '/api/drift/run'], ['GET', '/api/drift']] as const) {
      const res = await fetch(`${url}${path}`, { method, headers: { authorization: 'Bearer anything' } });
      expect(res.status).toBe(404);
      expect(((await res.json()) as { error: string }).error).toContain('set TIDELINE_API_SECRET');
    }
    expect(runs).toEqual([]);
  });

  it.each([
    ['no token', undefined],
    ['a wrong token', 'Bearer nope'],
    ['a token of another scheme', `Basic ${SECRET}`],
  ])('refuses %s with 401 and starts nothing', async (_name, authorization) => {
    const url = await serve(SECRET);
    const headers: Record<string, string> = authorization === undefined ? {} : { authorization };
    expect((await fetch(`${url}/api/drift/run`, { method: 'POST', headers })).status).toBe(401);
    const read = await fetch(`${url}/api/drift`, { headers });
    expect(read.status).toBe(401);
    expect(read.headers.get('www-authenticate')).toContain('Bearer');
    expect(runs).toEqual([]);
  });

  it('starts a sweep of every repository, or of the one named, with the bearer token', async () => {
    const url = await serve(SECRET);
    const auth = { authorization: `Bearer ${SECRET}` };
    const all = await fetch(`${url}/api/drift/run`, { method: 'POST', headers: auth });
    expect(all.status).toBe(202);
    expect(await all.json()).toEqual({ enqueued: 3 });
    const one = await fetch(`${url}/api/drift/run?repo=acme/infra`, { method: 'POST', headers: auth });
    expect(await one.json()).toEqual({ enqueued: 1 });
    const body = await fetch(`${url}/api/drift/run`, { method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body: JSON.stringify({ repo: 'acme/other' }) });
    expect(body.status).toBe(202);
    expect(runs).toEqual([undefined, 'acme/infra', 'acme/other']);
  });

  it.each([
    ['form-encoded (curl -d without a content type)', 'application/x-www-form-urlencoded'],
    ['plain text', 'text/plain'],
  ])('refuses a %s body with 415 rather than sweeping every repository', async (_what, type) => {
    const url = await serve(SECRET);
    const res = await fetch(`${url}/api/drift/run`, { method: 'POST', headers: { authorization: `Bearer ${SECRET}`, 'content-type': type }, body: '{"repo":"acme/infra"}' });
    expect(res.status).toBe(415);
    expect(((await res.json()) as { error: string }).error).toMatch(/Content-Type: application\/json.*\?repo=/);
    expect(runs).toEqual([]);
  });

  it.each([
    ['a misspelt query parameter', '?rep=acme/infra', undefined, /query parameter `rep` .*use \?repo=owner\/name/],
    ['a query parameter in brackets', '?repo[name]=acme/infra', undefined, /query parameter `repo\[name\]`/],
    ['a body key other than repo', '', { repository: 'acme/infra' }, /body key `repository` .*\{"repo":"owner\/name"\}/],
    ['a JSON array body', '', ['acme/infra'], /body must be a JSON object/],
    ['a query and a body naming different repositories', '?repo=acme/infra', { repo: 'acme/other' }, /names acme\/infra in \?repo= and acme\/other in the body/],
  ])('refuses %s with 400 rather than sweeping every repository', async (_what, query, body, message) => {
    const url = await serve(SECRET);
    const headers: Record<string, string> = { authorization: `Bearer ${SECRET}` };
    if (body !== undefined) headers['content-type'] = 'application/json';
    const res = await fetch(`${url}/api/drift/run${query}`, { method: 'POST', headers, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: string }).error).toMatch(message);
    expect(runs).toEqual([]);
  });

  it('refuses an unknown query parameter on GET /api/drift rather than answering for every repository', async () => {
    const url = await serve(SECRET);
    const res = await fetch(`${url}/api/drift?repository=acme/other`, { headers: { authorization: `Bearer ${SECRET}` } });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: string }).error).toMatch(/query parameter `repository` is not a query parameter of GET \/api\/drift: use \?repo=owner\/name/);
  });

  it('takes an empty JSON object, and the same repository in the query and the body', async () => {
    const url = await serve(SECRET);
    const headers = { authorization: `Bearer ${SECRET}`, 'content-type': 'application/json' };
    expect((await fetch(`${url}/api/drift/run`, { method: 'POST', headers, body: '{}' })).status).toBe(202);
    expect((await fetch(`${url}/api/drift/run?repo=acme/infra`, { method: 'POST', headers, body: '{"repo":"acme/infra"}' })).status).toBe(202);
    expect(runs).toEqual([undefined, 'acme/infra']);
  });

  it('answers 404 for a repository the server does not serve and 400 for a malformed name', async () => {
    const url = await serve(SECRET);
    const auth = { authorization: `Bearer ${SECRET}` };
    expect((await fetch(`${url}/api/drift/run?repo=acme/unknown`, { method: 'POST', headers: auth })).status).toBe(404);
    expect((await fetch(`${url}/api/drift/run?repo=../../etc`, { method: 'POST', headers: auth })).status).toBe(400);
  });

  it("returns every project's drift state as JSON", async () => {
    const url = await serve(SECRET);
    const res = await fetch(`${url}/api/drift`, { headers: { authorization: `Bearer ${SECRET}` } });
    expect(res.status).toBe(200);
    // It carries plan excerpts: no proxy or browser cache may keep a copy, as with /api/audit.
    expect(res.headers.get('cache-control')).toBe('no-store');
    const { projects } = (await res.json()) as { projects: unknown[] };
    expect(projects).toEqual([
      expect.objectContaining({ repo: 'acme/infra', dir: 'app', state: 'drifted', fingerprint: 'a'.repeat(64), issue: { number: 7, url: 'https://github.example/acme/infra/issues/7' } }),
    ]);
    const other = await fetch(`${url}/api/drift?repo=acme/other`, { headers: { authorization: `Bearer ${SECRET}` } });
    expect(await other.json()).toEqual({ projects: [] });
  });
});
