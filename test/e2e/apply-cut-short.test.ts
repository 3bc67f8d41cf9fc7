// A shutdown whose timeout runs out in the middle of a multi-project apply, after one project
// was applied and while the next is still running: the next start tells the pull request which
// project was applied (it needs no new plan) and which the stop cut short (plan it again),
// rather than calling the whole apply interrupted.

import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { readWorkRecord } from '../../server/jobs/work-record.js';
import { terraformProject } from '../support/harness.js';
import { restartable } from '../support/restartable.js';

const REPO = 'acme/cut-short';

const REPO_CONFIG = `version: 3
projects:
  - name: a
    dir: a
    execution_order_group: 1
  - name: b
    dir: b
    execution_order_group: 2
`;

/** A project whose apply takes far longer than the test waits: the stop always finds it running. */
function slowProject(stateFile: string, value: string): string {
  return `terraform {
  backend "local" { path = ${JSON.stringify(stateFile)} }
}
resource "terraform_data" "slow" {
  input = ${JSON.stringify(value)}
  provisioner "local-exec" { command = "sleep 30" }
}
`;
}

describe('an apply cut short after some of its projects were applied', () => {
  const env = restartable('tideline-cut-short-');
  const stateA = join(env.dir, 'a.tfstate');
  const stateB = join(env.dir, 'b.tfstate');

  it('names the applied project as applied and asks for a plan only of the one cut short', async () => {
    const d = await env.double();
    await d.createRepo(REPO, { 'tideline.yaml': REPO_CONFIG, 'a/main.tf': terraformProject(stateA, 'one'), 'b/main.tf': 'terraform {}\n' });
    const pr = await d.openPull(REPO, { branch: 'both', files: { 'a/main.tf': terraformProject(stateA, 'two'), 'b/main.tf': slowProject(stateB, 'two') } });
    const comments = (text: string): string[] => d.comments(REPO, pr.number).map((c) => c.body).filter((b) => b.includes(text));
    const h = await env.start();
    await d.sendComment(REPO, pr.number, 'tideline plan');
    await d.waitFor('the plan', () => comments('Ran Plan').length > 0 || undefined, 60_000);
    expect(comments('Ran Plan')[0]).toContain('2 projects');
    await d.sendComment(REPO, pr.number, 'tideline apply');
    const db = h.server.db;
    const applyJob = (): number | undefined => (db.prepare("SELECT id FROM jobs WHERE type = 'command' ORDER BY id DESC LIMIT 1").get() as { id: number } | undefined)?.id;
    // The first group is applied (its plan marked applied in the transaction that records its
    // result on the job); the second (30 s of local-exec) is next.
    const appliedA = (): boolean => db.prepare("SELECT 1 FROM plans WHERE project = 'a' AND applied_at IS NOT NULL").get() !== undefined;
    await d.waitFor('a to be applied', () => appliedA() || undefined, 60_000);
    const id = applyJob() as number;
    expect(readWorkRecord(db, id)?.projects.map((p) => [p.project.name, p.result])).toEqual([['a', 'applied'], ['b', null]]);
    await h.close(0);

    const after = await env.start();
    await after.server.pool.idle();
    expect(after.server.db.prepare('SELECT state FROM jobs WHERE id = ?').get(id)).toEqual({ state: 'interrupted' });
    const told = comments('tideline:interrupted');
    expect(told).toHaveLength(1);
    const body = told[0] ?? '';
    expect(body).toContain('**Apply Interrupted**: the server stopped while this apply ran, after 1/2 projects were applied.');
    expect(body).toContain('Applied before the stop (what was applied is applied: these need no new plan):\n* project: `a` dir: `a` workspace: `default`');
    expect(body).toContain('plan them again and review the new plan before applying it:\n* project: `b` dir: `b` workspace: `default`: `tideline plan -p b`');
    expect(body).not.toContain('tideline plan -p a');
    // The status the stop settled says so too, not "stopped: plan again" of the whole apply.
    expect(d.statuses(REPO, pr.headSha).find((s) => s.context === 'tideline/apply')).toMatchObject({
      state: 'error',
      description: 'apply cut short by a server stop: 1/2 projects applied. Plan the rest again.',
    });
    // What the notice calls applied was applied.
    expect((JSON.parse(readFileSync(stateA, 'utf8')) as { outputs: { v: { value: string } } }).outputs.v.value).toBe('two');
    const applied = after.server.db.prepare('SELECT project FROM plans WHERE applied_at IS NOT NULL').all();
    expect(applied).toEqual([{ project: 'a' }]);
    expect(d.violations).toEqual([]);
    await after.close();
  });
});
