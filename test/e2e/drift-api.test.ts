// Drift through the running server: the PR loop applies a project, someone changes the state
// out of band, `POST /api/drift/run` sweeps the default branch, and the alerts appear. The
// scheduler is covered by unit tests; here the server's own API starts the sweep.

import { execFileSync } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DRIFT_SIGNATURE_HEADER, verifyDriftSignature } from '../../server/drift/index.js';
import { startHarness, terraformProject, type Harness } from '../support/harness.js';

const REPO = 'acme/drifty';
const API = 'drift-api-secret-1';
const HOOK_SECRET = 'drift-hook-secret-1';

function outOfBand(dir: string, stateFile: string, value: string): void {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'main.tf'), terraformProject(stateFile, 'one'));
  const env = { PATH: process.env['PATH'] ?? '/usr/bin:/bin', HOME: dir, TF_CLI_CONFIG_FILE: '/dev/null', TF_IN_AUTOMATION: '1' };
  execFileSync('terraform', ['init', '-input=false', '-no-color'], { cwd: dir, env, stdio: 'pipe' });
  execFileSync('terraform', ['apply', '-auto-approve', '-input=false', '-no-color', '-var', `v=${value}`], { cwd: dir, env, stdio: 'pipe' });
}

describe('drift through the server API', () => {
  let h: Harness;
  let receiver: Server;
  const received: { valid: boolean; body: { event?: string; text?: string } }[] = [];

  beforeAll(async () => {
    receiver = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        const signature = req.headers[DRIFT_SIGNATURE_HEADER.toLowerCase()];
        received.push({ valid: verifyDriftSignature(HOOK_SECRET, body, typeof signature === 'string' ? signature : undefined), body: JSON.parse(body) as { event?: string } });
        res.end('ok');
      });
    });
    await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', () => r()));
    const hook = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/drift`;
    h = await startHarness({ env: { TIDELINE_API_SECRET: API, TIDELINE_DRIFT_WEBHOOK_URL: hook, TIDELINE_DRIFT_WEBHOOK_SECRET: HOOK_SECRET, TIDELINE_DRIFT_SCHEDULE: 'off' } });
  });
  afterAll(async () => {
    await h?.close();
    await new Promise((r) => receiver?.close(r));
  });

  async function runSweep(auth: string | null): Promise<Response> {
    return fetch(`${h.server.url}/api/drift/run`, { method: 'POST', headers: auth === null ? {} : { authorization: `Bearer ${auth}` } });
  }

  it('raises drift from an out-of-band change, with an issue, a status and a signed webhook', async () => {
    const state = join(h.stateDir, 'drifty.tfstate');
    await h.double.createRepo(REPO, { 'app/main.tf': terraformProject(state, 'one') });
    const pr = await h.double.openPull(REPO, { branch: 'touch', author: 'alice', files: { 'app/main.tf': `${terraformProject(state, 'one')}# reviewed\n` } });
    await h.double.sendPullRequestEvent(REPO, pr.number, 'opened');
    await h.server.pool.idle();
    await h.double.sendComment(REPO, pr.number, 'tideline apply', { user: 'alice' });
    await h.server.pool.idle();
    const main = await h.double.mergePull(REPO, pr.number);
    await h.double.sendPullRequestEvent(REPO, pr.number, 'closed');
    await h.server.pool.idle();

    expect((await runSweep(null)).status).toBe(401);
    outOfBand(join(h.dir, 'outside'), state, 'changed-by-hand');
    const started = await runSweep(API);
    expect(started.status).toBe(202);
    expect(await started.json()).toMatchObject({ enqueued: 1 });
    await h.server.pool.idle();

    const issues = h.double.issues(REPO);
    expect(issues).toHaveLength(1);
    expect(issues[0]).toMatchObject({ state: 'open', labels: ['tideline-drift'] });
    expect(issues[0]?.title).toContain('Drift detected');
    expect(h.double.comments(REPO, pr.number).some((c) => c.user === h.double.botLogin && /drift/i.test(c.body))).toBe(true);
    await h.double.waitFor('tideline/drift failure', () => h.double.statuses(REPO, main).find((s) => s.context === 'tideline/drift' && s.state === 'failure'));
    await h.double.waitFor('the drift webhook', () => received.find((r) => r.body.event !== undefined));
    expect(received.every((r) => r.valid)).toBe(true);

    const states = (await (await fetch(`${h.server.url}/api/drift`, { headers: { authorization: `Bearer ${API}` } })).json()) as unknown;
    expect(JSON.stringify(states)).toContain('drifted');
    const metrics = await (await fetch(`${h.server.url}/metrics`)).text();
    expect(metrics).toMatch(/tideline_projects_by_drift_state\{state="drifted"\} 1/);
    const page = await (await fetch(`${h.server.url}/`)).text();
    expect(page).toContain('drifted');
    const audit = (h.server.db.prepare("SELECT type FROM audit WHERE type LIKE 'drift.%'").all() as { type: string }[]).map((r) => r.type);
    expect(audit).toEqual(expect.arrayContaining(['drift.check', 'drift.transition']));

    // Putting the state back resolves it.
    outOfBand(join(h.dir, 'outside'), state, 'one');
    await runSweep(API);
    await h.server.pool.idle();
    expect(h.double.issues(REPO)[0]?.state).toBe('closed');
  });
});
