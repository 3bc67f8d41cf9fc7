// An Atlantis server-side repo config (repos.yaml) moved into TIDELINE_CONFIG unchanged: its
// `repo_config_file` is honoured, its hooks run (a failing one does not stop the plan), and the
// keys Tideline does not act on are logged at start-up, not dropped without a word.

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHarness, terraformProject, type Harness } from '../support/harness.js';

const REPO = 'acme/nested-config';

const ATLANTIS_REPOS_YAML = `repos:
  - id: /.*/
    repo_config_file: infra/atlantis.yaml
    pre_workflow_hooks:
      - run: ./generate.sh
    allowed_overrides: [workflow, delete_source_branch_on_merge]
workflows:
  custom:
    plan:
      steps: [init, policy_check, plan]
team_authz:
  command: ./authz.sh
`;

describe('an Atlantis server config', () => {
  let h: Harness;
  let dir: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tideline-server-config-'));
    writeFileSync(join(dir, 'repos.yaml'), ATLANTIS_REPOS_YAML);
    h = await startHarness({ env: { TIDELINE_CONFIG: join(dir, 'repos.yaml'), TIDELINE_DRIFT_SCHEDULE: 'off' } });
    await h.double.createRepo(REPO, {
      'infra/atlantis.yaml': 'version: 3\nprojects:\n  - name: app\n    dir: app\n',
      'app/main.tf': terraformProject(join(h.stateDir, 'app.tfstate'), 'one'),
    });
  });
  afterAll(async () => {
    await h?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  function ignoredKeys(): string[] {
    return h
      .logs()
      .split('\n')
      .filter((line) => line.includes('server config key ignored'))
      .map((line) => (JSON.parse(line) as { warning: string }).warning);
  }

  it.each([['workflows.custom.plan.steps[1]'], ['team_authz']])('logs at start-up that `%s` is ignored', (key) => {
    expect(ignoredKeys()).toEqual(expect.arrayContaining([expect.stringContaining(`\`${key}\``)]));
  });

  it('reads the repo config where repo_config_file says, and does not call that key ignored', async () => {
    expect(ignoredKeys().some((warning) => warning.includes('repo_config_file'))).toBe(false);
    const pr = await h.double.openPull(REPO, { branch: 'bump', author: 'alice', files: { 'app/main.tf': terraformProject(join(h.stateDir, 'app.tfstate'), 'two') } });
    await h.double.sendComment(REPO, pr.number, 'tideline plan -p app', { user: 'alice' });
    await h.server.pool.idle();
    const reply = h.double.comments(REPO, pr.number).filter((c) => c.user === h.double.botLogin).at(-1)?.body ?? '';
    expect(reply).toContain('Ran Plan for project: `app` dir: `app` workspace: `default`');
    // ./generate.sh does not exist: its hook fails, as Atlantis says so in a status, and the plan still ran.
    expect(ignoredKeys().some((warning) => warning.includes('pre_workflow_hooks'))).toBe(false);
    const hook = h.double.statuses(REPO, pr.headSha).find((s) => s.context === 'tideline/pre_workflow_hook: Pre workflow hook #0');
    expect(hook).toMatchObject({ state: 'failure' });
  });
});
