// Malformed requests against the real server: each gets a 4xx saying what was wrong, JSON on
// the API and plain text on the UI, never express's HTML page with a stack trace, and the
// server's own failures say only where to look.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyAudit } from '../../server/audit/verify.js';
import { openDb } from '../../server/store/db.js';
import { startHarness, type Harness } from '../support/harness.js';

const API_SECRET = 'api-secret-for-error-tests-31d9';
const WEB = { username: 'ops', password: 'pw-for-error-tests' };
const BEARER = { authorization: `Bearer ${API_SECRET}` };
const BASIC = { authorization: `Basic ${Buffer.from(`${WEB.username}:${WEB.password}`).toString('base64')}` };

describe('malformed HTTP requests', () => {
  let h: Harness;

  beforeAll(async () => {
    h = await startHarness({ env: { TIDELINE_API_SECRET: API_SECRET, TIDELINE_WEB_USERNAME: WEB.username, TIDELINE_WEB_PASSWORD: WEB.password, TIDELINE_DRIFT_SCHEDULE: 'off' } });
  });
  afterAll(async () => {
    await h?.close();
  });

  function expectNoStack(body: string): void {
    expect(body).not.toMatch(/node_modules|\n\s+at |<br> &nbsp;/);
  }

  it.each([
    { what: 'malformed JSON', body: '{bad', headers: {}, status: 400, says: /request body could not be parsed: .*JSON.*position/ },
    { what: 'an oversized JSON body', body: JSON.stringify({ repo: 'a'.repeat(20_000) }), headers: {}, status: 413, says: /request body is 20\d\d\d bytes; this route takes at most 16384 bytes/ },
    { what: 'a charset JSON cannot be', body: '{}', headers: { 'content-type': 'application/json; charset=koi8-r' }, status: 415, says: /charset is not supported .*KOI8-R.*send UTF-8/ },
  ])('answers $what on POST /api/drift/run with a JSON $status naming the problem', async ({ body, headers, status, says }) => {
    const res = await fetch(`${h.server.url}/api/drift/run`, { method: 'POST', headers: { ...BEARER, 'content-type': 'application/json', ...headers }, body });
    const text = await res.text();
    expect(res.status).toBe(status);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    expect(res.headers.get('cache-control')).toBe('no-store');
    expectNoStack(text);
    expect((JSON.parse(text) as { error: string }).error).toMatch(says);
  });

  it('answers a lock path that is not valid percent-encoding with a plain-text 400', async () => {
    const res = await fetch(`${h.server.url}/locks/%E0%A4%A`, { headers: BASIC });
    const text = await res.text();
    expect(res.status).toBe(400);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain/);
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expectNoStack(text);
    expect(text).toMatch(/URL path is not valid percent-encoding: Failed to decode param '%E0%A4%A'/);
  });

  it('answers an unlock form with too many fields with a plain-text 413, after the login', async () => {
    const fields = new URLSearchParams(Array.from({ length: 12 }, (_, i): [string, string] => [`f${i}`, 'x'])).toString();
    const post = (headers: Record<string, string>): Promise<Response> =>
      fetch(`${h.server.url}/locks/some-key/unlock`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers }, body: fields });
    expect((await post({})).status).toBe(401);
    const res = await post(BASIC);
    const text = await res.text();
    expect(res.status).toBe(413);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain/);
    expectNoStack(text);
    expect(text).toMatch(/form has more fields than this route takes/);
  });

  it('keeps a refused delivery audit record small, whatever size its headers were', async () => {
    const huge = 'e'.repeat(7_000);
    const res = await fetch(`${h.server.url}/events`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-github-event': huge, 'x-github-delivery': huge }, body: '{}' });
    expect(res.status).toBe(400);
    const rows = h.server.db.prepare("SELECT fields FROM audit WHERE type = 'webhook.refused'").all() as { fields: string }[];
    expect(rows).toHaveLength(1);
    const fields = JSON.parse(rows[0]?.fields ?? '{}') as { event: string; deliveryId: string; reason: string };
    expect(rows[0]?.fields.length).toBeLessThan(600);
    expect(fields.event).toBe(`${'e'.repeat(100)}… (7000 characters)`);
    expect(fields.reason).toContain('missing x-hub-signature-256 header');
  });

  it.each([
    { method: 'GET', path: '/events', allow: 'POST', json: true },
    { method: 'PUT', path: '/api/audit', allow: 'GET, HEAD', json: true },
    { method: 'POST', path: '/api/drift', allow: 'GET, HEAD', json: true },
    { method: 'GET', path: '/api/drift/run', allow: 'POST', json: true },
    { method: 'POST', path: '/healthz', allow: 'GET, HEAD', json: false },
    { method: 'POST', path: '/readyz', allow: 'GET, HEAD', json: false },
    { method: 'DELETE', path: '/metrics', allow: 'GET, HEAD', json: false },
  ])('answers $method $path with a 405 naming the methods it takes', async ({ method, path, allow, json }) => {
    const res = await fetch(`${h.server.url}${path}`, { method, headers: BEARER });
    const text = await res.text();
    expect(res.status).toBe(405);
    expect(res.headers.get('allow')).toBe(allow);
    expect(res.headers.get('content-type')).toMatch(json ? /^application\/json/ : /^text\/plain/);
    expectNoStack(text);
    const message = json ? (JSON.parse(text) as { error: string }).error : text;
    expect(message).toMatch(new RegExp(`^${method} is not allowed on ${path}: use ${allow.split(', ')[0]}`));
  });

  it.each([
    { path: '/api/drift/runs', json: true },
    { path: '/events/github', json: false },
    { path: '/no-such-page', json: false },
  ])('answers an unknown path $path with a 404 in the form its neighbours speak', async ({ path, json }) => {
    const res = await fetch(`${h.server.url}${path}`, { headers: BEARER });
    const text = await res.text();
    expect(res.status).toBe(404);
    expect(res.headers.get('content-type')).toMatch(json ? /^application\/json/ : /^text\/plain/);
    expectNoStack(text);
    const message = json ? (JSON.parse(text) as { error: string }).error : text;
    expect(message).toMatch(new RegExp(`^no route GET ${path}`));
  });

  it('answers a webhook body over GitHub 25 MB cap with a JSON 413', async () => {
    const res = await fetch(`${h.server.url}/events`, { method: 'POST', headers: { 'content-type': 'application/json', 'content-length': String(26 * 1024 * 1024) }, body: 'x'.repeat(26 * 1024 * 1024) });
    const text = await res.text();
    expect(res.status).toBe(413);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    expectNoStack(text);
    expect(text).toMatch(/this route takes at most 26214400 bytes/);
  });
});

describe('a flood of refused deliveries', () => {
  it('records the first 30 a minute one by one, and the server counts the rest in one record when it stops', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tideline-refusal-flood-'));
    const h = await startHarness({ dir, env: { TIDELINE_DRIFT_SCHEDULE: 'off' } });
    const dataDir = h.settings.dataDir;
    const statuses: number[] = [];
    for (let i = 0; i < 45; i++) {
      const res = await fetch(`${h.server.url}/events`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-github-event': 'ping', 'x-github-delivery': `flood-${i}`, 'x-hub-signature-256': 'sha256=00' },
        body: '{}',
      });
      statuses.push(res.status);
    }
    expect(new Set(statuses)).toEqual(new Set([401]));
    const count = (): number => (h.server.db.prepare("SELECT COUNT(*) AS n FROM audit WHERE type = 'webhook.refused'").get() as { n: number }).n;
    expect(count()).toBe(30);
    await h.close();
    const db = openDb({ dataDir });
    try {
      const rows = db.prepare("SELECT fields FROM audit WHERE type = 'webhook.refused' ORDER BY seq").all() as { fields: string }[];
      expect(rows).toHaveLength(31);
      expect(JSON.parse(rows[30]?.fields ?? '{}')).toMatchObject({ suppressed: 15, byStatus: { '401': 15 } });
      expect(verifyAudit(db)).toMatchObject({ ok: true });
    } finally {
      db.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
