// The audit trail of a whole PR lifecycle, read back in order and verified, and a canary
// secret that must never reach the audit log, the comments or the logs.

import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyAudit } from '../../server/audit/index.js';
import { startHarness, terraformProject, type Harness } from '../support/harness.js';

const REPO = 'acme/audited';
const CANARY = 'canary-7f3e9b2d41c8a6';

function leakyProject(stateFile: string): string {
  return `terraform {
  backend "local" { path = ${JSON.stringify(stateFile)} }
}
variable "secret" {}
resource "terraform_data" "x" { input = var.secret }
output "leak" { value = var.secret }
`;
}

describe('audit trail', () => {
  let h: Harness;

  beforeAll(async () => {
    // The canary is a secret the server knows (here the API secret, set in its environment).
    h = await startHarness({ env: { TIDELINE_API_SECRET: CANARY } });
    await h.double.createRepo(REPO, {
      'app/main.tf': terraformProject(join(h.stateDir, 'audited.tfstate'), 'one'),
      'leaky/main.tf': leakyProject(join(h.stateDir, 'leaky.tfstate')),
      'leaky/terraform.tfvars': `secret = "${CANARY}"\n`,
    });
  });
  afterAll(async () => {
    await h?.close();
  });

  function records(): { type: string; actor: string; pull: number | null; fields: string }[] {
    return h.server.db.prepare('SELECT type, actor, pull, fields FROM audit WHERE repo = ? ORDER BY seq').all(REPO) as { type: string; actor: string; pull: number | null; fields: string }[];
  }

  async function settle(): Promise<void> {
    await h.server.pool.idle();
  }

  it('records plan, conflict, apply and merge in order, and the chain verifies', async () => {
    const first = await h.double.openPull(REPO, { branch: 'one', author: 'alice', files: { 'app/main.tf': terraformProject(join(h.stateDir, 'audited.tfstate'), 'two') } });
    await h.double.sendPullRequestEvent(REPO, first.number, 'opened');
    await settle();
    const second = await h.double.openPull(REPO, { branch: 'two', author: 'bob', files: { 'app/main.tf': terraformProject(join(h.stateDir, 'audited.tfstate'), 'three') } });
    await h.double.sendPullRequestEvent(REPO, second.number, 'opened');
    await settle();
    await h.double.sendComment(REPO, first.number, 'tideline apply', { user: 'alice' });
    await settle();
    await h.double.mergePull(REPO, first.number);
    await h.double.sendPullRequestEvent(REPO, first.number, 'closed');
    await settle();

    expect(records().map((r) => `${r.type}#${r.pull ?? '-'}`)).toEqual([
      `webhook.accepted#${first.number}`,
      `command#${first.number}`,
      `lock.taken#${first.number}`,
      `plan#${first.number}`,
      `webhook.accepted#${second.number}`,
      `command#${second.number}`,
      `lock.refused#${second.number}`,
      `webhook.accepted#${first.number}`,
      `command#${first.number}`,
      `apply#${first.number}`,
      `webhook.accepted#${first.number}`,
      `lock.released#${first.number}`,
    ]);
    const plan = JSON.parse(records().find((r) => r.type === 'plan')?.fields ?? '{}') as Record<string, unknown>;
    expect(plan).toMatchObject({ headSha: first.headSha, summary: { add: 1, change: 0, destroy: 0 }, result: 'changes' });
    expect(plan['planSha256']).toMatch(/^[0-9a-f]{64}$/);
    expect(plan['outputSha256']).toMatch(/^[0-9a-f]{64}$/);
    const apply = JSON.parse(records().find((r) => r.type === 'apply')?.fields ?? '{}') as Record<string, unknown>;
    expect(apply).toMatchObject({ result: 'applied', exitCode: 0 });
    expect(records().find((r) => r.type === 'apply')?.actor).toBe('alice');
    const refused = JSON.parse(records().find((r) => r.type === 'lock.refused')?.fields ?? '{}') as { holder: { pull: number } };
    expect(refused.holder.pull).toBe(first.number);
    expect(verifyAudit(h.server.db)).toMatchObject({ ok: true });
    const starts = h.server.db.prepare("SELECT COUNT(*) AS n FROM audit WHERE type = 'server.start'").get() as { n: number };
    expect(starts.n).toBe(1);
  });

  it('never lets a canary secret into the audit log, the comments or the logs', async () => {
    const pr = await h.double.openPull(REPO, { branch: 'leak', author: 'carol', files: { 'leaky/main.tf': `${leakyProject(join(h.stateDir, 'leaky.tfstate'))}\n# touch\n` } });
    await h.double.sendComment(REPO, pr.number, 'tideline plan -d leaky', { user: 'carol' });
    await settle();
    await h.double.sendComment(REPO, pr.number, 'tideline apply -d leaky', { user: 'carol' });
    await settle();
    const mine = h.double.comments(REPO, pr.number).filter((c) => c.user === h.double.botLogin).map((c) => c.body);
    expect(mine.some((b) => b.includes('Ran Plan'))).toBe(true);
    expect(mine.some((b) => b.includes('Apply complete!'))).toBe(true);
    // The value was there to leak: terraform printed it, and the masker replaced it.
    expect(mine.join('\n')).toContain('***');
    expect(mine.join('\n')).not.toContain(CANARY);
    const dump = h.server.db.prepare('SELECT * FROM audit').all();
    expect(JSON.stringify(dump)).not.toContain(CANARY);
    expect(h.logs()).not.toContain(CANARY);
  });
});
