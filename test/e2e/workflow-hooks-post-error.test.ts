// A post workflow hook that cannot even start (its checkout or clone token fails) after a
// command that succeeded: the command's result stands. Atlantis logs a post hook's failure and
// never reports it as the command's; the PR must not read "plan failed" under the plan it was shown.

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHarness, terraformProject, type Harness } from '../support/harness.js';

const REPO = 'acme/hooked-post-error';

describe('a post workflow hook that throws after a command that succeeded', () => {
  let h: Harness;
  let dir: string;
  // Set once the plan's reply is posted: the post hooks' clone token is then refused.
  let refuseToken = false;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tideline-hooks-post-error-'));
    writeFileSync(join(dir, 'repos.yaml'), `repos:\n  - id: /.*/\n    post_workflow_hooks:\n      - run: echo post\n`);
    h = await startHarness({
      env: { TIDELINE_CONFIG: join(dir, 'repos.yaml'), TIDELINE_DRIFT_SCHEDULE: 'off' },
      forge: (inner) => ({
        ...inner,
        createComment: async (repo, number, body) => {
          const posted = await inner.createComment(repo, number, body);
          if (body.includes('Ran Plan')) refuseToken = true;
          return posted;
        },
        cloneToken: async (repo) => {
          if (refuseToken) throw new Error('installation token refused');
          return inner.cloneToken(repo);
        },
      }),
    });
    await h.double.createRepo(REPO, { 'app/main.tf': terraformProject(join(h.stateDir, 'app.tfstate'), 'one') });
  });

  afterAll(async () => {
    await h?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('keeps the plan succeeded and posts no error comment', async () => {
    const pr = await h.double.openPull(REPO, { branch: 'bump', author: 'alice', files: { 'app/main.tf': terraformProject(join(h.stateDir, 'app.tfstate'), 'two') } });
    await h.double.sendComment(REPO, pr.number, 'tideline plan -d app', { user: 'alice' });
    await h.server.pool.idle();
    const bodies = h.double.comments(REPO, pr.number).map((c) => c.body);
    expect(bodies.some((b) => b.includes('Ran Plan'))).toBe(true);
    expect(bodies.filter((b) => b.includes('installation token refused'))).toEqual([]);
    const job = h.server.db.prepare("SELECT state FROM jobs WHERE type = 'command' ORDER BY id DESC LIMIT 1").get() as { state: string };
    expect(job.state).toBe('succeeded');
    expect(h.double.statuses(REPO, pr.headSha).find((s) => s.context === 'tideline/plan')).toMatchObject({ state: 'success' });
    expect(h.logs()).toContain('post workflow hooks failed');
    expect(h.double.violations).toEqual([]);
  }, 60_000);
});
