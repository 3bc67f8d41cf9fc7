// A repository taken off TIDELINE_REPO_ALLOWLIST is no longer served in any way: after a restart
// with the new allowlist, its webhooks are ignored and the drift API no longer sweeps it, though
// the server learned it from its webhooks before.

import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { terraformProject } from '../support/harness.js';
import { restartable } from '../support/restartable.js';

const REPO = 'acme/retired';
const API = 'allowlist-api-secret';

describe('a repository taken off the allowlist', () => {
  const servers = restartable('tideline-allowlist-');

  it('is not swept for drift once the allowlist no longer names it', async () => {
    const double = await servers.double();
    const env = { TIDELINE_API_SECRET: API, TIDELINE_DRIFT_SCHEDULE: 'off' };
    let h = await servers.start({ env });
    const state = join(servers.dir, 'retired.tfstate');
    await double.createRepo(REPO, { 'app/main.tf': terraformProject(state) });
    const pr = await double.openPull(REPO, { branch: 'x', files: { 'app/main.tf': terraformProject(state, 'two') } });
    await double.sendPullRequestEvent(REPO, pr.number, 'opened');
    await h.server.pool.idle();

    h = await servers.start({ env: { ...env, TIDELINE_REPO_ALLOWLIST: 'other/*' } });
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
