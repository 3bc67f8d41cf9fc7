// Graceful shutdown: SIGTERM lets a running apply finish (up to TIDELINE_SHUTDOWN_TIMEOUT),
// interrupts what cannot finish in time, keeps queued jobs queued, and exits 0. The next
// start tells the PR, keeps the lock, and runs what was queued.

import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startGitHubDouble, type GitHubDouble } from '../../sandbox/github/index.js';
import { verifyAudit } from '../../server/audit/index.js';
import { openDb } from '../../server/store/db.js';
import { exited, spawnServer, untilHealthy } from '../support/server-process.js';
import { startHarness, testEnv, WEBHOOK_SECRET, type Harness } from '../support/harness.js';

const REPO = 'acme/graceful';

function slow(stateFile: string, name: string, seconds: number, value: string): string {
  return `terraform {
  backend "local" { path = ${JSON.stringify(stateFile)} }
}
resource "terraform_data" "${name}" {
  input = "${value}"
  provisioner "local-exec" { command = "sleep ${seconds}" }
}
`;
}

describe('graceful shutdown', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tideline-shutdown-'));
  let double: GitHubDouble | undefined;
  let restarted: Harness | undefined;
  const children: ChildProcess[] = [];

  afterAll(async () => {
    for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
    await restarted?.close();
    await double?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  async function startChild(env: Record<string, string>): Promise<ChildProcess> {
    const child = spawnServer(env);
    children.push(child);
    await untilHealthy(`http://127.0.0.1:${env['TIDELINE_PORT']}/healthz`);
    return child;
  }

  it('lets a running apply finish on SIGTERM and exits 0', async () => {
    double = await startGitHubDouble({ webhookSecret: WEBHOOK_SECRET, rootDir: join(dir, 'github') });
    const d = double;
    await d.createRepo(REPO, { 'a/main.tf': slow(join(dir, 'a.tfstate'), 'a', 2, 'v1'), 'b/main.tf': slow(join(dir, 'b.tfstate'), 'b', 20, 'v1') });
    const port = 21000 + Math.floor(Math.random() * 20000);
    const env = testEnv(dir, d, { TIDELINE_PORT: String(port), TIDELINE_LOG_LEVEL: 'warn', TIDELINE_SHUTDOWN_TIMEOUT: '30', TIDELINE_PARALLELISM: '1' });
    d.setWebhookTarget(`http://127.0.0.1:${port}/events`);
    const child = await startChild(env);

    const pr = await d.openPull(REPO, { branch: 'a', files: { 'a/main.tf': slow(join(dir, 'a.tfstate'), 'a', 2, 'v2') } });
    await d.sendComment(REPO, pr.number, 'tideline plan -d a');
    await d.waitFor('plan of a', () => d.comments(REPO, pr.number).find((c) => c.body.includes('Ran Plan')));
    await d.sendComment(REPO, pr.number, 'tideline apply -d a');
    await d.waitFor('apply of a to start', () => d.statuses(REPO, pr.headSha).find((s) => s.context === 'tideline/apply' && s.state === 'pending'));
    const stopped = exited(child);
    child.kill('SIGTERM');
    expect(await stopped).toBe(0);
    // The apply ran to its end before the process left.
    expect(d.comments(REPO, pr.number).some((c) => c.body.includes('Apply complete!'))).toBe(true);
  });

  it('interrupts an apply that outlives the timeout, keeps queued work, and tells the PR at the next start', async () => {
    const d = double as GitHubDouble;
    const port = 21000 + Math.floor(Math.random() * 20000);
    const env = testEnv(dir, d, { TIDELINE_PORT: String(port), TIDELINE_LOG_LEVEL: 'warn', TIDELINE_SHUTDOWN_TIMEOUT: '1', TIDELINE_PARALLELISM: '1' });
    d.setWebhookTarget(`http://127.0.0.1:${port}/events`);
    const child = await startChild(env);

    const slowPr = await d.openPull(REPO, { branch: 'b', files: { 'b/main.tf': slow(join(dir, 'b.tfstate'), 'b', 20, 'v2') } });
    await d.sendComment(REPO, slowPr.number, 'tideline plan -d b');
    await d.waitFor('plan of b', () => d.comments(REPO, slowPr.number).find((c) => c.body.includes('Ran Plan')));
    await d.sendComment(REPO, slowPr.number, 'tideline apply -d b');
    await d.waitFor('apply of b to start', () => d.statuses(REPO, slowPr.headSha).find((s) => s.context === 'tideline/apply' && s.state === 'pending'));
    // With one worker busy, this plan waits in the queue.
    const queuedPr = await d.openPull(REPO, { branch: 'a2', files: { 'a/main.tf': slow(join(dir, 'a.tfstate'), 'a', 0, 'v3') } });
    expect((await d.sendComment(REPO, queuedPr.number, 'tideline plan -d a')).status).toBe(202);

    const started = Date.now();
    const stopped = exited(child);
    child.kill('SIGTERM');
    expect(await stopped).toBe(0);
    expect(Date.now() - started).toBeLessThan(15_000);
    // The stopped apply's check is not left pending: its newest status says what happened.
    expect(d.statuses(REPO, slowPr.headSha).find((s) => s.context === 'tideline/apply')).toMatchObject({ state: 'error', description: 'apply stopped by a server shutdown: plan again' });

    const dataDir = env['TIDELINE_DATA_DIR'] as string;
    const db = openDb({ dataDir });
    const states = db.prepare('SELECT type, state FROM jobs ORDER BY id').all() as { type: string; state: string }[];
    db.close();
    expect(states.filter((j) => j.state === 'interrupted')).toHaveLength(1);
    expect(states.filter((j) => j.state === 'queued').length).toBeGreaterThanOrEqual(2); // the waiting plan and the notice

    restarted = await startHarness({ double: d, dir, dataDir });
    const told = await d.waitFor('interrupted notice', () => d.comments(REPO, slowPr.number).find((c) => c.body.includes('tideline:interrupted')));
    expect(told.body).toContain('Apply Interrupted');
    // It ran after the restart: `a` is still locked by the first, applied-but-unmerged PR.
    const answer = await d.waitFor('the queued plan to run after restart', () => d.comments(REPO, queuedPr.number).find((c) => c.user === d.botLogin));
    expect(answer.body).toContain('#1');
    const locks = restarted.server.db.prepare('SELECT pull FROM locks ORDER BY pull').all() as { pull: number }[];
    expect(locks.map((l) => l.pull)).toContain(slowPr.number);
    const verified = verifyAudit(restarted.server.db);
    expect(verified.ok).toBe(true);
    const stops = restarted.server.db.prepare("SELECT COUNT(*) AS n FROM audit WHERE type = 'server.stop'").get() as { n: number };
    expect(stops.n).toBe(2);
  });
});
