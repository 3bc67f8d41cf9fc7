// Atlantis's `automerge: true`: apply waits until every project the pull request changes has
// planned successfully, and once every one is applied the server merges the pull request
// (naming the head it applied, so a later push cannot slip in). GitHub's refusal to merge is
// reported, and nothing else is lost.

import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHarness, terraformProject, type Harness } from '../support/harness.js';

const CONFIG = 'version: 3\nautomerge: true\nprojects:\n  - dir: a\n  - dir: b\n';

describe('automerge', () => {
  let h: Harness;

  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(async () => {
    await h?.close();
  });

  const bot = (repo: string, pull: number): string[] => h.double.comments(repo, pull).filter((c) => c.user === h.double.botLogin).map((c) => c.body);
  const next = (repo: string, pull: number, what: string, seen: number): Promise<string> =>
    h.double.waitFor(what, () => bot(repo, pull)[seen], 60_000);

  it('waits for every project to plan, then merges once every one is applied', async () => {
    const repo = 'acme/automerge';
    const state = (dir: string): string => join(h.stateDir, `am-${dir}.tfstate`);
    await h.double.createRepo(repo, { 'tideline.yaml': CONFIG, 'a/main.tf': terraformProject(state('a'), 'a1'), 'b/main.tf': terraformProject(state('b'), 'b1') });
    const pr = await h.double.openPull(repo, { branch: 'both', files: { 'a/main.tf': terraformProject(state('a'), 'a2'), 'b/main.tf': 'resource "terraform_data" "x" {\n' } });

    await h.double.sendComment(repo, pr.number, 'tideline plan');
    expect(await next(repo, pr.number, 'the plan with b failing', 0)).toContain('Plan Error');
    await h.double.sendComment(repo, pr.number, 'tideline apply -d a');
    const refused = await next(repo, pr.number, 'the refusal', 1);
    expect(refused).toContain('**Apply Failed**: nothing was applied.');
    expect(refused).toContain('`automerge` is on, so every project this pull request changes must plan successfully before any is applied: dir: `b` workspace: `default` has no successful plan of');

    const head = await h.double.pushToPull(repo, pr.number, { 'b/main.tf': terraformProject(state('b'), 'b2') });
    await h.double.sendComment(repo, pr.number, 'tideline plan');
    expect(await next(repo, pr.number, 'the plan of both', 2)).toContain('2 projects, 2 with changes');
    await h.double.sendComment(repo, pr.number, 'tideline apply -d a');
    expect(await next(repo, pr.number, 'the apply of a', 3)).toContain('Apply complete!');
    expect(await next(repo, pr.number, 'the wait note', 4)).toContain('**Not merged yet** (`automerge` is on): dir: `b` workspace: `default` is not applied.');
    expect(h.double.pullState(repo, pr.number).merged).toBe(false);

    await h.double.sendComment(repo, pr.number, 'tideline apply -d b');
    expect(await next(repo, pr.number, 'the apply of b', 5)).toContain('Apply complete!');
    const merged = await next(repo, pr.number, 'the merge note', 6);
    const record = h.double.pullState(repo, pr.number);
    expect(record).toMatchObject({ merged: true, state: 'closed' });
    expect(merged).toContain(`**Automatically merged** because every plan has been applied (\`automerge\` is on): merge commit \`${record.mergeCommitSha?.slice(0, 7)}\`.`);
    const audit = h.server.db.prepare("SELECT fields FROM audit WHERE type = 'automerge'").all() as { fields: string }[];
    expect(audit.map((r) => JSON.parse(r.fields) as Record<string, unknown>)).toEqual([expect.objectContaining({ result: 'merged', headSha: head, method: 'merge', mergeSha: record.mergeCommitSha })]);

    // GitHub then delivers the close, as for any merge: the locks go.
    await h.double.sendPullRequestEvent(repo, pr.number, 'closed');
    await h.double.waitFor('the locks to be released', () => (h.server.db.prepare('SELECT COUNT(*) AS n FROM locks').get() as { n: number }).n === 0 || undefined);
    expect(h.double.violations).toEqual([]);
  });

  it('says so when GitHub will not merge, and keeps what was applied', async () => {
    const repo = 'acme/automerge-blocked';
    const state = join(h.stateDir, 'blocked.tfstate');
    await h.double.createRepo(repo, { 'tideline.yaml': 'version: 3\nautomerge: true\nprojects:\n  - dir: a\n', 'a/main.tf': terraformProject(state, 'one') });
    const pr = await h.double.openPull(repo, { branch: 'x', files: { 'a/main.tf': terraformProject(state, 'two') } });
    await h.double.sendComment(repo, pr.number, 'tideline plan');
    await next(repo, pr.number, 'the plan', 0);
    h.double.setMergeable(repo, pr.number, false);
    await h.double.sendComment(repo, pr.number, 'tideline apply');
    expect(await next(repo, pr.number, 'the apply', 1)).toContain('Apply complete!');
    const failed = await next(repo, pr.number, 'the automerge failure', 2);
    expect(failed).toContain('**Automerge Failed**: GitHub would not merge this pull request: GitHub: could not merge acme/automerge-blocked#1: Pull Request is not mergeable');
    expect(failed).toContain('Everything planned was applied; merge it by hand once GitHub allows it.');
    expect(h.double.pullState(repo, pr.number).merged).toBe(false);
    expect(h.double.violations).toEqual([]);
  });

  it('merges with the method an apply names, and not at all with --auto-merge-disabled', async () => {
    const repo = 'acme/automerge-flags';
    const state = join(h.stateDir, 'flags.tfstate');
    const { cloneUrl } = await h.double.createRepo(repo, { 'tideline.yaml': 'version: 3\nautomerge: true\nprojects:\n  - dir: a\n', 'a/main.tf': terraformProject(state, 'one') });
    const pr = await h.double.openPull(repo, { branch: 'x', files: { 'a/main.tf': terraformProject(state, 'two') } });
    await h.double.sendComment(repo, pr.number, 'tideline plan');
    await next(repo, pr.number, 'the plan', 0);
    await h.double.sendComment(repo, pr.number, 'tideline apply --auto-merge-disabled');
    expect(await next(repo, pr.number, 'the apply', 1)).toContain('Apply complete!');
    await h.server.pool.idle();
    expect(bot(repo, pr.number)).toHaveLength(2);
    expect(h.double.pullState(repo, pr.number).merged).toBe(false);

    // Planned and applied again (nothing to change), this time merged by squashing.
    await h.double.sendComment(repo, pr.number, 'tideline plan');
    await next(repo, pr.number, 'the second plan', 2);
    await h.double.sendComment(repo, pr.number, 'tideline apply --auto-merge-method squash');
    await next(repo, pr.number, 'the second apply', 3);
    const merged = await next(repo, pr.number, 'the merge note', 4);
    const record = h.double.pullState(repo, pr.number);
    expect(record.merged).toBe(true);
    expect(merged).toContain(`squashed onto the base branch, now at \`${record.mergeCommitSha?.slice(0, 7)}\``);
    const parents = execFileSync('git', ['-C', fileURLToPath(cloneUrl), 'rev-list', '--parents', '-n', '1', record.mergeCommitSha ?? ''], { encoding: 'utf8' }).trim().split(' ');
    expect(parents).toHaveLength(2); // the commit and its one parent: a squash, not a merge commit
    expect(h.double.violations).toEqual([]);
  });
});
