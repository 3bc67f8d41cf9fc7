// A server process killed outright (SIGKILL) after terraform apply ended but while GitHub was
// still taking the reply: the infrastructure was changed, so the next start tells the pull
// request the apply ran and settles its status as the apply came out, not "interrupted: plan
// again". A second kill, while that notice's status is being set, loses neither the notice nor
// the status. The double holds the request, so each kill comes at exactly that point.

import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startGitHubDouble, type GitHubDouble, type HeldRequest } from '../../sandbox/github/index.js';
import { STOPPED_AFTER_REPLY, STOPPED_AFTER_WORK } from '../../server/jobs/queue.js';
import { openDb } from '../../server/store/db.js';
import { exited, spawnServer, untilHealthy } from '../support/server-process.js';
import { startHarness, terraformProject, testEnv, WEBHOOK_SECRET, type Harness } from '../support/harness.js';

const REPO = 'acme/killed-late';
const URL_BASE = 'https://tideline.example.com';

const bodyIncludes = (text: string) => (body: unknown): boolean =>
  typeof body === 'object' && body !== null && String((body as { body?: unknown }).body).includes(text);

describe('a server killed after the apply ran, before its reply was posted', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tideline-killed-late-'));
  const stateFile = join(dir, 'app.tfstate');
  const children: ChildProcess[] = [];
  let double: GitHubDouble | undefined;
  let last: Harness | undefined;

  afterAll(async () => {
    for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await last?.close();
    await double?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** Starts the real server as a child process, and kills it once `held` has arrived. */
  async function runUntilHeld(d: GitHubDouble, held: HeldRequest, act: () => Promise<unknown>): Promise<void> {
    const port = 20000 + Math.floor(Math.random() * 20000);
    const env = testEnv(dir, d, { TIDELINE_PORT: String(port), TIDELINE_LOG_LEVEL: 'warn', TIDELINE_URL: URL_BASE });
    const child = spawnServer(env);
    children.push(child);
    d.setWebhookTarget(`http://127.0.0.1:${port}/events`);
    await untilHealthy(`http://127.0.0.1:${port}/healthz`);
    await act();
    await held.arrived;
    child.kill('SIGKILL');
    await exited(child);
    // What it was sending never reaches GitHub.
    held.drop();
  }

  it('tells the PR the apply ran and settles tideline/apply as success, across a second kill', async () => {
    const d = (double = await startGitHubDouble({ webhookSecret: WEBHOOK_SECRET, rootDir: join(dir, 'github') }));
    await d.createRepo(REPO, { 'app/main.tf': terraformProject(stateFile, 'one') });
    const pr = await d.openPull(REPO, { branch: 'change', files: { 'app/main.tf': terraformProject(stateFile, 'two') } });
    const comments = (text: string): string[] => d.comments(REPO, pr.number).map((c) => c.body).filter((b) => b.includes(text));
    const applyStatus = () => d.statuses(REPO, pr.headSha).find((s) => s.context === 'tideline/apply');

    // 1. The apply runs; its reply is held at GitHub; the server is killed.
    const reply = d.holdNext('issues/create-comment', bodyIncludes('Apply complete!'));
    await runUntilHeld(d, reply, async () => {
      await d.sendComment(REPO, pr.number, 'tideline plan');
      await d.waitFor('the plan', () => comments('Ran Plan').length > 0 || undefined, 60_000);
      await d.sendComment(REPO, pr.number, 'tideline apply');
    });
    // The infrastructure was changed, whatever the PR is told.
    const state = JSON.parse(readFileSync(stateFile, 'utf8')) as { outputs: { v: { value: string } }; resources: { type: string }[] };
    expect(state.outputs.v.value).toBe('two');
    expect(state.resources.map((r) => r.type)).toEqual(['terraform_data']);
    expect(comments('Apply complete!')).toEqual([]);
    expect(applyStatus()?.state).toBe('pending');
    const killed = openDb({ dataDir: join(dir, 'data') });
    const apply = killed.prepare("SELECT id, state, work_ended_at AS endedAt FROM jobs WHERE type = 'command' ORDER BY id DESC LIMIT 1").get() as { id: number; state: string; endedAt: string | null };
    killed.close();
    expect(apply).toMatchObject({ state: 'running', endedAt: expect.any(String) });
    const page = `${URL_BASE}/jobs/${apply.id}`;

    // 2. The next start queues the notice with the status it settles; killed as that status goes
    // out, before the notice: both are left to the queued reply job.
    const settling = d.holdNext('repos/create-commit-status', (body) => (body as { context?: unknown }).context === 'tideline/apply');
    await runUntilHeld(d, settling, async () => {});
    expect(applyStatus()?.state).toBe('pending');
    expect(comments('tideline:interrupted')).toEqual([]);

    // 3. The start after that settles the status as the apply came out and posts the notice, once.
    const settled = {
      state: 'success',
      description: '1/1 projects applied successfully. The server stopped before it finished reporting.',
      targetUrl: page,
    };
    last = await startHarness({ double: d, dir, dataDir: join(dir, 'data'), env: { TIDELINE_URL: URL_BASE } });
    await last.server.pool.idle();
    const told = comments('tideline:interrupted');
    expect(told).toHaveLength(1);
    const body = told[0] ?? '';
    expect(body).toContain('**Apply Ran**: the apply ran (1/1 projects applied successfully), but the server stopped before it finished posting the result');
    expect(body).toContain('Applied:\n* dir: `app` workspace: `default`');
    expect(body).toContain(`[its job page](${page})`);
    expect(body).not.toContain('Interrupted');
    expect(body).not.toContain('tideline plan');
    expect(applyStatus()).toMatchObject(settled);
    const db = last.server.db;
    expect(db.prepare('SELECT state, error FROM jobs WHERE id = ?').get(apply.id)).toEqual({ state: 'failed', error: STOPPED_AFTER_WORK });
    expect(db.prepare('SELECT COUNT(*) AS n FROM open_statuses').get()).toEqual({ n: 0 });
    // What was applied is applied: the plan is not offered again.
    expect(db.prepare('SELECT applied_at IS NOT NULL AS applied FROM plans').all()).toEqual([{ applied: 1 }]);
    expect(d.violations).toEqual([]);
  });

  it('tells the PR a plan killed while posting its output ran, and asks for a plan to see it', async () => {
    const d = double as GitHubDouble;
    await last?.close();
    const webState = join(dir, 'web.tfstate');
    const pr = await d.openPull(REPO, { branch: 'web', files: { 'web/main.tf': terraformProject(webState, 'one') } });
    const comments = (text: string): string[] => d.comments(REPO, pr.number).map((c) => c.body).filter((b) => b.includes(text));
    const reply = d.holdNext('issues/create-comment', bodyIncludes('Ran Plan'));
    await runUntilHeld(d, reply, () => d.sendComment(REPO, pr.number, 'tideline plan'));

    last = await startHarness({ double: d, dir, dataDir: join(dir, 'data') });
    await last.server.pool.idle();
    const told = comments('tideline:interrupted');
    expect(told).toHaveLength(1);
    expect(told[0]).toContain('**Plan Not Posted**: the plan ran (1/1 projects planned successfully), but the server stopped before it finished posting its output.');
    expect(told[0]).not.toContain('Interrupted');
    expect(d.statuses(REPO, pr.headSha).find((s) => s.context === 'tideline/plan')).toMatchObject({
      state: 'error',
      description: 'plan ran, but the server stopped before it finished posting it. Plan again to see it.',
    });
    // Never shown, so not appliable: the apply asks for a plan first.
    await d.sendComment(REPO, pr.number, 'tideline apply');
    await last.server.pool.idle();
    expect(comments('never posted to this pull request')).toHaveLength(1);
    expect(d.violations).toEqual([]);
  });

  it('posts nothing more for a plan or an apply killed after its reply was posted, and sets the status it left pending', async () => {
    const d = double as GitHubDouble;
    await last?.close();
    const dbState = join(dir, 'db.tfstate');
    const pr = await d.openPull(REPO, { branch: 'db', files: { 'db/main.tf': terraformProject(dbState, 'one') } });
    const comments = (): string[] => d.comments(REPO, pr.number).map((c) => c.body);
    const status = (context: string) => d.statuses(REPO, pr.headSha).find((s) => s.context === context);
    const finalStatus = (context: string) => (body: unknown): boolean => {
      const b = body as { context?: unknown; state?: unknown };
      return b.context === context && b.state !== 'pending';
    };

    // The plan's reply is posted; its final status is held, and the server killed.
    const planStatus = d.holdNext('repos/create-commit-status', finalStatus('tideline/plan'));
    await runUntilHeld(d, planStatus, () => d.sendComment(REPO, pr.number, 'tideline plan'));
    expect(comments().filter((b) => b.includes('Ran Plan'))).toHaveLength(1);
    expect(status('tideline/plan')?.state).toBe('pending');
    last = await startHarness({ double: d, dir, dataDir: join(dir, 'data') });
    await last.server.pool.idle();
    // The PR saw the plan: no "Plan Not Posted", and it can be applied.
    expect(comments().filter((b) => b.includes('tideline:interrupted'))).toEqual([]);
    expect(status('tideline/plan')).toMatchObject({ state: 'success', description: '1/1 projects planned successfully.' });
    await last.close();

    // The same for the apply: its reply posted, its final status held, the server killed.
    const applyStatus = d.holdNext('repos/create-commit-status', finalStatus('tideline/apply'));
    await runUntilHeld(d, applyStatus, () => d.sendComment(REPO, pr.number, 'tideline apply'));
    expect(comments().filter((b) => b.includes('Apply complete!'))).toHaveLength(1);
    last = await startHarness({ double: d, dir, dataDir: join(dir, 'data') });
    await last.server.pool.idle();
    expect(comments().filter((b) => b.includes('tideline:interrupted'))).toEqual([]);
    expect(status('tideline/apply')).toMatchObject({ state: 'success', description: '1/1 projects applied successfully.' });
    const state = JSON.parse(readFileSync(dbState, 'utf8')) as { outputs: { v: { value: string } } };
    expect(state.outputs.v.value).toBe('one');
    expect(last.server.db.prepare('SELECT COUNT(*) AS n FROM open_statuses').get()).toEqual({ n: 0 });
    expect(last.server.db.prepare("SELECT state, error FROM jobs WHERE type = 'command' ORDER BY id DESC LIMIT 1").get()).toEqual({ state: 'failed', error: STOPPED_AFTER_REPLY });
    expect(d.violations).toEqual([]);
  });
});
