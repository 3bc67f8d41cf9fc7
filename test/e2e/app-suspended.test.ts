// The server in GitHub App mode against the double: an owner of the account suspends the App's
// installation. GitHub then refuses everything the App asks for there, comments included, so
// the PR cannot be told; the job page, the log and the audit log say what happened and who can
// fix it, and the server does not keep asking GitHub for tokens it will not get.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StartedGitHubDouble } from '../../sandbox/github/index.js';
import { startAppHarness } from '../support/app-harness.js';
import { terraformProject, type Harness } from '../support/harness.js';

const REPO = 'acme/suspended-infra';
const API = 'suspend-api-secret-1';

describe('a GitHub App installation suspended under a running server', () => {
  let dir: string;
  let double: StartedGitHubDouble;
  let h: Harness;
  let pull: number;
  let installation: number;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tideline-e2e-suspend-'));
    ({ double, h } = await startAppHarness(dir, 90211, { TIDELINE_API_SECRET: API }));
    const stateFile = join(h.stateDir, 'suspended.tfstate');
    await double.createRepo(REPO, { 'app/main.tf': terraformProject(stateFile, 'one') });
    installation = double.installApp(REPO);
    pull = (await double.openPull(REPO, { branch: 'change', files: { 'app/main.tf': terraformProject(stateFile, 'two') } })).number;
  });
  afterAll(async () => {
    await h?.close();
    await double?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const plans = (): string[] => double.comments(REPO, pull).filter((c) => c.user === double.botLogin && c.body.includes('Ran Plan')).map((c) => c.body);
  const idle = (): boolean => (h.server.db.prepare("SELECT count(*) AS n FROM jobs WHERE state IN ('queued', 'running')").get() as { n: number }).n === 0;
  const lastJob = (type: string): { id: number; state: string; error: string | null } =>
    (h.server.db.prepare('SELECT id, state, error FROM jobs WHERE type = ? ORDER BY id DESC LIMIT 1').get(type) as { id: number; state: string; error: string | null } | undefined) ?? { id: 0, state: 'none', error: null };
  const audited = (type: string): Record<string, unknown>[] =>
    (h.server.db.prepare('SELECT fields FROM audit WHERE type = ? ORDER BY seq').all(type) as { fields: string }[]).map((r) => JSON.parse(r.fields) as Record<string, unknown>);

  it('plans as the App before the suspension', async () => {
    await double.sendPullRequestEvent(REPO, pull, 'opened');
    expect(await double.waitFor('the first plan and its job done', () => idle() && plans()[0], 25_000)).toContain('terraform_data.x');
  });

  it('fails a command that meets the suspension with what happened and who can fix it, not a bare 403', async () => {
    double.suspendInstallation(installation, { by: 'octocat' });
    const earlier = lastJob('command').id;
    // GitHub sends no events of a suspended installation: this stands for a comment delivered
    // just before the suspension, whose job runs after it (the cached token is refused).
    await double.sendComment(REPO, pull, 'tideline plan -d app');
    await double.waitFor('the job to fail', () => (lastJob('command').id > earlier && lastJob('command').state === 'failed') || undefined, 25_000);
    const error = lastJob('command').error ?? '';
    expect(error).toContain(`the GitHub App (ID ${double.app?.id}) is suspended on acme (installation ${installation}, suspended at `);
    expect(error).toContain('by octocat)');
    expect(error).toContain('an owner of acme can unsuspend it under Settings → GitHub Apps → Configure → Unsuspend');
    expect(plans()).toHaveLength(1);
    // The job page shows it (a suspended App cannot comment), and the audit log records it once.
    await double.waitFor('the server to be idle', () => idle() || undefined, 25_000);
    expect(audited('installation.suspended')).toEqual([expect.objectContaining({ installationId: installation, account: 'acme', suspendedBy: 'octocat' })]);
    expect(h.logs()).toContain('GitHub App installation is suspended');
  });

  it('sweeps for drift without a token request while suspended, and records why it could not', async () => {
    const logged = h.logs().length;
    await double.sendInstallationEvent(installation, 'suspend');
    const accepted = audited('webhook.accepted').filter((f) => f['event'] === 'installation');
    expect(accepted.at(-1)).toMatchObject({ action: 'suspend', change: { installationId: installation, account: 'acme' } });
    for (let sweep = 1; sweep <= 2; sweep++) {
      const before = audited('drift.check').length;
      const answer = await fetch(`${h.server.url}/api/drift/run?repo=${REPO}`, { method: 'POST', headers: { authorization: `Bearer ${API}` } });
      expect(answer.status).toBe(202);
      await double.waitFor(`drift sweep ${sweep} recorded`, () => (idle() && audited('drift.check').length > before) || undefined, 25_000);
      expect(audited('drift.check').at(-1)).toMatchObject({ state: 'error', reason: expect.stringContaining('an owner of acme can unsuspend it') });
      expect(lastJob('drift').state).toBe('succeeded');
    }
    // The suspend webhook made it look once more (GET …/installation, which says suspended_at);
    // it never asked for a token GitHub would refuse, and told the operator only once.
    expect(h.logs().slice(logged)).toContain('dropped cached GitHub App installations');
    expect(h.logs().slice(logged)).not.toContain('looking the GitHub App installation up again');
    expect(audited('installation.suspended')).toHaveLength(1);
  });

  it('plans again at once after the unsuspend webhook', async () => {
    double.unsuspendInstallation(installation);
    expect((await double.sendInstallationEvent(installation, 'unsuspend')).status).toBe(200);
    await double.sendComment(REPO, pull, 'tideline plan -d app');
    expect(await double.waitFor('the next plan', () => idle() && plans()[1], 25_000)).toContain('terraform_data.x');
    expect(h.logs()).toContain('GitHub App installation is no longer suspended');
    expect(double.violations).toEqual([]);
  });
});
