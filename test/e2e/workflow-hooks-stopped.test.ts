// A workflow hook's commit status left pending by a stop that gave up on its job (a process
// killed, or a job that would not end): the next start settles it as the hook's, interrupted,
// like the plan's own status. It is not left pending for good, and not set to what the plan
// came out as: the hook never finished, whatever the plan did.

import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { terraformProject } from '../support/harness.js';
import { restartable } from '../support/restartable.js';

const REPO = 'acme/hooked-stopped';
const HOOK = 'tideline/post_workflow_hook: Cleanup';

describe('a stop that gives up on a job while its post workflow hook is reporting', () => {
  const env = restartable('tideline-hooks-stopped-');

  it('settles the hook status at the next start as interrupted, not as the plan came out', async () => {
    const d = await env.double();
    const config = join(env.dir, 'repos.yaml');
    writeFileSync(config, 'repos:\n  - id: /.*/\n    post_workflow_hooks:\n      - run: echo cleaned\n        description: Cleanup\n');
    const settings = { TIDELINE_CONFIG: config, TIDELINE_DRIFT_SCHEDULE: 'off' };
    await d.createRepo(REPO, { 'app/main.tf': terraformProject(join(env.dir, 'app.tfstate'), 'one') });
    const pr = await d.openPull(REPO, { branch: 'bump', files: { 'app/main.tf': terraformProject(join(env.dir, 'app.tfstate'), 'two') } });
    const latest = (context: string) => d.statuses(REPO, pr.headSha).find((s) => s.context === context);

    let reached: () => void = () => {};
    const hookReporting = new Promise<void>((resolve) => (reached = resolve));
    const h = await env.start({
      env: settings,
      forge: (inner) => ({
        ...inner,
        // GitHub never answers the hook's final status: the job outlives the stop.
        setStatus: async (repo, sha, status) => {
          if (status.context === HOOK && status.state !== 'pending') {
            reached();
            return new Promise<never>(() => {});
          }
          return inner.setStatus(repo, sha, status);
        },
      }),
    });
    await d.sendComment(REPO, pr.number, 'tideline plan -d app');
    await hookReporting;
    await h.close(0);
    expect(latest(HOOK)).toMatchObject({ state: 'pending' });
    expect(latest('tideline/plan')).toMatchObject({ state: 'success' });

    const after = await env.start({ env: settings });
    await after.server.pool.idle();
    expect(latest(HOOK)).toMatchObject({ state: 'error', description: expect.stringContaining('interrupted') });
    expect(latest('tideline/plan')).toMatchObject({ state: 'success' });
    // The plan's reply had been posted: nothing more is said.
    expect(d.comments(REPO, pr.number).filter((c) => c.body.includes('tideline:interrupted'))).toEqual([]);
    expect(d.violations).toEqual([]);
    await after.close();
  }, 90_000);
});
