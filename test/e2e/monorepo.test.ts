// Issue 4 end to end: a monorepo with three projects and a shared module, a tideline.yaml
// with execution groups and apply requirements, and a server config that allows them.

import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHarness, type Harness } from '../support/harness.js';

const REPO = 'acme/mono';

function root(stateFile: string, orderLog: string, name: string, delay: number, usesModule: boolean): string {
  return `terraform {
  backend "local" { path = ${JSON.stringify(stateFile)} }
}
${usesModule ? 'module "shared" {\n  source = "../modules/shared"\n  v      = "' + name + '"\n}\n' : ''}
resource "terraform_data" "${name}" {
  input = "${name}"
  provisioner "local-exec" { command = "sleep ${delay} && echo ${name} >> ${orderLog}" }
}
`;
}

function sharedModule(version: string): string {
  return `variable "v" {}
resource "terraform_data" "m" { input = "\${var.v}-${version}" }
output "o" { value = terraform_data.m.output }
`;
}

const REPO_CONFIG = `version: 3
abort_on_execution_order_fail: true
projects:
  - name: alpha
    dir: alpha
    execution_order_group: 1
    apply_requirements: [approved]
  - name: beta
    dir: beta
    execution_order_group: 2
    apply_requirements: [approved]
  - name: gamma
    dir: gamma
`;

describe('monorepo with a shared module', () => {
  let h: Harness;
  let orderLog: string;
  let serverConfig: string;

  beforeAll(async () => {
    serverConfig = join(tmpdir(), `tideline-mono-${process.pid}.yaml`);
    writeFileSync(serverConfig, 'repos:\n  - id: /acme\\/.*/\n    allowed_overrides: [apply_requirements]\n');
    h = await startHarness({ env: { TIDELINE_CONFIG: serverConfig } });
    orderLog = join(h.dir, 'order.log');
    await h.double.createRepo(REPO, {
      'tideline.yaml': REPO_CONFIG,
      'modules/shared/main.tf': sharedModule('v1'),
      'alpha/main.tf': root(join(h.stateDir, 'alpha.tfstate'), orderLog, 'alpha', 1, true),
      'beta/main.tf': root(join(h.stateDir, 'beta.tfstate'), orderLog, 'beta', 0, true),
      'gamma/main.tf': root(join(h.stateDir, 'gamma.tfstate'), orderLog, 'gamma', 0, false),
    });
  });
  afterAll(async () => {
    await h?.close();
    rmSync(serverConfig, { force: true });
  });

  function mine(pull: number): string[] {
    return h.double.comments(REPO, pull).filter((c) => c.user === h.double.botLogin).map((c) => c.body);
  }

  it('plans the two users of a changed module and not the third project, in one reply', async () => {
    const pr = await h.double.openPull(REPO, { branch: 'bump-shared', author: 'alice', files: { 'modules/shared/main.tf': sharedModule('v2') } });
    await h.double.sendPullRequestEvent(REPO, pr.number, 'opened');
    const plan = await h.double.waitFor('multi-project plan', () => mine(pr.number).find((b) => b.includes('Ran Plan')));
    expect(plan).toContain('project: `alpha`');
    expect(plan).toContain('project: `beta`');
    expect(plan).not.toContain('gamma');
    expect(plan).toContain('2 projects, 2 with changes, 0 with no changes, 0 failed');
    const locks = (h.server.db.prepare('SELECT project FROM locks ORDER BY project').all() as { project: string }[]).map((l) => l.project);
    expect(locks).toEqual(['alpha', 'beta']);
  });

  it('refuses apply until someone other than the author approves', async () => {
    await h.double.sendComment(REPO, 1, 'tideline apply', { user: 'alice' });
    await h.server.pool.idle();
    const refusal = mine(1).at(-1) ?? '';
    expect(refusal).toContain('Apply Failed');
    expect(refusal).toContain('approv');
    expect(refusal).toContain('@alice');
    const types = (h.server.db.prepare("SELECT type FROM audit WHERE type = 'requirement.refused'").all() as unknown[]).length;
    expect(types).toBe(2);
    // The author approving their own pull request does not count.
    h.double.setReview(REPO, 1, 'alice', 'APPROVED');
    await h.double.sendComment(REPO, 1, 'tideline apply', { user: 'alice' });
    await h.server.pool.idle();
    expect(mine(1).at(-1)).toContain('Apply Failed');
  });

  it('applies after approval, the later execution group waiting for the earlier one', async () => {
    h.double.setReview(REPO, 1, 'bob', 'APPROVED');
    await h.double.sendComment(REPO, 1, 'tideline apply', { user: 'alice' });
    await h.server.pool.idle();
    const applied = mine(1).at(-1) ?? '';
    expect(applied).toContain('Ran Apply');
    expect(applied).toContain('2 projects');
    // alpha sleeps a second before logging; had beta not waited for group 1, it would log first.
    expect(readFileSync(orderLog, 'utf8').trim().split('\n')).toEqual(['alpha', 'beta']);
  });

  it('refuses apply to a commenter without write access', async () => {
    const pr = await h.double.openPull(REPO, { branch: 'gamma-change', author: 'alice', files: { 'gamma/main.tf': `${root(join(h.stateDir, 'gamma.tfstate'), orderLog, 'gamma', 0, false)}\n# touch\n` } });
    await h.double.sendComment(REPO, pr.number, 'tideline plan -p gamma', { user: 'alice' });
    await h.server.pool.idle();
    h.double.setPermission(REPO, 'mallory', 'read');
    await h.double.sendComment(REPO, pr.number, 'tideline apply -p gamma', { user: 'mallory' });
    await h.server.pool.idle();
    const reply = mine(pr.number).at(-1) ?? '';
    expect(reply).toContain('Apply Failed');
    expect(reply).toContain('write access');
    expect(reply).toContain('@mallory');
  });

  it('answers an invalid repo config with every problem and plans nothing', async () => {
    const pr = await h.double.openPull(REPO, {
      branch: 'bad-config',
      author: 'alice',
      files: { 'tideline.yaml': 'version: 3\nprojects:\n  - dir: ../outside\n  - dir: gamma\n    workspace: "bad/ws"\n    worflow: x\n' },
    });
    await h.double.sendPullRequestEvent(REPO, pr.number, 'opened');
    await h.server.pool.idle();
    const reply = mine(pr.number).at(-1) ?? '';
    expect(reply).toContain('Repo Config Error');
    expect(reply).toContain('projects[0].dir');
    expect(reply).toContain('projects[1].workspace');
    expect(reply).toContain('worflow');
    expect(h.server.db.prepare('SELECT COUNT(*) AS n FROM locks WHERE pull = ?').get(pr.number)).toEqual({ n: 0 });
    expect(h.double.violations).toEqual([]);
  });

  it('plans one dir in two workspaces as two projects, each with its own lock and plan', async () => {
    // The earlier gamma pull request still holds gamma/default: release it first.
    const holder = h.server.db.prepare("SELECT pull FROM locks WHERE dir = 'gamma'").get() as { pull: number };
    await h.double.sendComment(REPO, holder.pull, 'tideline unlock', { user: 'alice' });
    await h.server.pool.idle();
    const twoWorkspaces = `${REPO_CONFIG}  - name: gamma-staging
    dir: gamma
    workspace: staging
`;
    const pr = await h.double.openPull(REPO, {
      branch: 'gamma-workspaces',
      author: 'alice',
      files: { 'tideline.yaml': twoWorkspaces, 'gamma/main.tf': `${root(join(h.stateDir, 'gamma.tfstate'), orderLog, 'gamma', 0, false)}\n# both\n` },
    });
    await h.double.sendComment(REPO, pr.number, 'tideline plan -d gamma -w staging', { user: 'alice' });
    await h.server.pool.idle();
    await h.double.sendComment(REPO, pr.number, 'tideline unlock', { user: 'alice' });
    await h.server.pool.idle();
    await h.double.sendComment(REPO, pr.number, 'tideline plan -p gamma-staging', { user: 'alice' });
    await h.double.sendComment(REPO, pr.number, 'tideline plan -d gamma', { user: 'alice' });
    await h.server.pool.idle();
    const locks = h.server.db.prepare('SELECT dir, workspace FROM locks WHERE pull = ? ORDER BY workspace').all(pr.number);
    expect(locks).toEqual([{ dir: 'gamma', workspace: 'default' }, { dir: 'gamma', workspace: 'staging' }]);
    const plans = h.server.db.prepare('SELECT workspace, plan_file FROM plans WHERE pull = ? ORDER BY workspace').all(pr.number) as { workspace: string; plan_file: string }[];
    expect(plans.map((p) => p.workspace)).toEqual(['default', 'staging']);
    expect(new Set(plans.map((p) => p.plan_file)).size).toBe(2);
    // Each workspace got its own working tree, so their .terraform dirs never mix.
    expect(h.logs()).not.toContain('"level":50');
  });
});
