// TIDELINE_FAIL_ON_PRE_WORKFLOW_HOOK_ERROR, both ways, end to end with real git and terraform.
// On (Atlantis's --fail-on-pre-workflow-hook-error): a failing pre hook stops plan, apply and
// unlock, with the post hooks; the plan or apply status fails, and the PR is told which hook
// failed, how, and the masked end of its output. Off (the default): the command runs anyway.

import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHarness, terraformProject, WEBHOOK_SECRET, type Harness } from '../support/harness.js';

const REPO = 'acme/hook-gate';

interface Rig {
  h: Harness;
  dir: string;
  state: string;
  /** Makes the pre hook fail for `command` from now on. */
  failFor: (command: string) => void;
  replies: (pull: number) => string[];
  posts: () => string[];
}

async function startRig(fail: boolean): Promise<Rig> {
  const dir = mkdtempSync(join(tmpdir(), 'tideline-hook-gate-'));
  // The pre hook fails (printing a registered secret, masked on the way out) for each command
  // whose marker file exists, so one PR can plan and then have its apply or unlock stopped.
  const config = `repos:
  - id: /.*/
    pre_workflow_hooks:
      - run: |
          if [ -e ${join(dir, 'fail')}-$COMMAND_NAME ]; then
            i=1; while [ $i -le 25 ]; do echo "line $i"; i=$((i+1)); done
            echo "cannot reach the vault with ${WEBHOOK_SECRET}"; exit 3
          fi
        description: Fetch secrets
      - run: echo later
        description: Later hook
    post_workflow_hooks:
      - run: echo "post $COMMAND_NAME" >> ${join(dir, 'posts')}
`;
  writeFileSync(join(dir, 'repos.yaml'), config);
  const state = join(dir, 'app.tfstate');
  const h = await startHarness({
    env: { TIDELINE_CONFIG: join(dir, 'repos.yaml'), TIDELINE_DRIFT_SCHEDULE: 'off', TIDELINE_URL: 'https://tideline.example.com', ...(fail ? { TIDELINE_FAIL_ON_PRE_WORKFLOW_HOOK_ERROR: 'true' } : {}) },
  });
  await h.double.createRepo(REPO, { 'app/main.tf': terraformProject(state, 'one') });
  return {
    h,
    dir,
    state,
    failFor: (command) => writeFileSync(join(dir, `fail-${command}`), ''),
    replies: (pull) => h.double.comments(REPO, pull).filter((c) => c.user === h.double.botLogin).map((c) => c.body),
    posts: () => (existsSync(join(dir, 'posts')) ? readFileSync(join(dir, 'posts'), 'utf8').trim().split('\n') : []),
  };
}

async function comment(rig: Rig, pull: number, body: string): Promise<void> {
  await rig.h.double.sendComment(REPO, pull, body, { user: 'alice' });
  await rig.h.server.pool.idle();
}

function locks(rig: Rig): number {
  return (rig.h.server.db.prepare('SELECT COUNT(*) AS n FROM locks').get() as { n: number }).n;
}

describe('TIDELINE_FAIL_ON_PRE_WORKFLOW_HOOK_ERROR=true', () => {
  let rig: Rig;
  beforeAll(async () => {
    rig = await startRig(true);
  });
  afterAll(async () => {
    await rig?.h.close();
    if (rig !== undefined) rmSync(rig.dir, { recursive: true, force: true });
  });

  it('stops a plan whose pre hook fails: no plan, no lock, no post hook, a failed status and a reply saying why', async () => {
    rig.failFor('plan');
    const pr = await rig.h.double.openPull(REPO, { branch: 'gated', author: 'alice', files: { 'app/main.tf': terraformProject(rig.state, 'two') } });
    await comment(rig, pr.number, 'tideline plan -d app');

    const replies = rig.replies(pr.number);
    expect(replies).toHaveLength(1);
    const reply = replies[0] ?? '';
    expect(reply).not.toContain('Ran Plan');
    expect(reply).toContain('**Plan Error**: the pre workflow hook `Fetch secrets` failed with exit code 3, so the plan did not run');
    expect(reply).toContain('The last 20 of its 26 lines of output:');
    expect(reply).toContain('cannot reach the vault with ***');
    expect(reply).not.toContain('line 6\n');
    expect(reply).toContain('line 7\n');
    expect(reply).not.toContain(WEBHOOK_SECRET);
    expect(reply).toContain('To fix it, make the hook succeed');
    expect(reply).toMatch(/\[job's page\]\(https:\/\/tideline\.example\.com\/jobs\/\d+\)/);
    expect(locks(rig)).toBe(0);
    expect(rig.posts()).toEqual([]);

    const statuses = rig.h.double.statuses(REPO, pr.headSha);
    expect(statuses.find((s) => s.context === 'tideline/plan')).toMatchObject({ state: 'failure', description: 'not run: pre workflow hook "Fetch secrets" failed' });
    expect(statuses.find((s) => s.context === 'tideline/pre_workflow_hook: Fetch secrets')).toMatchObject({ state: 'failure' });
    expect(statuses.find((s) => s.context === 'tideline/pre_workflow_hook: Later hook')).toMatchObject({ state: 'error', description: 'not run: an earlier hook failed' });

    // The failed hook is in the audit log; the one it kept from running is not.
    const audit = rig.h.server.db.prepare("SELECT fields FROM audit WHERE type = 'workflow_hook'").all() as { fields: string }[];
    expect(audit.map((row) => JSON.parse(row.fields) as unknown)).toEqual([
      expect.objectContaining({ hook: 'pre', description: 'Fetch secrets', command: 'plan', headSha: pr.headSha, result: 'failed', exitCode: 3, failure: 'failed with exit code 3' }),
    ]);
  }, 60_000);

  it('stops an apply and an unlock whose pre hook fails, and leaves the plan, the state and the lock as they were', async () => {
    const pr = await rig.h.double.openPull(REPO, { branch: 'gated-apply', author: 'alice', files: { 'app/main.tf': terraformProject(rig.state, 'three') } });
    rmSync(join(rig.dir, 'fail-plan'));
    await comment(rig, pr.number, 'tideline plan -d app');
    expect(rig.replies(pr.number).at(-1)).toContain('Ran Plan');
    expect(locks(rig)).toBe(1);

    rig.failFor('apply');
    await comment(rig, pr.number, 'tideline apply -d app');
    expect(rig.replies(pr.number).at(-1)).toContain('**Apply Error**: the pre workflow hook `Fetch secrets` failed with exit code 3, so the apply did not run');
    expect(existsSync(rig.state)).toBe(false);
    expect(rig.h.double.statuses(REPO, pr.headSha).find((s) => s.context === 'tideline/apply')).toMatchObject({ state: 'failure', description: 'not run: pre workflow hook "Fetch secrets" failed' });

    rig.failFor('unlock');
    await comment(rig, pr.number, 'tideline unlock');
    expect(rig.replies(pr.number).at(-1)).toContain('**Unlock Error**: the pre workflow hook `Fetch secrets` failed with exit code 3, so the unlock did not run');
    expect(locks(rig)).toBe(1);
    // The plan's post hook ran; the stopped apply's and unlock's did not.
    expect(rig.posts()).toEqual(['post plan']);
  }, 90_000);
});

describe('TIDELINE_FAIL_ON_PRE_WORKFLOW_HOOK_ERROR unset', () => {
  let rig: Rig;
  beforeAll(async () => {
    rig = await startRig(false);
  });
  afterAll(async () => {
    await rig?.h.close();
    if (rig !== undefined) rmSync(rig.dir, { recursive: true, force: true });
  });

  it('runs the plan and the post hooks though a pre hook failed, as Atlantis does by default', async () => {
    rig.failFor('plan');
    const pr = await rig.h.double.openPull(REPO, { branch: 'ungated', author: 'alice', files: { 'app/main.tf': terraformProject(rig.state, 'two') } });
    await comment(rig, pr.number, 'tideline plan -d app');

    const replies = rig.replies(pr.number);
    expect(replies).toHaveLength(1);
    expect(replies[0]).toContain('Ran Plan');
    expect(replies[0]).not.toContain('pre workflow hook');
    expect(rig.posts()).toEqual(['post plan']);
    const statuses = rig.h.double.statuses(REPO, pr.headSha);
    expect(statuses.find((s) => s.context === 'tideline/plan')).toMatchObject({ state: 'success' });
    expect(statuses.find((s) => s.context === 'tideline/pre_workflow_hook: Fetch secrets')).toMatchObject({ state: 'failure' });
  }, 60_000);
});
