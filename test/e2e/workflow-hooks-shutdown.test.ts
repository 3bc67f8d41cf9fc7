// A shutdown while a pre workflow hook runs: the hook's process group is killed, and the command
// does not start after it (no lock taken, no plan run), so the job is interrupted and told at the
// next start like any other, rather than planned on a tree the hook never finished.

import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHarness, terraformProject, type Harness } from '../support/harness.js';

const REPO = 'acme/hooked-shutdown';

describe('a shutdown during a pre workflow hook', () => {
  let h: Harness;
  let dir: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tideline-hooks-shutdown-'));
    const config = `repos:
  - id: /.*/
    pre_workflow_hooks:
      - run: |
          touch ${join(dir, 'started')}; sleep 60; touch ${join(dir, 'finished')}
        description: Slow
`;
    writeFileSync(join(dir, 'repos.yaml'), config);
    h = await startHarness({ env: { TIDELINE_CONFIG: join(dir, 'repos.yaml'), TIDELINE_DRIFT_SCHEDULE: 'off' } });
    await h.double.createRepo(REPO, { 'app/main.tf': terraformProject(join(h.stateDir, 'app.tfstate'), 'one') });
  });
  afterAll(async () => {
    await h?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('kills the hook and does not start the command after it', async () => {
    const pr = await h.double.openPull(REPO, { branch: 'bump', author: 'alice', files: { 'app/main.tf': terraformProject(join(h.stateDir, 'app.tfstate'), 'two') } });
    await h.double.sendComment(REPO, pr.number, 'tideline plan -d app', { user: 'alice' });
    await h.double.waitFor('the hook to start', () => existsSync(join(dir, 'started')) || undefined, 30_000);
    const started = Date.now();
    const { interrupted } = await h.server.pool.drain(1_000, () => false);
    expect(Date.now() - started).toBeLessThan(15_000);
    expect(interrupted).toHaveLength(1);
    expect(existsSync(join(dir, 'finished'))).toBe(false);
    expect(h.server.db.prepare('SELECT COUNT(*) AS n FROM locks').get()).toEqual({ n: 0 });
    expect(h.server.db.prepare('SELECT COUNT(*) AS n FROM plans').get()).toEqual({ n: 0 });
    expect(h.double.statuses(REPO, pr.headSha).some((s) => s.context === 'tideline/plan')).toBe(false);
    // The hook did not fail on its own: its status says the stop cut it short.
    expect(h.double.statuses(REPO, pr.headSha).find((s) => s.context === 'tideline/pre_workflow_hook: Slow')).toMatchObject({
      state: 'error',
      description: 'interrupted: the Tideline server stopped while this hook ran.',
    });
    const audited = h.server.db.prepare("SELECT fields FROM audit WHERE type = 'workflow_hook'").all() as { fields: string }[];
    expect(audited.map((row) => (JSON.parse(row.fields) as { result: string }).result)).toEqual(['interrupted']);
    expect(h.double.violations).toEqual([]);
  }, 60_000);
});
