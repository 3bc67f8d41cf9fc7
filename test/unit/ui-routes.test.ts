// The web UI over HTTP: basic auth on every route, strict headers, the CSRF-guarded unlock with
// its audit record, the lock links PR comments carry, and the overview at 500 locks.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { csrfToken } from '../../server/http/ui/index.js';
import { enqueue, listJobs } from '../../server/jobs/queue.js';
import { getLock, lockKey, tryLock } from '../../server/locks/locks.js';
import { rememberRepo } from '../../server/store/repos.js';
import { CSRF_SECRET, startUiRig, type UiRig } from '../support/ui-rig.js';

const WEB = { username: 'ops', password: 'correct horse battery staple' };
const AUTH = `Basic ${Buffer.from(`${WEB.username}:${WEB.password}`).toString('base64')}`;

function lockProject(rig: UiRig, repo: string, dir: string, pull: number, user = 'alice'): string {
  const res = tryLock(rig.db, rig.audit, { repo, project: { dir, workspace: 'default', kind: 'terraform' }, pull, pullUrl: `https://github.com/${repo}/pull/${pull}`, user });
  expect(res.acquired).toBe(true);
  return res.key;
}

function lockPathOf(key: string): string {
  return `/locks/${encodeURIComponent(key)}`;
}

async function formToken(rig: UiRig, key: string): Promise<string> {
  const page = await (await fetch(`${rig.url}${lockPathOf(key)}`, { headers: { authorization: AUTH } })).text();
  const token = /name="csrf" value="([^"]+)"/.exec(page)?.[1];
  if (token === undefined) throw new Error(`no CSRF token on the lock page:\n${page}`);
  return token;
}

function unlock(rig: UiRig, key: string, form: Record<string, string>, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(`${rig.url}${lockPathOf(key)}/unlock`, {
    method: 'POST',
    redirect: 'manual',
    headers: { authorization: AUTH, 'content-type': 'application/x-www-form-urlencoded', ...headers },
    body: new URLSearchParams(form).toString(),
  });
}

function released(rig: UiRig): { actor: string; project: string | null; fields: string }[] {
  return rig.db.prepare("SELECT actor, project, fields FROM audit WHERE type = 'lock.released' ORDER BY seq").all() as { actor: string; project: string | null; fields: string }[];
}

describe('web UI with basic auth', () => {
  let rig: UiRig;
  let notified = 0;
  beforeAll(async () => {
    rig = await startUiRig({
      web: WEB,
      notify: () => {
        notified += 1;
      },
    });
  });
  afterAll(async () => {
    await rig.close();
  });

  it.each(['/', '/locks/acme%2Finfra%2Fapp%2Fdefault%2F', '/locks?repo=acme/infra&dir=app', '/jobs/1', '/jobs/1/events', '/no-such-asset-but-guarded'])(
    'answers GET %s with 401 and a basic-auth challenge without credentials',
    async (path) => {
      const res = await fetch(`${rig.url}${path}`);
      if (path === '/no-such-asset-but-guarded') {
        // Not a UI route: the router passes it on, and express answers 404, not 401.
        expect(res.status).toBe(404);
        return;
      }
      expect(res.status).toBe(401);
      expect(res.headers.get('www-authenticate')).toBe('Basic realm="Tideline", charset="UTF-8"');
    },
  );

  it.each([
    ['a wrong password', `Basic ${Buffer.from('ops:wrong').toString('base64')}`],
    ['a wrong user', `Basic ${Buffer.from(`root:${WEB.password}`).toString('base64')}`],
    ['no colon', `Basic ${Buffer.from('ops').toString('base64')}`],
    ['a bearer token', 'Bearer abc'],
  ])('refuses %s with 401', async (_what, authorization) => {
    const res = await fetch(`${rig.url}/`, { headers: { authorization } });
    expect(res.status).toBe(401);
  });

  it('serves the overview with the right credentials, with a strict Content-Security-Policy', async () => {
    const res = await fetch(`${rig.url}/`, { headers: { authorization: AUTH } });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8');
    const csp = res.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).not.toMatch(/https?:|\*/);
    expect(res.headers.get('x-frame-options')).toBe('DENY');
    // Not no-referrer: with it, Chrome sends `Origin: null` on the UI's own form posts.
    expect(res.headers.get('referrer-policy')).toBe('same-origin');
    expect(res.headers.get('cache-control')).toBe('no-store');
    const body = await res.text();
    expect(body).toContain('signed in as ops');
    // Everything the page loads comes from this server.
    for (const [, url] of body.matchAll(/(?:src|href)="([^"]*)"/g)) expect(url).toMatch(/^(\/|#|data:,$)/);
  });

  it('serves its stylesheet and script from the server itself, behind the same auth', async () => {
    const page = await (await fetch(`${rig.url}/`, { headers: { authorization: AUTH } })).text();
    const paths = [...page.matchAll(/(?:src|href)="(\/ui\/assets\/[^"]+)"/g)].map((m) => m[1] as string);
    expect(paths).toHaveLength(2);
    for (const path of paths) {
      expect((await fetch(`${rig.url}${path}`)).status).toBe(401);
      const res = await fetch(`${rig.url}${path}`, { headers: { authorization: AUTH } });
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toMatch(/^text\/(css|javascript)/);
      expect(await res.text()).not.toMatch(/https?:\/\//);
    }
  });

  it.each([
    { method: 'GET', path: '/locks/acme%2Finfra%2Fapp%2Fdefault%2F/unlock', allow: 'POST' },
    { method: 'POST', path: '/', allow: 'GET, HEAD' },
    { method: 'DELETE', path: '/locks/acme%2Finfra%2Fapp%2Fdefault%2F', allow: 'GET, HEAD' },
    { method: 'POST', path: '/locks?repo=acme/infra&dir=app', allow: 'GET, HEAD' },
    { method: 'PUT', path: '/jobs/1', allow: 'GET, HEAD' },
    { method: 'POST', path: '/jobs/1/events', allow: 'GET, HEAD' },
  ])('answers $method $path with 405 and Allow once signed in, and only the challenge before', async ({ method, path, allow }) => {
    const anonymous = await fetch(`${rig.url}${path}`, { method });
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers.get('allow')).toBeNull();
    const res = await fetch(`${rig.url}${path}`, { method, headers: { authorization: AUTH } });
    expect(res.status).toBe(405);
    expect(res.headers.get('allow')).toBe(allow);
    expect(res.headers.get('content-security-policy')).not.toBeNull();
    expect(await res.text()).toMatch(new RegExp(`^${method} is not allowed on /`));
  });

  it('answers a wrong method on an asset with 405 once signed in', async () => {
    const page = await (await fetch(`${rig.url}/`, { headers: { authorization: AUTH } })).text();
    const asset = /href="(\/ui\/assets\/[^"]+)"/.exec(page)?.[1] ?? '';
    expect((await fetch(`${rig.url}${asset}`, { method: 'POST' })).status).toBe(401);
    const res = await fetch(`${rig.url}${asset}`, { method: 'POST', headers: { authorization: AUTH } });
    expect([res.status, res.headers.get('allow')]).toEqual([405, 'GET, HEAD']);
  });

  it('leaves routes mounted after it alone (no auth in front of /healthz)', async () => {
    expect((await fetch(`${rig.url}/healthz`)).status).toBe(200);
  });

  it('refuses an unlock without a CSRF token, and changes nothing', async () => {
    const key = lockProject(rig, 'acme/infra', 'no-token', 1);
    const res = await unlock(rig, key, { confirm: 'yes' });
    expect(res.status).toBe(403);
    expect(await res.text()).toContain('no CSRF token');
    expect(getLock(rig.db, key)).not.toBeNull();
    expect(released(rig)).toEqual([]);
  });

  it.each([
    ['garbage', (): string => 'abc'],
    ['a token for another lock', (): string => csrfToken(CSRF_SECRET, WEB.username, 'unlock:acme/infra/other/default/')],
    ['a token for another user', (): string => csrfToken(CSRF_SECRET, 'mallory', 'unlock:acme/infra/wrong-token/default/')],
    ['a token signed with another secret', (): string => csrfToken('another-secret-another-secret', WEB.username, 'unlock:acme/infra/wrong-token/default/')],
    ['an expired token', (): string => csrfToken(CSRF_SECRET, WEB.username, 'unlock:acme/infra/wrong-token/default/', Date.now() - 5 * 3600_000)],
  ])('refuses an unlock with %s, and changes nothing', async (_what, token) => {
    const key = lockKey('acme/infra', { dir: 'wrong-token', workspace: 'default' });
    if (getLock(rig.db, key) === null) lockProject(rig, 'acme/infra', 'wrong-token', 2);
    const res = await unlock(rig, key, { csrf: token(), confirm: 'yes' });
    expect(res.status).toBe(403);
    expect(getLock(rig.db, key)).not.toBeNull();
    expect(released(rig)).toEqual([]);
  });

  it.each([
    ['another origin', { origin: 'https://evil.example' }],
    ['an opaque origin', { origin: 'null' }],
    ['Sec-Fetch-Site: cross-site', { 'sec-fetch-site': 'cross-site' }],
    ['Sec-Fetch-Site: same-site, whatever the Origin says', { 'sec-fetch-site': 'same-site', origin: 'http://127.0.0.1' }],
  ])('refuses an unlock from %s even with a valid token', async (_what, headers) => {
    const key = lockKey('acme/infra', { dir: 'cross-site', workspace: 'default' });
    if (getLock(rig.db, key) === null) lockProject(rig, 'acme/infra', 'cross-site', 3);
    const token = await formToken(rig, key);
    const res = await unlock(rig, key, { csrf: token, confirm: 'yes' }, headers);
    expect(res.status).toBe(403);
    expect(getLock(rig.db, key)).not.toBeNull();
  });

  it('asks for confirmation when the form was sent without it', async () => {
    const key = lockProject(rig, 'acme/infra', 'confirm-step', 4);
    const res = await unlock(rig, key, { csrf: await formToken(rig, key), confirm: '' });
    expect(res.status).toBe(200);
    const page = await res.text();
    expect(page).toContain('Yes, unlock');
    expect(page).toContain('name="confirm" value="yes"');
    expect(getLock(rig.db, key)).not.toBeNull();
  });

  it('releases the lock with the right token, records lock.released with the web user, tells the PR and shows a flash', async () => {
    rememberRepo(rig.db, { fullName: 'acme/infra', owner: 'acme', name: 'infra', cloneUrl: 'file:///dev/null', defaultBranch: 'main' });
    const key = lockProject(rig, 'acme/infra', 'release-me', 5);
    const before = notified;
    const res = await unlock(rig, key, { csrf: await formToken(rig, key), confirm: 'yes' }, { origin: rig.url });
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe('/');
    expect(getLock(rig.db, key)).toBeNull();

    const records = released(rig);
    expect(records).toHaveLength(1);
    expect(records[0]?.actor).toBe('ops');
    expect(records[0]?.project).toBe(key);
    expect(JSON.parse(records[0]?.fields ?? '{}')).toMatchObject({ reason: 'unlocked from the web UI', holder: { pull: 5, user: 'alice' } });

    const replies = listJobs(rig.db, ['queued']).filter((j) => j.type === 'reply');
    expect(replies).toHaveLength(1);
    const body = (replies[0]?.payload as { body: string }).body;
    expect(body).toContain('Lock released');
    expect(body).toContain('`tideline plan -d release-me`');
    expect(body).toContain('<!-- tideline:released -->');
    expect(notified).toBe(before + 1);

    const cookie = (res.headers.get('set-cookie') ?? '').split(';')[0] ?? '';
    const next = await fetch(`${rig.url}/`, { headers: { authorization: AUTH, cookie } });
    const page = await next.text();
    expect(page).toContain('Released the lock of acme/infra release-me');
    expect(next.headers.get('set-cookie')).toContain('Max-Age=0');
    // A forged flash cookie shows nothing.
    const forged = `tideline_flash=${Buffer.from(JSON.stringify({ kind: 'ok', text: 'FORGED' })).toString('base64url')}.AAAA`;
    expect(await (await fetch(`${rig.url}/`, { headers: { authorization: AUTH, cookie: forged } })).text()).not.toContain('FORGED');
  });

  it('releases the lock behind a reverse proxy that rewrites Host, when the browser says the form is same-origin', async () => {
    // nginx's default `proxy_set_header Host $proxy_host` sends the upstream's address, so the
    // browser's Origin never matches Host; Sec-Fetch-Site is the browser's own word.
    const key = lockProject(rig, 'acme/infra', 'behind-proxy', 7);
    const headers = { origin: 'https://tideline.example.com', 'sec-fetch-site': 'same-origin' };
    const res = await unlock(rig, key, { csrf: await formToken(rig, key), confirm: 'yes' }, headers);
    expect(res.status).toBe(303);
    expect(getLock(rig.db, key)).toBeNull();
  });

  it('says so when the lock was already released', async () => {
    const key = lockProject(rig, 'acme/infra', 'twice', 6);
    const token = await formToken(rig, key);
    expect((await unlock(rig, key, { csrf: token, confirm: 'yes' })).status).toBe(303);
    const again = await unlock(rig, key, { csrf: token, confirm: 'yes' });
    expect(again.status).toBe(303);
    const cookie = (again.headers.get('set-cookie') ?? '').split(';')[0] ?? '';
    expect(await (await fetch(`${rig.url}/`, { headers: { authorization: AUTH, cookie } })).text()).toContain('already released');
  });

  it('finds a lock from the link a PR comment carries', async () => {
    const key = lockProject(rig, 'acme/web', 'site', 7);
    const res = await fetch(`${rig.url}/locks?repo=acme/web&dir=site&workspace=default`, { headers: { authorization: AUTH }, redirect: 'manual' });
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe(lockPathOf(key));
    expect((await fetch(`${rig.url}/locks?repo=acme/web&dir=gone`, { headers: { authorization: AUTH } })).status).toBe(404);
  });

  it('answers 404 for an unknown lock or job', async () => {
    expect((await fetch(`${rig.url}/locks/nope`, { headers: { authorization: AUTH } })).status).toBe(404);
    expect((await fetch(`${rig.url}/jobs/999`, { headers: { authorization: AUTH } })).status).toBe(404);
    expect((await fetch(`${rig.url}/jobs/abc`, { headers: { authorization: AUTH } })).status).toBe(404);
  });

  it('shows a job with the output printed so far, escaped', async () => {
    const id = enqueue(rig.db, {
      type: 'command',
      repo: 'acme/infra',
      pull: 9,
      serialKey: 'acme/infra#9',
      payload: {
        repo: { owner: 'acme', name: 'infra', fullName: 'acme/infra', cloneUrl: 'file:///dev/null', defaultBranch: 'main' },
        pull: 9,
        command: { name: 'plan', selector: { dir: 'app' }, extraArgs: [] },
        actor: 'alice',
        commentUrl: '',
        deliveryId: 'd-1',
      },
    });
    rig.live.append(id, 'line <b>one</b>\nline two\n');
    const page = await (await fetch(`${rig.url}/jobs/${id}`, { headers: { authorization: AUTH } })).text();
    expect(page).toContain('plan -d app');
    expect(page).toContain('line &lt;b&gt;one&lt;/b&gt;\nline two\n');
    expect(page).toContain(`data-events="/jobs/${id}/events?after=2"`);
  });
});

describe('web UI without credentials', () => {
  let rig: UiRig;
  beforeAll(async () => {
    rig = await startUiRig({ web: null });
  });
  afterAll(async () => {
    await rig.close();
  });

  it('is readable without auth, and still needs a CSRF token to unlock', async () => {
    expect((await fetch(`${rig.url}/`)).status).toBe(200);
    const key = lockProject(rig, 'acme/infra', 'app', 1);
    expect((await fetch(`${rig.url}${lockPathOf(key)}/unlock`, { method: 'POST', body: new URLSearchParams({ confirm: 'yes' }) })).status).toBe(403);
    const page = await (await fetch(`${rig.url}${lockPathOf(key)}`)).text();
    const token = /name="csrf" value="([^"]+)"/.exec(page)?.[1] ?? '';
    const res = await fetch(`${rig.url}${lockPathOf(key)}/unlock`, { method: 'POST', redirect: 'manual', body: new URLSearchParams({ csrf: token, confirm: 'yes' }) });
    expect(res.status).toBe(303);
    expect(released(rig).map((r) => r.actor)).toEqual(['web']);
  });

  it('renders 500 locks in one readable page, quickly', async () => {
    for (let i = 0; i < 500; i += 1) lockProject(rig, `acme/repo-${i % 40}`, `stacks/service-${i}`, 100 + i, `user-${i % 7}`);
    const started = performance.now();
    const res = await fetch(`${rig.url}/`);
    const page = await res.text();
    const ms = performance.now() - started;
    expect(res.status).toBe(200);
    expect((page.match(/<tr>/g) ?? []).length).toBeGreaterThanOrEqual(500);
    expect(page).toContain('<b>500</b><span>locks held</span>');
    expect(page).toContain('data-filter="locks-table"');
    expect(Buffer.byteLength(page)).toBeLessThan(600 * 1024);
    expect(ms).toBeLessThan(1500);
  });
});
