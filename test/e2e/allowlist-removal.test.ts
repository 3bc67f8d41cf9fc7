// A repository taken off TIDELINE_REPO_ALLOWLIST is no longer served in any way: after a restart
// with the new allowlist, its webhooks are ignored and the drift API no longer sweeps it, though
// the server learned it from its webhooks before.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startGitHubDouble, type GitHubDouble } from '../../sandbox/github/index.js';
import { startHarness, terraformProject, WEBHOOK_SECRET, type Harness } from '../support/harness.js';

const REPO = 'acme/retired';
const API = 'allowlist-api-secret';

describe('a repository taken off the allowlist', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tideline-allowlist-'));
  const dataDir = join(dir, 'data');
  let double: GitHubDouble | undefined;
  let h: Harness | undefined;

  afterAll(async () => {
    await h?.close();
    await double?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('is not swept for drift once the allowlist no longer names it', async () => {
    double = await startGitHubDouble({ webhookSecret: WEBHOOK_SECRET, rootDir: join(dir, 'github') });
    const env = { TIDELINE_API_SECRET: API, TIDELINE_DRIFT_SCHEDULE: 'off' };
    h = await startHarness({ double, dir, dataDir, env });
    await double.createRepo(REPO, { 'app/main.tf': terraformProject(join(dir, 'retired.tfstate')) });
    const pr = await double.openPull(REPO, { branch: 'x', files: { 'app/main.tf': terraformProject(join(dir, 'retired.tfstate'), 'two') } });
    await double.sendPullRequestEvent(REPO, pr.number, 'opened');
    await h.server.pool.idle();
    await h.close();

    h = await startHarness({ double, dir, dataDir, env: { ...env, TIDELINE_REPO_ALLOWLIST: 'other/*' } });
    const all = await fetch(`${h.server.url}/api/drift/run`, { method: 'POST', headers: { authorization: `Bearer ${API}` } });
    expect(await all.json()).toMatchObject({ enqueued: 0 });
    const named = await fetch(`${h.server.url}/api/drift/run?repo=${REPO}`, { method: 'POST', headers: { authorization: `Bearer ${API}` } });
    expect(named.status).toBe(404);
    expect(await named.json()).toEqual({ error: `repository ${REPO} is not one this server serves: it must match TIDELINE_REPO_ALLOWLIST, and the server learns it from its webhooks` });
    await h.server.pool.idle();
    const drift = h.server.db.prepare("SELECT COUNT(*) AS n FROM jobs WHERE type = 'drift'").get();
    expect(drift).toEqual({ n: 0 });
    const main = double.statuses(REPO, double.headSha(REPO, pr.number));
    expect(main.filter((s) => s.context === 'tideline/drift')).toEqual([]);
    expect(double.violations).toEqual([]);
  });
});
