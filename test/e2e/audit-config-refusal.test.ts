// A repo config the server refuses is an audit record whichever command meets it: here an apply
// after the server's rules were tightened under a plan that was made while they allowed it.

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startGitHubDouble, type GitHubDouble } from '../../sandbox/github/index.js';
import { verifyAudit } from '../../server/audit/index.js';
import { startHarness, terraformProject, WEBHOOK_SECRET, type Harness } from '../support/harness.js';

const REPO = 'acme/tightened';
const REPO_CONFIG = 'version: 3\nprojects:\n  - dir: app\n    apply_requirements: [undiverged]\n';

describe('a refused repo config at apply', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tideline-audit-config-'));
  let double: GitHubDouble | undefined;
  let h: Harness | undefined;

  afterAll(async () => {
    await h?.close();
    await double?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('writes a config.error record naming the file and its problems, and applies nothing', async () => {
    double = await startGitHubDouble({ webhookSecret: WEBHOOK_SECRET, rootDir: join(dir, 'github') });
    const serverConfig = join(dir, 'server.yaml');
    writeFileSync(serverConfig, 'repos:\n  - id: /acme\\/.*/\n    allowed_overrides: [apply_requirements]\n');
    h = await startHarness({ double, dir, env: { TIDELINE_CONFIG: serverConfig } });
    const stateFile = join(h.stateDir, 'app.tfstate');
    await double.createRepo(REPO, { 'tideline.yaml': REPO_CONFIG, 'app/main.tf': terraformProject(stateFile, 'one') });
    const pr = await double.openPull(REPO, { branch: 'two', author: 'alice', files: { 'app/main.tf': terraformProject(stateFile, 'two') } });
    await double.sendPullRequestEvent(REPO, pr.number, 'opened');
    await h.server.pool.idle();

    // The operator takes the override away and restarts; the PR's plan is still there.
    await h.close();
    writeFileSync(serverConfig, 'repos:\n  - id: /acme\\/.*/\n');
    h = await startHarness({ double, dir, env: { TIDELINE_CONFIG: serverConfig } });
    await double.sendComment(REPO, pr.number, 'tideline apply', { user: 'alice' });
    await h.server.pool.idle();

    const rows = h.server.db.prepare("SELECT type, actor, pull, fields FROM audit WHERE repo = ? AND type IN ('command', 'config.error', 'apply', 'plan') ORDER BY seq").all(REPO) as { type: string; actor: string; pull: number; fields: string }[];
    expect(rows.map((r) => r.type)).toEqual(['command', 'plan', 'command', 'config.error']);
    const refused = rows.at(-1);
    expect(refused).toMatchObject({ actor: 'alice', pull: pr.number });
    const fields = JSON.parse(refused?.fields ?? '{}') as { scope: string; file: string; command?: string; headSha: string; problems: { path: string; message: string }[] };
    expect(fields).toMatchObject({ scope: 'repo', file: 'tideline.yaml', command: 'apply', headSha: pr.headSha });
    expect(fields.problems.map((p) => p.message).join('\n')).toMatch(/apply_requirements/);
    expect(verifyAudit(h.server.db).ok).toBe(true);
  });
});
