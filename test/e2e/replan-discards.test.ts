// A plan of the whole pull request replaces its earlier plans, as in Atlantis: once a push stops
// changing a project, the next plan drops that project's plan and lock, so apply is not refused
// as stale for good and the project is free for other pull requests.

import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHarness, terraformProject, type Harness } from '../support/harness.js';

const REPO = 'acme/replan';

describe('a plan of the whole pull request', () => {
  let h: Harness;

  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(async () => {
    await h?.close();
  });

  it('drops the plan and lock of a project a push stopped changing, then applies the rest', async () => {
    const state = (dir: string): string => join(h.stateDir, `${dir}.tfstate`);
    const base = { 'a/main.tf': terraformProject(state('a'), 'a1'), 'b/main.tf': terraformProject(state('b'), 'b1') };
    await h.double.createRepo(REPO, base);
    const pr = await h.double.openPull(REPO, { branch: 'both', files: { 'a/main.tf': terraformProject(state('a'), 'a2'), 'b/main.tf': terraformProject(state('b'), 'b2') } });
    const bot = (): string[] => h.double.comments(REPO, pr.number).filter((c) => c.user === h.double.botLogin).map((c) => c.body);
    const locks = (): string[] => (h.server.db.prepare('SELECT dir FROM locks ORDER BY dir').all() as { dir: string }[]).map((l) => l.dir);

    await h.double.sendComment(REPO, pr.number, 'tideline plan');
    await h.double.waitFor('the first plan', () => bot().find((b) => b.includes('Ran Plan')));
    expect(locks()).toEqual(['a', 'b']);

    // The push takes b back to the base branch's content: the PR no longer changes it.
    await h.double.pushToPull(REPO, pr.number, { 'b/main.tf': base['b/main.tf'] });
    await h.double.sendComment(REPO, pr.number, 'tideline plan');
    const second = await h.double.waitFor('the second plan', () => bot().filter((b) => b.includes('Ran Plan'))[1]);
    expect(second).toContain('**Earlier plans discarded**');
    expect(second).toContain('the plan and lock of dir: `b` workspace: `default` were discarded: this pull request no longer changes it');
    expect(locks()).toEqual(['a']);

    await h.double.sendComment(REPO, pr.number, 'tideline apply');
    const applied = await h.double.waitFor('the apply', () => bot().find((b) => b.includes('Apply complete') || b.includes('Apply Failed')));
    expect(applied).toContain('Apply complete!');
    expect(applied).not.toContain('stale');

    // b is free: another pull request can plan it.
    const other = await h.double.openPull(REPO, { branch: 'only-b', files: { 'b/main.tf': terraformProject(state('b'), 'b3') } });
    await h.double.sendComment(REPO, other.number, 'tideline plan');
    const otherPlan = await h.double.waitFor('the other PR plan', () => h.double.comments(REPO, other.number).find((c) => c.user === h.double.botLogin)?.body);
    expect(otherPlan).toContain('Ran Plan');
    expect(h.double.violations).toEqual([]);
  });

  it('keeps the plans and locks of other workspaces of a dir the pull request still changes', async () => {
    const repo = 'acme/replan-ws';
    const state = join(h.stateDir, 'ws.tfstate');
    await h.double.createRepo(repo, { 'a/main.tf': terraformProject(state, 'one') });
    const pr = await h.double.openPull(repo, { branch: 'ws', files: { 'a/main.tf': terraformProject(state, 'two') } });
    const bot = (): string[] => h.double.comments(repo, pr.number).filter((c) => c.user === h.double.botLogin).map((c) => c.body);
    const locks = (): string[] => (h.server.db.prepare('SELECT workspace FROM locks WHERE repo = ? ORDER BY workspace').all(repo) as { workspace: string }[]).map((l) => l.workspace);
    await h.double.sendComment(repo, pr.number, 'tideline plan -d a -w staging');
    await h.double.waitFor('the staging plan', () => bot().find((b) => b.includes('Ran Plan')));
    await h.double.sendComment(repo, pr.number, 'tideline plan');
    const whole = await h.double.waitFor('the whole plan', () => bot().filter((b) => b.includes('Ran Plan'))[1]);
    expect(whole).not.toContain('Earlier plans discarded');
    expect(locks()).toEqual(['default', 'staging']);
  });
});
