// The Host check against DNS rebinding, on the real server: the web UI answers to TIDELINE_URL's
// host and the names in TIDELINE_WEB_HOSTS and refuses other names, while the routes a rebound page gains nothing from — the
// HMAC-checked webhook (GitHub's Host is whatever name it was given), the bearer-token API, the
// health checks and /metrics (probes and scrapers use service names) — answer any Host.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signBody } from '../../sandbox/github/index.js';
import { startHarness, WEBHOOK_SECRET, type Harness } from '../support/harness.js';
import { requestWithHost } from '../support/host-request.js';

const API = 'api-secret-for-the-host-check';
const EVIL = 'evil.example:4141';

describe('the Host check on the running server', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ env: { TIDELINE_URL: 'https://tideline.example.com/', TIDELINE_WEB_HOSTS: 'Tideline-Upstream, tideline.internal', TIDELINE_API_SECRET: API, TIDELINE_DRIFT_SCHEDULE: 'off' } });
  });
  afterAll(async () => {
    await h?.close();
  });

  it("serves the web UI to TIDELINE_URL's host and to the loopback address", async () => {
    expect((await requestWithHost(`${h.server.url}/`, 'tideline.example.com')).status).toBe(200);
    expect((await requestWithHost(`${h.server.url}/`, 'tideline.example.com:443')).status).toBe(200);
    expect((await requestWithHost(`${h.server.url}/`, new URL(h.server.url).host)).status).toBe(200);
  });

  it('serves the web UI to the names in TIDELINE_WEB_HOSTS, as a proxy that rewrites Host sends them', async () => {
    expect((await requestWithHost(`${h.server.url}/`, 'tideline-upstream:4141')).status).toBe(200);
    expect((await requestWithHost(`${h.server.url}/`, 'tideline.internal')).status).toBe(200);
    expect((await requestWithHost(`${h.server.url}/`, 'tideline.internal.evil.example')).status).toBe(421);
  });

  it('refuses the web UI to another name, saying what to set, with one warning in the log', async () => {
    const res = await requestWithHost(`${h.server.url}/`, EVIL);
    expect(res.status).toBe(421);
    expect(res.body).toContain('"evil.example:4141"');
    expect(res.body).toContain('TIDELINE_WEB_HOSTS');
    await requestWithHost(`${h.server.url}/jobs/1`, EVIL);
    const warned = h
      .logs()
      .split('\n')
      .filter((line) => line.includes('"level":40') && line.includes('"host":"evil.example:4141"'));
    expect(warned).toHaveLength(1);
    expect(warned[0]).toContain('TIDELINE_WEB_HOSTS');
  });

  it.each(['/healthz', '/readyz', '/metrics'])('answers GET %s whatever the Host', async (path) => {
    expect((await requestWithHost(`${h.server.url}${path}`, EVIL)).status).toBe(200);
  });

  it('answers the bearer-token API whatever the Host', async () => {
    const res = await requestWithHost(`${h.server.url}/api/drift`, EVIL, { headers: { authorization: `Bearer ${API}` } });
    expect(res.status).toBe(200);
  });

  it('accepts a signed webhook whatever the Host GitHub was given', async () => {
    const body = JSON.stringify({ zen: 'Keep it logically awesome.', hook_id: 1 });
    const res = await requestWithHost(`${h.server.url}/events`, 'tideline-hooks.example.net', {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-github-event': 'ping', 'x-github-delivery': 'host-check-ping', 'x-hub-signature-256': signBody(WEBHOOK_SECRET, body) },
      body,
    });
    expect(res.status).toBeLessThan(300);
  });
});
