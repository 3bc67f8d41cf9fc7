// A crash loses nothing: the server process is killed with SIGKILL in the middle of an apply;
// at the next start the job is marked interrupted, its PR is told, the pending status it left
// is set to error, and its lock is still held.
// A tree that a killed `git worktree add` left half-made is removed at that start, so the
// repository's cache can be fetched into again.

import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startGitHubDouble, type GitHubDouble } from '../../sandbox/github/index.js';
import { verifyAudit } from '../../server/audit/index.js';
import { openDb } from '../../server/store/db.js';
import { spawnServer, untilHealthy } from '../support/server-process.js';
import { startHarness, testEnv, WEBHOOK_SECRET, type Harness } from '../support/harness.js';

const REPO = 'acme/slow';

function slowModule(stateFile: string): string {
  return `terraform {
  backend "local" { path = ${JSON.stringify(stateFile)} }
}
resource "terraform_data" "slow" {
  input = "v1"
  provisioner "local-exec" { command = "sleep 8" }
}
`;
}

describe('crash and restart', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tideline-crash-'));
  let double: GitHubDouble | undefined;
  let child: ChildProcess | undefined;
  let second: Harness | undefined;

  afterAll(async () => {
    if (child?.exitCode === null) child.kill('SIGKILL');
    await second?.close();
    await double?.close();
    // Give the orphaned terraform's sleep time to end before removing its directory.
    await new Promise((r) => setTimeout(r, 200));
    rmSync(dir, { recursive: true, force: true });
  });

  it('marks the running apply interrupted, tells the PR, and keeps the lock', async () => {
    double = await startGitHubDouble({ webhookSecret: WEBHOOK_SECRET, rootDir: join(dir, 'github') });
    await double.createRepo(REPO, { 'main.tf': slowModule(join(dir, 'slow.tfstate')) });
    const pr = await double.openPull(REPO, { branch: 'slow', files: { 'main.tf': slowModule(join(dir, 'slow.tfstate')).replace('v1', 'v2') } });

    const port = 20000 + Math.floor(Math.random() * 20000);
    const env = testEnv(dir, double, { TIDELINE_PORT: String(port), TIDELINE_LOG_LEVEL: 'warn' });
    child = spawnServer(env, ['ignore', 'ignore', 'pipe']);
    let stderr = '';
    child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
    double.setWebhookTarget(`http://127.0.0.1:${port}/events`);
    await untilHealthy(`http://127.0.0.1:${port}/healthz`, 30_000);
    await double.sendComment(REPO, pr.number, 'tideline plan');
    const d = double;
    await d.waitFor('plan comment', () => d.comments(REPO, pr.number).find((c) => c.body.includes('Ran Plan')));
    await d.sendComment(REPO, pr.number, 'tideline apply');
    await d.waitFor('apply to start', () => d.statuses(REPO, pr.headSha).find((s) => s.context === 'tideline/apply' && s.state === 'pending'));

    child.kill('SIGKILL');
    await new Promise((r) => child?.once('exit', r));
    expect(stderr).toBe('');
    const crashed = openDb({ dataDir: env['TIDELINE_DATA_DIR'] as string });
    expect((crashed.prepare("SELECT COUNT(*) AS n FROM jobs WHERE state = 'running'").get() as { n: number }).n).toBe(1);
    // The apply recorded its pending status before sending it; the kill left it open.
    expect(crashed.prepare('SELECT repo, sha, context FROM open_statuses').all()).toEqual([{ repo: REPO, sha: pr.headSha, context: 'tideline/apply' }]);
    crashed.close();
    expect(d.statuses(REPO, pr.headSha).find((s) => s.context === 'tideline/apply')?.state).toBe('pending');
    // What a SIGKILL during `git worktree add` leaves: the tree's HEAD is git's all-zero placeholder.
    const tree = join(env['TIDELINE_DATA_DIR'] as string, 'repos', 'acme', 'slow', String(pr.number), 'default');
    const treeGitDir = readFileSync(join(tree, '.git'), 'utf8').replace(/^gitdir: /, '').trim();
    writeFileSync(join(treeGitDir, 'HEAD'), `${'0'.repeat(40)}\n`);

    second = await startHarness({ double: d, dir, dataDir: env['TIDELINE_DATA_DIR'] as string, env: { TIDELINE_URL: 'https://tideline.example.com' } });
    const killed = second.server.db.prepare("SELECT id FROM jobs WHERE state = 'interrupted'").get() as { id: number };
    const killedPage = `https://tideline.example.com/jobs/${killed.id}`;
    const told = await d.waitFor('interrupted notice', () => d.comments(REPO, pr.number).find((c) => c.body.includes('tideline:interrupted')));
    expect(told.body).toContain('Apply Interrupted');
    expect(told.body).toContain('tideline plan');
    // The killed job's page keeps what it printed before the kill.
    expect(told.body).toContain(`[its job page](${killedPage})`);
    // The check the killed apply left pending is settled, not pending for good.
    expect(d.statuses(REPO, pr.headSha).find((s) => s.context === 'tideline/apply')).toMatchObject({
      state: 'error',
      description: 'apply interrupted: the Tideline server stopped while it ran. Plan again.',
      targetUrl: killedPage,
    });
    const db = second.server.db;
    expect(db.prepare('SELECT COUNT(*) AS n FROM open_statuses').get()).toEqual({ n: 0 });
    expect((db.prepare("SELECT COUNT(*) AS n FROM jobs WHERE state = 'interrupted'").get() as { n: number }).n).toBe(1);
    expect((db.prepare('SELECT pull FROM locks').all() as { pull: number }[]).map((l) => l.pull)).toEqual([pr.number]);
    // The audit log has no gap: the chain verifies across the crash, and the apply's start is in it.
    expect(verifyAudit(db)).toMatchObject({ ok: true });
    const types = (db.prepare('SELECT type FROM audit ORDER BY seq').all() as { type: string }[]).map((r) => r.type);
    expect(types.filter((t) => t === 'server.start')).toHaveLength(2);
    expect(types).toContain('command');

    expect(second.logs()).toContain('left half-made');
    expect(existsSync(tree)).toBe(false);
    await d.sendComment(REPO, pr.number, 'tideline plan');
    await d.waitFor('a plan after the restart', () => d.comments(REPO, pr.number).filter((c) => c.body.includes('Ran Plan')).length >= 2 || undefined, 60_000);
    expect(d.violations).toEqual([]);
  });
});
