// DNS rebinding against the web UI: a page on an attacker's name that re-resolves to the server's
// address is same-origin with the server in the browser's eyes, so Sec-Fetch-Site, Origin and
// CSRF tokens do not stop it. What does is the Host header, which still carries the attacker's
// name: the UI answers only to IP literals, localhost and the names it was given.

import { pino, type Logger } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ASSETS } from '../../server/http/ui/assets.js';
import { hostAllowed, webHostNames } from '../../server/http/ui/host-check.js';
import { HostRefusalLog } from '../../server/http/ui/host-refusal-log.js';
import { getLock, tryLock } from '../../server/locks/locks.js';
import { requestWithHost, type HostResponse } from '../support/host-request.js';
import { startUiRig, type UiRig } from '../support/ui-rig.js';

const WEB = { username: 'ops', password: 'correct horse battery staple' };
const EVIL = 'evil.example:4141';

function lockProject(rig: UiRig, dir: string, pull: number): string {
  const res = tryLock(rig.db, rig.audit, { repo: 'acme/infra', project: { dir, workspace: 'default', kind: 'terraform' }, pull, pullUrl: `https://github.com/acme/infra/pull/${pull}`, user: 'alice' });
  expect(res.acquired).toBe(true);
  return res.key;
}

/** What the attacker's page does once its name points at the server: read a token, then unlock. */
async function rebindAndUnlock(rig: UiRig, key: string, host: string): Promise<{ page: HostResponse; unlock: HostResponse }> {
  const path = `${rig.url}/locks/${encodeURIComponent(key)}`;
  const browser = { origin: `http://${host}`, 'sec-fetch-site': 'same-origin' };
  const page = await requestWithHost(path, host, { headers: { 'sec-fetch-site': 'same-origin' } });
  const token = /name="csrf" value="([^"]+)"/.exec(page.body)?.[1] ?? '';
  const unlock = await requestWithHost(`${path}/unlock`, host, {
    method: 'POST',
    headers: { ...browser, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ csrf: token, confirm: 'yes' }).toString(),
  });
  return { page, unlock };
}

function warnings(rig: UiRig): { msg: string; host?: string; repeats?: number }[] {
  return rig.logs.map((line) => JSON.parse(line) as { level: number; msg: string; host?: string; repeats?: number }).filter((entry) => entry.level === 40);
}

describe('web UI without credentials, against DNS rebinding', () => {
  let rig: UiRig;
  beforeAll(async () => {
    rig = await startUiRig({ web: null, hosts: ['tideline.example.com', 'tideline-upstream'] });
  });
  afterAll(async () => {
    await rig.close();
  });

  it('refuses a rebound name: its page reads no token and its unlock releases nothing', async () => {
    const key = lockProject(rig, 'rebound', 1);
    const { page, unlock } = await rebindAndUnlock(rig, key, EVIL);
    expect({ page: page.status, token: page.body.includes('name="csrf"'), unlock: unlock.status, lockHeld: getLock(rig.db, key) !== null }).toEqual({
      page: 421,
      token: false,
      unlock: 421,
      lockHeld: true,
    });
    expect(rig.db.prepare("SELECT count(*) AS n FROM audit WHERE type = 'lock.released'").get()).toEqual({ n: 0 });
  });

  it('says which Host it refused and which variable to set, in plain text', async () => {
    const res = await requestWithHost(`${rig.url}/`, EVIL);
    expect(res.status).toBe(421);
    expect(res.headers['content-type']).toMatch(/^text\/plain/);
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    expect(res.body).toContain('"evil.example:4141"');
    expect(res.body).toContain('TIDELINE_URL');
    expect(res.body).toContain('add "evil.example" to TIDELINE_WEB_HOSTS');
    expect(res.body).toContain('DNS rebinding');
  });

  it('clips a long Host in its answer', async () => {
    const long = `${'a'.repeat(300)}.example`;
    const res = await requestWithHost(`${rig.url}/`, long);
    expect(res.status).toBe(421);
    expect(res.body).not.toContain(long);
    expect(res.body).toContain(`${'a'.repeat(60)}`);
  });

  it.each([
    ['the listening address', (r: UiRig): string => `127.0.0.1:${r.port}`],
    ['another IPv4 literal (a LAN address)', (): string => '192.168.1.20:4141'],
    ['a bracketed IPv6 literal', (): string => '[::1]:4141'],
    ['a bracketed IPv4-mapped IPv6 literal', (): string => '[::ffff:127.0.0.1]'],
    ['localhost', (): string => 'localhost:4141'],
    ['localhost in capitals, without a port', (): string => 'LocalHost'],
    ['localhost with a trailing dot', (): string => 'localhost.:4141'],
    ['a name under .localhost', (): string => 'tideline.localhost:4141'],
    ['a configured name, on any port', (): string => 'tideline.example.com:8443'],
    ['a configured name in capitals', (): string => 'TIDELINE.Example.COM'],
    ['a configured name with a trailing dot', (): string => 'tideline.example.com.'],
    ['a configured single-label name', (): string => 'tideline-upstream:4141'],
  ])('serves the overview to %s', async (_what, host) => {
    const res = await requestWithHost(`${rig.url}/`, host(rig));
    expect(res.status).toBe(200);
    expect(res.body).toContain('Overview');
  });

  it.each([
    'evil.example',
    '127.0.0.1.nip.io:4141',
    'localhost.evil.example',
    'evillocalhost:4141',
    'tideline.example.com.evil.example',
    'tideline.example.co',
    'sub.tideline.example.com',
    '[not-an-ip]:4141',
    '[::1:4141',
    'evil.example:4141:1',
  ])('refuses Host %s', async (host) => {
    expect((await requestWithHost(`${rig.url}/`, host)).status).toBe(421);
  });

  it('guards every UI route, the assets and the live output too', async () => {
    const paths = ['/jobs/1', '/jobs/1/events', '/locks?repo=acme/infra&dir=x', ...ASSETS.map((asset) => asset.path)];
    expect(paths.length).toBeGreaterThan(3);
    for (const path of paths) {
      expect([path, (await requestWithHost(`${rig.url}${path}`, `localhost:${rig.port}`)).status]).not.toEqual([path, 421]);
      expect([path, (await requestWithHost(`${rig.url}${path}`, EVIL)).status]).toEqual([path, 421]);
    }
  });

  it('leaves routes mounted after it alone', async () => {
    expect((await requestWithHost(`${rig.url}/healthz`, EVIL)).status).toBe(200);
  });
});

describe('web UI with basic auth, against DNS rebinding', () => {
  let rig: UiRig;
  beforeAll(async () => {
    rig = await startUiRig({ web: WEB, hosts: [] });
  });
  afterAll(async () => {
    await rig.close();
  });

  it('refuses a rebound name before asking for a password, so the browser shows no login prompt on it', async () => {
    const res = await requestWithHost(`${rig.url}/`, EVIL);
    expect(res.status).toBe(421);
    expect(res.headers['www-authenticate']).toBeUndefined();
  });

  it('answers a wrong method on a rebound name with the 421 alone, even with the right credentials', async () => {
    const authorization = `Basic ${Buffer.from(`${WEB.username}:${WEB.password}`).toString('base64')}`;
    const rebound = await requestWithHost(`${rig.url}/locks/x/unlock`, EVIL, { headers: { authorization } });
    expect([rebound.status, rebound.headers['allow']]).toEqual([421, undefined]);
    const local = await requestWithHost(`${rig.url}/locks/x/unlock`, `localhost:${rig.port}`, { headers: { authorization } });
    expect([local.status, local.headers['allow']]).toEqual([405, 'POST']);
  });

  it('refuses a rebound name even with the right credentials', async () => {
    const authorization = `Basic ${Buffer.from(`${WEB.username}:${WEB.password}`).toString('base64')}`;
    expect((await requestWithHost(`${rig.url}/`, EVIL, { headers: { authorization } })).status).toBe(421);
    expect((await requestWithHost(`${rig.url}/`, `localhost:${rig.port}`, { headers: { authorization } })).status).toBe(200);
  });
});

describe('the log of refused Hosts', () => {
  let rig: UiRig;
  beforeAll(async () => {
    rig = await startUiRig({ web: null, hosts: [] });
  });
  afterAll(async () => {
    await rig.close();
  });

  it('warns once per Host, with the Host clipped, not once per request', async () => {
    for (let i = 0; i < 5; i += 1) await requestWithHost(`${rig.url}/`, EVIL);
    await requestWithHost(`${rig.url}/`, 'other.example');
    await requestWithHost(`${rig.url}/`, `${'b'.repeat(300)}.example`);
    const warned = warnings(rig);
    expect(warned.map((w) => w.host?.slice(0, 20))).toEqual(['evil.example:4141', 'other.example', 'b'.repeat(20)]);
    expect(warned[2]?.host?.length).toBeLessThanOrEqual(100);
    expect(warned[0]?.msg).toMatch(/Host/);
  });

  it('logs what it counted in the minute the server stops in, as it stops', async () => {
    const shutdown = new AbortController();
    const stopping = await startUiRig({ web: null, hosts: [], signal: shutdown.signal });
    try {
      for (let i = 0; i < 4; i += 1) await requestWithHost(`${stopping.url}/`, EVIL);
      expect(warnings(stopping).map((w) => w.repeats)).toEqual([undefined]);
      shutdown.abort();
      expect(warnings(stopping).map((w) => w.repeats)).toEqual([undefined, 3]);
    } finally {
      await stopping.close();
    }
  });
});

describe('hostAllowed and webHostNames', () => {
  it('lets a request without Host through (no browser sends one), but not an empty one', () => {
    expect(hostAllowed(undefined, new Set())).toBe(true);
    expect(hostAllowed('', new Set())).toBe(false);
    expect(hostAllowed(':4141', new Set())).toBe(false);
  });

  it("takes TIDELINE_URL's host without port, lowercased, and none from an IP-literal URL", () => {
    expect(webHostNames('https://Tideline.Example.com:8443/base')).toEqual(['tideline.example.com']);
    expect(webHostNames('http://10.0.0.5:4141')).toEqual([]);
    expect(webHostNames('http://[::1]:4141')).toEqual([]);
    expect(webHostNames(null)).toEqual([]);
  });
});

describe('HostRefusalLog', () => {
  function capture(): { log: Logger; lines: () => { msg: string; host?: string; repeats?: number; hosts?: Record<string, number>; fromOtherHosts?: number }[] } {
    const out: string[] = [];
    return { log: pino({ level: 'warn' }, { write: (line: string) => void out.push(line) }), lines: () => out.map((line) => JSON.parse(line) as { msg: string }) };
  }

  it('counts the repeats of a window and says how many in one line when it ends', () => {
    const { log, lines } = capture();
    const refusals = new HostRefusalLog(log, { windowMs: 60_000 });
    for (const host of ['a.example', 'a.example', 'a.example', 'b.example']) refusals.refused(host);
    expect(lines().map((l) => l.host)).toEqual(['a.example', 'b.example']);
    refusals.flush();
    expect(lines()[2]).toMatchObject({ repeats: 2, hosts: { 'a.example': 2 } });
    refusals.flush();
    expect(lines()).toHaveLength(3);
  });

  it('logs no more than the cap of Hosts one by one, and counts the others', () => {
    const { log, lines } = capture();
    const refusals = new HostRefusalLog(log, { perWindow: 2 });
    for (const host of ['a.example', 'b.example', 'c.example', 'd.example']) refusals.refused(host);
    refusals.flush();
    expect(lines().map((l) => l.host ?? l.fromOtherHosts)).toEqual(['a.example', 'b.example', 2]);
  });

  it('writes the count when the window is over, without another refusal', async () => {
    const { log, lines } = capture();
    const refusals = new HostRefusalLog(log, { windowMs: 30 });
    refusals.refused('a.example');
    refusals.refused('a.example');
    await new Promise((resolve) => setTimeout(resolve, 80));
    expect(lines()[1]).toMatchObject({ repeats: 1 });
  });
});
