// The foundation loop end to end: signed webhooks from the GitHub double, the real server,
// real terraform on the built-in provider, real git and SQLite.

import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHarness, terraformProject, type Harness } from '../support/harness.js';

const REPO = 'acme/infra';

describe('pull request loop', () => {
  let h: Harness;
  let stateFile: string;

  beforeAll(async () => {
    h = await startHarness();
    stateFile = join(h.stateDir, 'app.tfstate');
    await h.double.createRepo(REPO, {
      'README.md': '# infra\n',
      'app/main.tf': terraformProject(stateFile, 'one'),
    });
  });
  afterAll(async () => {
    await h?.close();
  });

  /** What the server posted on a pull request (the double also records the users' comments). */
  function bodies(pull: number): string[] {
    return h.double.comments(REPO, pull).filter((c) => c.user === h.double.botLogin).map((c) => c.body);
  }

  async function commentAndWait(pull: number, text: string, marker: string): Promise<string> {
    const before = h.double.comments(REPO, pull).length;
    const res = await h.double.sendComment(REPO, pull, text);
    expect(res.status).toBe(202);
    return h.double.waitFor(`a ${marker} comment on #${pull} after "${text}"`, () =>
      h.double.comments(REPO, pull).slice(before).find((c) => c.user === h.double.botLogin && c.body.includes(marker))?.body,
    );
  }

  it('autoplans a PR when it is opened', async () => {
    const pr = await h.double.openPull(REPO, { branch: 'change-one', files: { 'app/main.tf': terraformProject(stateFile, 'two') }, author: 'alice' });
    expect((await h.double.sendPullRequestEvent(REPO, pr.number, 'opened')).status).toBe(202);
    const plan = await h.double.waitFor('autoplan comment', () => bodies(pr.number).find((b) => b.includes('Ran Plan')));
    expect(plan).toContain('dir: `app` workspace: `default`');
    expect(plan).toContain('Plan: 1 to add, 0 to change, 0 to destroy.');
    expect(plan).toContain('tideline apply -d app');
    await h.double.waitFor('tideline/plan success', () => h.double.statuses(REPO, pr.headSha).find((s) => s.context === 'tideline/plan' && s.state === 'success'));
    expect(h.double.violations).toEqual([]);
    // Terraform's shared provider cache, made at start-up like Atlantis's.
    expect(existsSync(join(h.settings.dataDir, 'plugin-cache'))).toBe(true);
  });

  it('answers a `tideline plan` comment before terraform runs, then replies with the plan', async () => {
    const before = bodies(1).length;
    const res = await h.double.sendComment(REPO, 1, 'tideline plan -d app');
    expect(res.status).toBe(202);
    // The acknowledgement left while the job was still queued or running: no reply existed yet.
    const job = h.server.db.prepare("SELECT state FROM jobs WHERE payload LIKE ? ORDER BY id DESC LIMIT 1").get(`%${res.deliveryId}%`) as { state: string };
    expect(['queued', 'running']).toContain(job.state);
    expect(bodies(1).length).toBe(before);
    const plan = await h.double.waitFor('plan comment', () => bodies(1).slice(before).find((b) => b.includes('Ran Plan')));
    expect(plan).toContain('Plan: 1 to add, 0 to change, 0 to destroy.');
  });

  it('applies the saved plan on `tideline apply` and the state holds the resource', async () => {
    const applied = await commentAndWait(1, 'tideline apply -d app', 'Ran Apply');
    expect(applied).toContain('Apply complete! Resources: 1 added, 0 changed, 0 destroyed.');
    const state = JSON.parse(readFileSync(stateFile, 'utf8')) as { resources: { type: string; instances: { attributes: { input: { value: string } } }[] }[] };
    expect(state.resources.map((r) => r.type)).toEqual(['terraform_data']);
    expect(state.resources[0]?.instances[0]?.attributes.input.value).toBe('two');
    await h.double.waitFor('tideline/apply success', () => h.double.statuses(REPO, h.double.headSha(REPO, 1)).find((s) => s.context === 'tideline/apply' && s.state === 'success'));
  });

  it('refuses a second PR on the same dir, naming the PR that holds the lock', async () => {
    const pr = await h.double.openPull(REPO, { branch: 'change-two', files: { 'app/main.tf': terraformProject(stateFile, 'three') }, author: 'bob' });
    expect(pr.number).toBe(2);
    const conflict = await commentAndWait(2, 'tideline plan -d app', 'locked');
    expect(conflict).toMatch(/#1\b/);
    expect(conflict).toContain('tideline unlock');
    expect(bodies(2).some((b) => b.includes('Ran Plan'))).toBe(false);
  });

  it('releases the locks of a merged PR, after which the second PR can plan', async () => {
    await h.double.mergePull(REPO, 1);
    expect((await h.double.sendPullRequestEvent(REPO, 1, 'closed')).status).toBe(202);
    const released = await h.double.waitFor('released comment', () => bodies(1).find((b) => b.includes('tideline:released')));
    expect(released).toContain('`app`');
    expect(existsSync(join(h.settings.dataDir, 'repos', 'acme', 'infra', '1'))).toBe(false);
    const plan = await commentAndWait(2, 'tideline plan -d app', 'Ran Plan');
    expect(plan).toContain('Plan: 0 to add, 1 to change, 0 to destroy.');
  });

  it('refuses apply as stale after a new push', async () => {
    await h.double.pushToPull(REPO, 2, { 'app/main.tf': terraformProject(stateFile, 'four') });
    const stale = await commentAndWait(2, 'tideline apply -d app', 'stale');
    expect(stale).toContain('run plan again');
    const state = JSON.parse(readFileSync(stateFile, 'utf8')) as { resources: { instances: { attributes: { input: { value: string } } }[] }[] };
    expect(state.resources[0]?.instances[0]?.attributes.input.value).toBe('two');
    const refused = h.server.db.prepare("SELECT pull, fields FROM audit WHERE type = 'command.refused' ORDER BY seq DESC LIMIT 1").get() as { pull: number; fields: string };
    expect(refused.pull).toBe(2);
    expect(JSON.parse(refused.fields)).toMatchObject({ command: 'apply', reason: 'the plan is stale', headSha: h.double.headSha(REPO, 2) });
  });

  it('plans a push that adds a module: the warm tree skipped init, terraform asked for it, and got it', async () => {
    await h.double.pushToPull(REPO, 2, {
      'app/module.tf': 'module "extra" {\n  source = "./extra"\n}\n',
      'app/extra/main.tf': 'resource "terraform_data" "extra" {\n  input = "added"\n}\n',
    });
    const plan = await commentAndWait(2, 'tideline plan -d app', 'Ran Plan');
    expect(plan).toContain('module.extra.terraform_data.extra will be created');
    expect(plan).toContain('Plan: 1 to add, 1 to change, 0 to destroy.');
    expect(plan).not.toContain('Module not installed');
    // The job's live output shows the plan that found the module missing, then init.
    const job = h.server.db.prepare("SELECT id FROM jobs WHERE type = 'command' ORDER BY id DESC LIMIT 1").get() as { id: number };
    const page = await (await fetch(`${h.server.url}/jobs/${job.id}`)).text();
    expect(page).toContain('Module not installed');
    expect(page).toContain('tideline: terraform needs init again in this directory');
  });

  it('serves the lock in the web UI and counts the work in /metrics', async () => {
    const page = await (await fetch(`${h.server.url}/`)).text();
    expect(page).toContain('acme/infra');
    expect(page).toMatch(/#2\b|pull\/2/);
    const metrics = await (await fetch(`${h.server.url}/metrics`)).text();
    expect(metrics).toMatch(/^tideline_locks_held 1$/m);
    expect(metrics).toMatch(/^tideline_webhook_deliveries_total\{event="issue_comment",result="accepted"\} [1-9]/m);
    expect(metrics).toMatch(/^tideline_command_duration_seconds_count\{command="plan",[^}]*result="succeeded"\} [1-9]/m);
    expect(metrics).toMatch(/^tideline_git_request_duration_seconds_count\{request="fetch",result="succeeded"\} [1-9]/m);
    expect(metrics).toMatch(/^tideline_git_request_duration_seconds_count\{request="worktree_add",result="succeeded"\} [1-9]/m);
    expect(metrics).toContain('process_cpu_user_seconds_total');
  });

  it('refuses a bad signature with a 4xx and posts nothing', async () => {
    const before = bodies(2).length;
    const payload = h.double.commentPayload(REPO, 2, 'tideline unlock');
    const res = await h.double.deliver('issue_comment', payload, { secret: 'not-the-secret' });
    expect(res.status).toBe(401);
    const missing = await h.double.deliver('issue_comment', payload, { signature: null });
    expect(missing.status).toBe(400);
    await h.server.pool.idle();
    expect(bodies(2).length).toBe(before);
    const jobs = h.server.db.prepare("SELECT COUNT(*) AS n FROM jobs WHERE payload LIKE '%unlock%'").get() as { n: number };
    expect(jobs.n).toBe(0);
  });

  it('processes a repeated delivery once', async () => {
    const before = bodies(2).length;
    const payload = h.double.commentPayload(REPO, 2, 'tideline help');
    const first = await h.double.deliver('issue_comment', payload, { deliveryId: 'dup-0001' });
    const second = await h.double.deliver('issue_comment', payload, { deliveryId: 'dup-0001' });
    expect(first.status).toBe(202);
    expect(second.status).toBe(200);
    expect(second.body).toContain('duplicate');
    await h.server.pool.idle();
    expect(bodies(2).length).toBe(before + 1);
  });

  it('answers an unknown command with the help text', async () => {
    const reply = await commentAndWait(2, 'tideline destroy', 'tideline:invalid');
    expect(reply).toContain('destroy');
    expect(reply).toContain('tideline plan');
  });

  it('ignores comments by its own account, multi-line comments and other prefixes', async () => {
    const before = h.double.comments(REPO, 2).length;
    for (const [text, user] of [
      ['tideline plan', h.double.botLogin],
      ['tideline plan\nplease', 'alice'],
      ['atlantis plan', 'alice'],
    ] as const) {
      const res = await h.double.sendComment(REPO, 2, text, { user });
      expect(res.status).toBe(200);
    }
    await h.server.pool.idle();
    // Only the three comments sent were added: the server replied to none of them.
    const added = h.double.comments(REPO, 2).slice(before).map((c) => c.body);
    expect(added).toHaveLength(3);
    expect(added.filter((b) => b.includes('<!-- tideline:'))).toEqual([]);
  });

  it('refuses a -d that escapes the checkout', async () => {
    const reply = await commentAndWait(2, 'tideline plan -d ../../etc', 'tideline:invalid');
    expect(reply).toContain('../../etc');
  });

  it('releases the PR locks on `tideline unlock`', async () => {
    const reply = await commentAndWait(2, 'tideline unlock', 'tideline:released');
    expect(reply).toContain('`app`');
    const locks = h.server.db.prepare('SELECT COUNT(*) AS n FROM locks').get() as { n: number };
    expect(locks.n).toBe(0);
    expect(h.double.violations).toEqual([]);
  });
});
