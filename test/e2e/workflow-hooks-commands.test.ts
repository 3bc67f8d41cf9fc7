// Workflow hooks around every command they run for, end to end with real git and terraform:
// pre and post hooks wrap apply and unlock as they wrap plan (the pre hook of an apply runs
// before terraform writes the state), none of them sees the GitHub token, what a hook prints
// reaches the job's page with registered secrets masked, and every hook run is in the audit log.

import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyAudit } from '../../server/audit/index.js';
import { startHarness, terraformProject, WEBHOOK_SECRET, type Harness } from '../support/harness.js';

const REPO = 'acme/hooked-commands';

describe('workflow hooks around apply and unlock', () => {
  let h: Harness;
  let dir: string;
  let state: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tideline-hooks-commands-'));
    // The state file outlives the checkout; the pre hook says whether the apply had written it yet.
    const config = `repos:
  - id: /.*/
    pre_workflow_hooks:
      - run: |
          env > ${join(dir, 'pre-env')}-$COMMAND_NAME
          if [ -e ${join(dir, 'app.tfstate')} ]; then s=state; else s=no-state; fi
          echo "pre $COMMAND_NAME $s" >> ${join(dir, 'order')}
          echo "pre hook of $COMMAND_NAME says ${WEBHOOK_SECRET}"
        description: Recorder
    post_workflow_hooks:
      - run: |
          env > ${join(dir, 'post-env')}-$COMMAND_NAME
          if [ -e ${join(dir, 'app.tfstate')} ]; then s=state; else s=no-state; fi
          echo "post $COMMAND_NAME $s" >> ${join(dir, 'order')}
`;
    writeFileSync(join(dir, 'repos.yaml'), config);
    state = join(dir, 'app.tfstate');
    h = await startHarness({ env: { TIDELINE_CONFIG: join(dir, 'repos.yaml'), TIDELINE_DRIFT_SCHEDULE: 'off' } });
    await h.double.createRepo(REPO, { 'app/main.tf': terraformProject(state, 'one') });
  });
  afterAll(async () => {
    await h?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  function lastJobId(): number {
    return (h.server.db.prepare("SELECT id FROM jobs WHERE type = 'command' ORDER BY id DESC LIMIT 1").get() as { id: number }).id;
  }

  function botReplies(pull: number): string[] {
    return h.double.comments(REPO, pull).filter((c) => c.user === h.double.botLogin).map((c) => c.body);
  }

  it('runs the pre hooks before an apply and an unlock, and the post hooks after them, without the token', async () => {
    const pr = await h.double.openPull(REPO, { branch: 'bump', author: 'alice', files: { 'app/main.tf': terraformProject(state, 'two') } });
    await h.double.sendComment(REPO, pr.number, 'tideline plan -d app', { user: 'alice' });
    await h.server.pool.idle();
    await h.double.sendComment(REPO, pr.number, 'tideline apply -d app', { user: 'alice' });
    await h.server.pool.idle();
    expect(botReplies(pr.number).at(-1)).toContain('Ran Apply');
    expect(existsSync(state)).toBe(true);
    await h.double.sendComment(REPO, pr.number, 'tideline unlock', { user: 'alice' });
    await h.server.pool.idle();

    expect(readFileSync(join(dir, 'order'), 'utf8').trim().split('\n')).toEqual([
      'pre plan no-state', 'post plan no-state',
      'pre apply no-state', 'post apply state',
      'pre unlock state', 'post unlock state',
    ]);
    for (const file of ['pre-env-apply', 'post-env-apply', 'pre-env-unlock', 'post-env-unlock']) {
      const env = readFileSync(join(dir, file), 'utf8');
      expect(env).toContain(`COMMAND_NAME=${file.split('-').at(-1) ?? ''}\n`);
      expect(env).toContain(`PULL_NUM=${pr.number}\n`);
      expect(env).not.toContain(h.double.token);
      expect(env).not.toMatch(/^TIDELINE_/m);
    }
    const statuses = h.double.statuses(REPO, pr.headSha);
    expect(statuses.filter((s) => s.context === 'tideline/pre_workflow_hook: Recorder').map((s) => s.state).sort()).toEqual(['pending', 'pending', 'pending', 'success', 'success', 'success']);
  }, 90_000);

  it('writes an audit record of each hook run, its command text masked', () => {
    const rows = h.server.db.prepare("SELECT actor, repo, pull, project, fields FROM audit WHERE type = 'workflow_hook' ORDER BY seq").all() as { actor: string; repo: string; pull: number; project: string | null; fields: string }[];
    const records = rows.map((row) => ({ ...row, fields: JSON.parse(row.fields) as Record<string, unknown> }));
    expect(records.map((r) => `${String(r.fields['hook'])} ${String(r.fields['command'])}`)).toEqual(['pre plan', 'post plan', 'pre apply', 'post apply', 'pre unlock', 'post unlock']);
    const pull = records[0]?.pull ?? 0;
    const headSha = h.double.headSha(REPO, pull);
    for (const record of records) {
      expect(record).toMatchObject({ actor: 'alice', repo: REPO, pull, project: null });
      expect(record.fields).toMatchObject({ headSha, result: 'succeeded', exitCode: 0, shell: 'sh -c' });
      expect(record.fields['durationMs']).toEqual(expect.any(Number));
    }
    expect(records[2]?.fields).toMatchObject({ hook: 'pre', description: 'Recorder', command: 'apply' });
    expect(records[3]?.fields).toMatchObject({ hook: 'post', description: 'Post workflow hook #0', command: 'apply' });
    const run = String(records[2]?.fields['run']);
    expect(run).toContain('pre hook of $COMMAND_NAME says ***');
    expect(run).not.toContain(WEBHOOK_SECRET);
    expect(verifyAudit(h.server.db).ok).toBe(true);
  });

  it("streams a hook's output to the job's page, with a registered secret masked", async () => {
    const pr = await h.double.openPull(REPO, { branch: 'again', author: 'alice', files: { 'app/main.tf': terraformProject(state, 'three') } });
    await h.double.sendComment(REPO, pr.number, 'tideline plan -d app', { user: 'alice' });
    await h.server.pool.idle();
    const id = lastJobId();

    const lines = h.server.live.snapshot(id).lines;
    expect(lines).toContain('[pre_workflow_hooks] pre hook of plan says ***');
    expect(lines.join('\n')).not.toContain(WEBHOOK_SECRET);
    const page = await (await fetch(`${h.server.url}/jobs/${id}`)).text();
    expect(page).toContain('[pre_workflow_hooks] pre hook of plan says ***');
    expect(page).not.toContain(WEBHOOK_SECRET);
    // Nor does it reach the pull request: hooks never add to the comment, as in Atlantis.
    expect(botReplies(pr.number).join('\n')).not.toContain('pre hook of plan');
  }, 60_000);
});
