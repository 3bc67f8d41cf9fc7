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
    post_workflow_hooks:
      - run: |
          echo "$COMMAND_NAME" >> ${join(dir, 'post')}
`;
    writeFileSync(join(dir, 'repos.yaml'), config);
    h = await startHarness({ env: { TIDELINE_CONFIG: join(dir, 'repos.yaml'), TIDELINE_DRIFT_SCHEDULE: 'off' } });
    await h.double.createRepo(REPO, { 'app/main.tf': terraformProject(join(h.stateDir, 'app.tfstate'), 'one'), 'marker.txt': 'base\n' });
  });
  afterAll(async () => {
    await h?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('runs no hook on the code of a fork, for unlock either, while forks are not allowed', async () => {
    const pr = await h.double.openPull(REPO, { branch: 'patch-1', fork: 'stranger/hooked-safety', author: 'stranger', files: { 'marker.txt': 'fork code ran\n' } });
    await h.double.sendComment(REPO, pr.number, 'tideline unlock', { user: 'stranger' });
    await h.server.pool.idle();
    expect(existsSync(join(dir, 'pre')) ? readFileSync(join(dir, 'pre'), 'utf8') : '').not.toContain('fork code ran');
    expect(existsSync(join(dir, 'post'))).toBe(false);
    expect(h.double.statuses(REPO, pr.headSha).filter((s) => s.context.includes('workflow_hook'))).toEqual([]);
    expect(h.double.violations).toEqual([]);
  }, 60_000);
});
