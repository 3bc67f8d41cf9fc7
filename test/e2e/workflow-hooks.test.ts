// Server-side pre and post workflow hooks, end to end through the GitHub double with real git
// and terraform: a pre hook generates the repo's atlantis.yaml before it is read (as
// terragrunt-atlantis-config does), hooks see Atlantis's variables and never the token, each
// gets a commit status, and a failing pre hook does not stop the plan.

import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHarness, terraformProject, type Harness } from '../support/harness.js';

const REPO = 'acme/hooked';

describe('workflow hooks', () => {
  let h: Harness;
  let dir: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tideline-hooks-'));
    const config = `repos:
  - id: /.*/
    pre_workflow_hooks:
      - run: |
          printf 'version: 3\\nprojects:\\n  - name: generated\\n    dir: app\\n' > atlantis.yaml
        description: Generating atlantis.yaml
        commands: plan
      - run: |
          env > ${join(dir, 'pre-env')}; echo 'env saved' > "$OUTPUT_STATUS_FILE"
  - id: ${REPO}
    post_workflow_hooks:
      - run: |
          echo "$COMMAND_NAME of $PULL_NUM by $USER_NAME" >> ${join(dir, 'post')}
      - run: exit 3
        description: Always fails
        commands: [apply]
`;
    writeFileSync(join(dir, 'repos.yaml'), config);
    h = await startHarness({ env: { TIDELINE_CONFIG: join(dir, 'repos.yaml'), TIDELINE_DRIFT_SCHEDULE: 'off' } });
    await h.double.createRepo(REPO, { 'app/main.tf': terraformProject(join(h.stateDir, 'app.tfstate'), 'one') });
  });
  afterAll(async () => {
    await h?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('runs pre hooks before the repo config is read, and post hooks after the command', async () => {
    const pr = await h.double.openPull(REPO, { branch: 'bump', author: 'alice', files: { 'app/main.tf': terraformProject(join(h.stateDir, 'app.tfstate'), 'two') } });
    await h.double.sendComment(REPO, pr.number, 'tideline plan -- -lock=false', { user: 'alice' });
    await h.server.pool.idle();
    const reply = h.double.comments(REPO, pr.number).filter((c) => c.user === h.double.botLogin).at(-1)?.body ?? '';
    expect(reply).toContain('Ran Plan for project: `generated` dir: `app` workspace: `default`');

    const env = readFileSync(join(dir, 'pre-env'), 'utf8').split('\n');
    expect(env).toEqual(expect.arrayContaining([
      'BASE_REPO_OWNER=acme', 'BASE_REPO_NAME=hooked', 'HEAD_BRANCH_NAME=bump', `HEAD_COMMIT=${pr.headSha}`,
      'BASE_BRANCH_NAME=main', `PULL_NUM=${pr.number}`, 'PULL_AUTHOR=alice', 'USER_NAME=alice', 'COMMAND_NAME=plan',
      'COMMENT_ARGS=\\-\\l\\o\\c\\k\\=\\f\\a\\l\\s\\e',
    ]));
    expect(env.some((line) => line.startsWith('DIR=') && line.endsWith('/default'))).toBe(true);
    expect(env.some((line) => line.startsWith('OUTPUT_STATUS_FILE='))).toBe(true);
    expect(env.join('\n')).not.toContain(h.double.token);
    expect(readFileSync(join(dir, 'post'), 'utf8')).toBe(`plan of ${pr.number} by alice\n`);

    const statuses = h.double.statuses(REPO, pr.headSha);
    expect(statuses.find((s) => s.context === 'tideline/pre_workflow_hook: Generating atlantis.yaml')).toMatchObject({ state: 'success' });
    expect(statuses.find((s) => s.context === 'tideline/pre_workflow_hook: Pre workflow hook #1')).toMatchObject({ state: 'success', description: 'env saved' });
    expect(statuses.find((s) => s.context === 'tideline/post_workflow_hook: Post workflow hook #0')).toMatchObject({ state: 'success' });
    expect(statuses.some((s) => s.context.includes('Always fails'))).toBe(false);
  }, 60_000);
});
