// Pull requests from forks, as Atlantis treats them without --allow-fork-prs: a fork's code is
// never planned or applied unless the operator sets TIDELINE_ALLOW_FORK_PRS=true. Closing such a
// pull request still releases whatever it holds.

import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHarness, type Harness } from '../support/harness.js';

const REPO = 'acme/public-infra';

function module(stateFile: string, value: string): string {
  return `terraform {
  backend "local" { path = ${JSON.stringify(stateFile)} }
}
resource "terraform_data" "x" {
  input = ${JSON.stringify(value)}
}
`;
}

describe('pull requests from forks', () => {
  let h: Harness;

  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(async () => {
    await h.close();
  });

  it('does not autoplan them, and refuses plan and apply by comment, saying how to allow them', async () => {
    const state = join(h.stateDir, 'fork.tfstate');
    await h.double.createRepo(REPO, { 'main.tf': module(state, 'a') });
    const pr = await h.double.openPull(REPO, { branch: 'patch-1', fork: 'stranger/public-infra', author: 'stranger', files: { 'main.tf': module(state, 'b') } });
    await h.double.sendPullRequestEvent(REPO, pr.number, 'opened');
    await h.double.waitFor('the ignored delivery to be logged', () => h.logs().includes('from a fork (stranger/public-infra)') || undefined);

    for (const command of ['plan', 'apply']) {
      await h.double.sendComment(REPO, pr.number, `tideline ${command}`, { user: 'stranger' });
      await h.double.waitFor(`the ${command} refusal`, () => h.double.comments(REPO, pr.number).filter((c) => c.body.includes('does not run pull requests from forks')).length >= (command === 'plan' ? 1 : 2) || undefined);
    }
    const bodies = h.double.comments(REPO, pr.number).filter((c) => c.user !== 'stranger').map((c) => c.body);
    expect(bodies).toHaveLength(2);
    expect(bodies[0]).toContain("this pull request's branch is in the fork stranger/public-infra, and this server does not run pull requests from forks: an operator can set TIDELINE_ALLOW_FORK_PRS=true to allow it");
    expect(bodies.some((b) => b.includes('Ran Plan'))).toBe(false);
    expect(h.double.statuses(REPO, pr.headSha)).toEqual([]);
    expect(h.server.db.prepare('SELECT COUNT(*) AS n FROM plans').get()).toEqual({ n: 0 });
    expect(h.server.db.prepare('SELECT COUNT(*) AS n FROM locks').get()).toEqual({ n: 0 });
    const refused = h.server.db.prepare("SELECT actor, fields FROM audit WHERE type = 'command.refused' ORDER BY seq").all() as { actor: string; fields: string }[];
    expect(refused.map((r) => ({ actor: r.actor, ...(JSON.parse(r.fields) as Record<string, unknown>) }))).toEqual([
      expect.objectContaining({ actor: 'stranger', command: 'plan', reason: 'the pull request is from a fork', headRepo: 'stranger/public-infra' }),
      expect.objectContaining({ actor: 'stranger', command: 'apply', reason: 'the pull request is from a fork' }),
    ]);
    expect(h.double.violations).toEqual([]);
  });
});

describe('pull requests from forks, with TIDELINE_ALLOW_FORK_PRS=true', () => {
  let h: Harness;

  beforeAll(async () => {
    h = await startHarness({ env: { TIDELINE_ALLOW_FORK_PRS: 'true' } });
  });
  afterAll(async () => {
    await h.close();
  });

  it('autoplans them like any other pull request', async () => {
    const state = join(h.stateDir, 'fork.tfstate');
    await h.double.createRepo(REPO, { 'main.tf': module(state, 'a') });
    const pr = await h.double.openPull(REPO, { branch: 'patch-1', fork: 'stranger/public-infra', author: 'stranger', files: { 'main.tf': module(state, 'b') } });
    await h.double.sendPullRequestEvent(REPO, pr.number, 'opened');
    const plan = await h.double.waitFor('the autoplan reply', () => h.double.comments(REPO, pr.number).find((c) => c.body.includes('Ran Plan')), 60_000);
    expect(plan.body).toContain('1 to add');
    expect(h.double.violations).toEqual([]);
  });
});
