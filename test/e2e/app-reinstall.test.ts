// The server in GitHub App mode against the double: an operator reinstalls the App (the old
// installation is deleted and its tokens revoked, the new one has a new id) or takes the
// repository out of it, and the server follows without a restart.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StartedGitHubDouble } from '../../sandbox/github/index.js';
import { startAppHarness } from '../support/app-harness.js';
import { terraformProject, type Harness } from '../support/harness.js';

const REPO = 'acme/app-infra';

describe('GitHub App installations that change under a running server', () => {
  let dir: string;
  let double: StartedGitHubDouble;
  let h: Harness;
  let pull: number;
  let stateFile: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tideline-e2e-app-'));
    ({ double, h } = await startAppHarness(dir, 90210));
    stateFile = join(h.stateDir, 'app.tfstate');
    await double.createRepo(REPO, { 'app/main.tf': terraformProject(stateFile, 'one') });
    double.installApp(REPO);
    pull = (await double.openPull(REPO, { branch: 'change', files: { 'app/main.tf': terraformProject(stateFile, 'two') } })).number;
  });
  afterAll(async () => {
    await h?.close();
    await double?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const plans = (): string[] => double.comments(REPO, pull).filter((c) => c.user === double.botLogin && c.body.includes('Ran Plan')).map((c) => c.body);
  // A plan's job goes on (its final status) after its comment: wait for all of it, so the next
  // step's calls are the only ones that meet the changed installation.
  const idle = (): boolean => (h.server.db.prepare("SELECT count(*) AS n FROM jobs WHERE state IN ('queued', 'running')").get() as { n: number }).n === 0;
  const nextPlan = (count: number): Promise<string> => double.waitFor(`plan comment number ${count} and its job done`, () => idle() && plans()[count - 1], 25_000);
  const lastJob = (): { id: number; state: string; error: string | null } =>
    h.server.db.prepare("SELECT id, state, error FROM jobs WHERE type = 'command' ORDER BY id DESC LIMIT 1").get() as { id: number; state: string; error: string | null };

  it('plans as the App, through an installation token', async () => {
    expect(double.botLogin).toBe('tideline-e2e[bot]');
    await double.sendPullRequestEvent(REPO, pull, 'opened');
    expect(await nextPlan(1)).toContain('terraform_data.x');
  });

  it('posts the next plan after a reinstall that the installation webhooks announce', async () => {
    const { deleted, created } = double.reinstallApp(REPO);
    // Verified like any delivery: a forged one is refused and changes nothing.
    expect((await double.sendInstallationEvent(deleted, 'deleted', { secret: 'not-the-secret' })).status).toBe(401);
    expect(h.logs()).not.toContain('dropped cached GitHub App installations');
    expect((await double.sendInstallationEvent(deleted, 'deleted')).status).toBe(200);
    expect((await double.sendInstallationEvent(created, 'created')).status).toBe(200);
    // Audited like any delivery, with what it changed: the installation, its account, its repositories.
    const audited = h.server.db.prepare("SELECT type, fields FROM audit WHERE type = 'webhook.accepted' AND fields LIKE '%\"event\":\"installation\"%' ORDER BY seq").all() as { type: string; fields: string }[];
    expect(audited.map((r) => ({ type: r.type, ...(JSON.parse(r.fields) as object) }))).toEqual([
      expect.objectContaining({ type: 'webhook.accepted', action: 'deleted', change: { installationId: deleted, account: 'acme', repos: [REPO] } }),
      expect.objectContaining({ type: 'webhook.accepted', action: 'created', change: { installationId: created, account: 'acme', repos: [REPO] } }),
    ]);
    await double.sendComment(REPO, pull, 'tideline plan -d app');
    expect(await nextPlan(2)).toContain('terraform_data.x');
    expect(h.logs()).toContain('dropped cached GitHub App installations');
    // The webhooks did it: no call was refused first.
    expect(h.logs()).not.toContain('looking the GitHub App installation up again');
  });

  it('posts the next plan after a reinstall nobody announced: the refused token makes it look again', async () => {
    double.reinstallApp(REPO);
    await double.sendComment(REPO, pull, 'tideline plan -d app');
    expect(await nextPlan(3)).toContain('terraform_data.x');
    expect(h.logs()).toContain('looking the GitHub App installation up again');
    expect(double.violations).toEqual([]);
  });

  it('says plainly that the App is not installed once the repository left the installation', async () => {
    // No installation_repositories delivery: the outcome must not depend on one arriving.
    double.removeFromInstallation(REPO);
    const before = plans().length;
    const earlier = lastJob().id;
    await double.sendComment(REPO, pull, 'tideline plan -d app');
    await double.waitFor('the job to fail', () => (lastJob().id > earlier && lastJob().state === 'failed') || undefined, 25_000);
    expect(lastJob().error).toContain(`the GitHub App (ID ${double.app?.id}) is not installed on ${REPO}`);
    expect(lastJob().error).toContain(`install the App on ${REPO}`);
    expect(plans().length).toBe(before);
  });
});
