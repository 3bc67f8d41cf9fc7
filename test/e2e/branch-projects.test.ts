// `branch: /regex/` projects end to end, as Atlantis reads them: a pull request into main sees
// only the projects declared for main, for `-p` and `-d` as for autoplan, and one project name
// may be declared once per base branch.

import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHarness, terraformProject, type Harness } from '../support/harness.js';

const REPO = 'acme/branches';

const ATLANTIS_YAML = `version: 3
projects:
  - name: app
    dir: app
    branch: /^main$/
  - name: app
    dir: app
    workspace: release
    branch: /^release\\/.*/
`;

describe('projects declared per base branch', () => {
  let h: Harness;

  beforeAll(async () => {
    h = await startHarness();
    await h.double.createRepo(REPO, {
      'atlantis.yaml': ATLANTIS_YAML,
      'app/main.tf': terraformProject(join(h.stateDir, 'app.tfstate'), 'one'),
    });
  });
  afterAll(async () => {
    await h?.close();
  });

  function mine(pull: number): string[] {
    return h.double.comments(REPO, pull).filter((c) => c.user === h.double.botLogin).map((c) => c.body);
  }

  it('plans `-p app` as the project declared for main only', async () => {
    const pr = await h.double.openPull(REPO, { branch: 'bump', author: 'alice', files: { 'app/main.tf': terraformProject(join(h.stateDir, 'app.tfstate'), 'two') } });
    await h.double.sendComment(REPO, pr.number, 'tideline plan -p app', { user: 'alice' });
    await h.server.pool.idle();
    const reply = mine(pr.number).at(-1) ?? '';
    expect(reply).toContain('Ran Plan');
    expect(reply).toContain('workspace: `default`');
    expect(reply).not.toContain('`release`');
    const locks = h.server.db.prepare('SELECT workspace FROM locks').all() as { workspace: string }[];
    expect(locks).toEqual([{ workspace: 'default' }]);
  });

  it('refuses `-d app -w release` on a pull request into main: that project is declared for release branches', async () => {
    await h.double.sendComment(REPO, 1, 'tideline plan -d app -w release', { user: 'alice' });
    await h.server.pool.idle();
    const reply = mine(1).at(-1) ?? '';
    expect(reply).toContain('declared in atlantis.yaml for workspace `default` only, not `release`');
    const locks = h.server.db.prepare('SELECT workspace FROM locks').all() as { workspace: string }[];
    expect(locks).toEqual([{ workspace: 'default' }]);
  });
});
