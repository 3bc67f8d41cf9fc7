// An Atlantis server-side repo config loads unchanged; the keys Tideline does not act on are
// logged at start-up, not dropped without a word.

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHarness, type Harness } from '../support/harness.js';

const ATLANTIS_REPOS_YAML = `repos:
  - id: /.*/
    repo_config_file: infra/atlantis.yaml
    pre_workflow_hooks:
      - run: ./generate.sh
    allowed_overrides: [workflow, delete_source_branch_on_merge]
workflows:
  custom:
    plan:
      steps: [init, {multienv: ./envs.sh}, plan]
`;

describe('server config keys Tideline ignores', () => {
  let h: Harness;
  let dir: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tideline-server-config-'));
    writeFileSync(join(dir, 'repos.yaml'), ATLANTIS_REPOS_YAML);
    h = await startHarness({ env: { TIDELINE_CONFIG: join(dir, 'repos.yaml'), TIDELINE_DRIFT_SCHEDULE: 'off' } });
  });
  afterAll(async () => {
    await h?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it.each([
    ['repos[0].repo_config_file'],
    ['repos[0].pre_workflow_hooks'],
    ['workflows.custom.plan.steps[1]'],
  ])('logs at start-up that `%s` is ignored', (key) => {
    const warnings = h
      .logs()
      .split('\n')
      .filter((line) => line.includes('server config key ignored'))
      .map((line) => (JSON.parse(line) as { warning: string }).warning);
    expect(warnings).toEqual(expect.arrayContaining([expect.stringContaining(`\`${key}\``)]));
  });
});
