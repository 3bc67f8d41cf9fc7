// `depends_on` as Atlantis enforces it at apply time: a project is not applied while a project
// it depends on has an unapplied plan with changes in the same pull request, whether the other
// was left out of the command (`-p`) or its apply failed earlier in the same run.

import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHarness, terraformProject, type Harness } from '../support/harness.js';

const REPO = 'acme/deps';

const CONFIG = `version: 3
projects:
  - name: network
    dir: network
  - name: app
    dir: app
    depends_on: [network]
`;

/** A root module whose apply fails (its provisioner exits 1) while its plan succeeds. */
function failingApply(stateFile: string, value: string): string {
  return `${terraformProject(stateFile, value)}\nresource "terraform_data" "broken" {\n  input = var.v\n  provisioner "local-exec" { command = "exit 1" }\n}\n`;
}

describe('depends_on at apply time', () => {
  let h: Harness;
  const state = (name: string): string => join(h.stateDir, `${name}.tfstate`);

  beforeAll(async () => {
    h = await startHarness();
    await h.double.createRepo(REPO, {
      'tideline.yaml': CONFIG,
      'network/main.tf': terraformProject(join(h.stateDir, 'network.tfstate'), 'one'),
      'app/main.tf': terraformProject(join(h.stateDir, 'app.tfstate'), 'one'),
    });
  });
  afterAll(async () => {
    await h?.close();
  });

  function lastReply(pull: number): string {
    return h.double.comments(REPO, pull).filter((c) => c.user === h.double.botLogin).at(-1)?.body ?? '';
  }
  function applied(pull: number): Record<string, boolean> {
    const rows = h.server.db.prepare('SELECT project, applied_at FROM plans WHERE repo = ? AND pull = ?').all(REPO, pull) as { project: string; applied_at: string | null }[];
    return Object.fromEntries(rows.map((row) => [row.project, row.applied_at !== null]));
  }

  it('refuses `apply -p app` while network is planned and not applied, then applies it once network is', async () => {
    const pr = await h.double.openPull(REPO, { branch: 'both', author: 'alice', files: { 'network/main.tf': terraformProject(state('network'), 'two'), 'app/main.tf': terraformProject(state('app'), 'two') } });
    await h.double.sendPullRequestEvent(REPO, pr.number, 'opened');
    await h.double.waitFor('the autoplan', () => (lastReply(pr.number).includes('Ran Plan') ? true : undefined));
    await h.server.pool.idle();

    await h.double.sendComment(REPO, pr.number, 'tideline apply -p app', { user: 'alice' });
    await h.server.pool.idle();
    expect(lastReply(pr.number)).toContain('it depends on `network` (`depends_on`), planned with changes in this pull request and not applied yet');
    expect(applied(pr.number)).toEqual({ network: false, app: false });
    const refusals = h.server.db.prepare("SELECT COUNT(*) AS n FROM audit WHERE type = 'requirement.refused'").get() as { n: number };
    expect(refusals.n).toBe(1);

    await h.double.sendComment(REPO, pr.number, 'tideline apply -p network', { user: 'alice' });
    await h.server.pool.idle();
    await h.double.sendComment(REPO, pr.number, 'tideline apply -p app', { user: 'alice' });
    await h.server.pool.idle();
    expect(lastReply(pr.number)).toContain('Ran Apply');
    expect(applied(pr.number)).toEqual({ network: true, app: true });
  });

  it('does not apply app in the same run after network failed to apply', async () => {
    await h.double.closePull(REPO, 1);
    await h.double.sendPullRequestEvent(REPO, 1, 'closed');
    await h.server.pool.idle();
    const pr = await h.double.openPull(REPO, { branch: 'broken-network', author: 'alice', files: { 'network/main.tf': failingApply(state('network'), 'three'), 'app/main.tf': terraformProject(state('app'), 'three') } });
    await h.double.sendPullRequestEvent(REPO, pr.number, 'opened');
    await h.double.waitFor('the autoplan', () => (lastReply(pr.number).includes('Ran Plan') ? true : undefined));
    await h.server.pool.idle();

    await h.double.sendComment(REPO, pr.number, 'tideline apply', { user: 'alice' });
    await h.server.pool.idle();
    expect(lastReply(pr.number)).toContain('it depends on `network`');
    expect(applied(pr.number)).toEqual({ network: false, app: false });
  });
});
