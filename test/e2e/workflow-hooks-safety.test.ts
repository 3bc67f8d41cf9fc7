// Workflow hooks where a pull request could steer them: a fork's code is never checked out for a
// hook unless forks are allowed (Atlantis refuses every command on a fork before its hooks), and
// post hooks still run after a command that failed (Atlantis runs them whatever the command came
// to: a post hook is where credentials a pre hook wrote are cleaned up).

import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHarness, terraformProject, type Harness } from '../support/harness.js';

const REPO = 'acme/hooked-safety';

describe('workflow hooks and pull requests that could steer them', () => {
  let h: Harness;
  let dir: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tideline-hooks-safety-'));
    // A typical hook runs something of the checkout's (a script, terragrunt's run_cmd): here it
    // reads a file of the pull request's head, so a run on a fork's head is visible.
    const config = `repos:
  - id: /.*/
    pre_workflow_hooks:
      - run: |
          cat marker.txt >> ${join(dir, 'pre')}
      - run: printf '%s %s\\n' $HEAD_BRANCH_NAME $COMMENT_ARGS > ${join(dir, 'words')}
        commands: plan
    post_workflow_hooks:
      - run: |
          echo "$COMMAND_NAME $PULL_NUM" >> ${join(dir, 'post')}
`;
    writeFileSync(join(dir, 'repos.yaml'), config);
    h = await startHarness({ env: { TIDELINE_CONFIG: join(dir, 'repos.yaml'), TIDELINE_DRIFT_SCHEDULE: 'off' } });
    await h.double.createRepo(REPO, { 'app/main.tf': terraformProject(join(h.stateDir, 'app.tfstate'), 'one'), 'marker.txt': 'base\n' });
  });
  const read = (name: string): string => (existsSync(join(dir, name)) ? readFileSync(join(dir, name), 'utf8') : '');

  afterAll(async () => {
    await h?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('runs no hook on the code of a fork, for unlock either, while forks are not allowed', async () => {
    const pr = await h.double.openPull(REPO, { branch: 'patch-1', fork: 'stranger/hooked-safety', author: 'stranger', files: { 'marker.txt': 'fork code ran\n' } });
    await h.double.sendComment(REPO, pr.number, 'tideline unlock', { user: 'stranger' });
    await h.server.pool.idle();
    expect(read('pre')).not.toContain('fork code ran');
    expect(read('post')).not.toContain(`unlock ${pr.number}`);
    expect(h.double.statuses(REPO, pr.headSha).filter((s) => s.context.includes('workflow_hook'))).toEqual([]);
    expect(h.double.violations).toEqual([]);
  }, 60_000);

  it('runs the post hooks after a command that failed, as Atlantis does', async () => {
    const pr = await h.double.openPull(REPO, { branch: 'bump', author: 'alice', files: { 'app/main.tf': terraformProject(join(h.stateDir, 'app.tfstate'), 'two') } });
    // The plan's reply is refused: the command fails after its work, past its own reporting.
    h.double.failNext('issues/create-comment', { status: 502, message: 'Server Error' });
    await h.double.sendComment(REPO, pr.number, 'tideline plan -d app', { user: 'alice' });
    await h.server.pool.idle();
    const job = h.server.db.prepare("SELECT state FROM jobs WHERE type = 'command' ORDER BY id DESC LIMIT 1").get() as { state: string };
    expect(job.state).toBe('failed');
    expect(read('pre')).toContain('base');
    expect(read('post')).toContain(`plan ${pr.number}\n`);
    expect(h.double.statuses(REPO, pr.headSha).find((s) => s.context === 'tideline/post_workflow_hook: Post workflow hook #0')).toMatchObject({ state: 'success' });
    expect(h.double.violations).toEqual([]);
  }, 60_000);

  it('never splices what the pull request names into a hook command: it is only in the environment', async () => {
    const pr = await h.double.openPull(REPO, { branch: 'inj-$(id)', author: 'alice', files: { 'app/main.tf': terraformProject(join(h.stateDir, 'app.tfstate'), 'three') } });
    await h.double.sendComment(REPO, pr.number, 'tideline plan -d app -- -var=x=$(id)', { user: 'alice' });
    await h.server.pool.idle();
    expect(read('words')).toBe('inj-$(id) \\-\\v\\a\\r\\=\\x\\=\\$\\(\\i\\d\\)\n');
  }, 60_000);
});
