// Atlantis's plan_requirements, from a repos.yaml moved in unchanged and from an atlantis.yaml
// the server lets set them: a project whose requirements do not hold is not planned (a plan
// runs the pull request's code), the reply says which rule and how to meet it, and the refusal
// is audited. Real terraform, git and SQLite against the GitHub double.

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHarness, terraformProject, type Harness } from '../support/harness.js';

const REPO = 'acme/gated';

const DIVERGING = 'acme/diverging';

const REPOS_YAML = `repos:
  - id: /.*/
    plan_requirements: [approved]
    allowed_overrides: [plan_requirements]
  - id: ${DIVERGING}
    plan_requirements: [undiverged]
`;

const ATLANTIS_YAML = `version: 3
projects:
  - name: gated
    dir: gated
  - name: open
    dir: open
    plan_requirements: []
`;

describe('plan_requirements', () => {
  let h: Harness;
  let dir: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tideline-plan-req-'));
    writeFileSync(join(dir, 'repos.yaml'), REPOS_YAML);
    h = await startHarness({ env: { TIDELINE_CONFIG: join(dir, 'repos.yaml'), TIDELINE_DRIFT_SCHEDULE: 'off' } });
    await h.double.createRepo(REPO, {
      'atlantis.yaml': ATLANTIS_YAML,
      'gated/main.tf': terraformProject(join(h.stateDir, 'gated.tfstate'), 'one'),
      'open/main.tf': terraformProject(join(h.stateDir, 'open.tfstate'), 'one'),
    });
    await h.double.createRepo(DIVERGING, {
      'a/main.tf': terraformProject(join(h.stateDir, 'da.tfstate'), 'one'),
      'b/main.tf': terraformProject(join(h.stateDir, 'db.tfstate'), 'one'),
    });
  });
  afterAll(async () => {
    await h?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  function lastReply(pull: number): string {
    return h.double.comments(REPO, pull).filter((c) => c.user === h.double.botLogin).at(-1)?.body ?? '';
  }

  it('does not plan a gated project before approval, and plans the one the repo config opened', async () => {
    const pr = await h.double.openPull(REPO, {
      branch: 'bump',
      author: 'alice',
      files: { 'gated/main.tf': terraformProject(join(h.stateDir, 'gated.tfstate'), 'two'), 'open/main.tf': terraformProject(join(h.stateDir, 'open.tfstate'), 'two') },
    });
    await h.double.sendComment(REPO, pr.number, 'tideline plan', { user: 'alice' });
    await h.server.pool.idle();
    const reply = lastReply(pr.number);
    expect(reply).not.toContain('is not supported');
    expect(reply).toContain('`plan_requirements`');
    expect(reply).toContain('`approved`: the pull request needs an approving review from someone other than its author @alice');
    expect(reply).toContain('1 failed');
    const plans = (h.server.db.prepare('SELECT project_key FROM plans ORDER BY project_key').all() as { project_key: string }[]).map((p) => p.project_key);
    expect(plans).toEqual([`${REPO}/open/default/open`]);
    const refused = h.server.db.prepare("SELECT fields FROM audit WHERE type = 'requirement.refused'").all() as { fields: string }[];
    expect(refused.map((r) => JSON.parse(r.fields) as { stage: string; requirement: string })).toEqual([expect.objectContaining({ stage: 'plan', requirement: 'approved' })]);

    h.double.setReview(REPO, pr.number, 'bob', 'APPROVED');
    await h.double.sendComment(REPO, pr.number, 'tideline plan -p gated', { user: 'alice' });
    await h.server.pool.idle();
    const after = lastReply(pr.number);
    expect(after).toContain('Ran Plan for project: `gated`');
    expect(after).not.toContain('plan_requirements');
  });

  it('checks undiverged once for a plan of several projects: their base fetches do not race for one ref', async () => {
    const files = (value: string): Record<string, string> => ({
      'a/main.tf': terraformProject(join(h.stateDir, 'da.tfstate'), value),
      'b/main.tf': terraformProject(join(h.stateDir, 'db.tfstate'), value),
    });
    const pr = await h.double.openPull(DIVERGING, { branch: 'first', author: 'alice', files: files('two') });
    await h.double.sendComment(DIVERGING, pr.number, 'tideline plan', { user: 'alice' });
    await h.server.pool.idle();
    expect(h.double.comments(DIVERGING, pr.number).filter((c) => c.user === h.double.botLogin).at(-1)?.body ?? '').toContain('2 projects, 2 with changes, 0 with no changes, 0 failed');

    // The base moves on after this pull request's tree fetched it: each project's check would
    // fetch it again, into the same ref of the same tree.
    const other = await h.double.openPull(DIVERGING, { branch: 'second', author: 'bob', files: { 'README.md': 'x' } });
    await h.double.mergePull(DIVERGING, other.number);
    await h.double.sendComment(DIVERGING, pr.number, 'tideline plan', { user: 'alice' });
    await h.server.pool.idle();
    const reply = h.double.comments(DIVERGING, pr.number).filter((c) => c.user === h.double.botLogin).at(-1)?.body ?? '';
    expect(reply).toContain('2 failed');
    expect(reply.match(/`undiverged`: the pull request does not contain the latest `main`/g)).toHaveLength(2);
    const job = h.server.db.prepare("SELECT state, error FROM jobs WHERE type = 'command' ORDER BY id DESC LIMIT 1").get() as { state: string; error: string | null };
    expect(job).toEqual({ state: 'succeeded', error: null });
  });
});
