// A repo config the server refuses is an audit record whichever command meets it: here an apply
// after the server's rules were tightened under a plan that was made while they allowed it.

import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { verifyAudit } from '../../server/audit/index.js';
import { terraformProject } from '../support/harness.js';
import { restartable } from '../support/restartable.js';

const REPO = 'acme/tightened';
const REPO_CONFIG = 'version: 3\nprojects:\n  - dir: app\n    apply_requirements: [undiverged]\n';

describe('a refused repo config at apply', () => {
  const servers = restartable('tideline-audit-config-');

  it('writes a config.error record naming the file and its problems, and applies nothing', async () => {
    const double = await servers.double();
    const serverConfig = join(servers.dir, 'server.yaml');
    writeFileSync(serverConfig, 'repos:\n  - id: /acme\\/.*/\n    allowed_overrides: [apply_requirements]\n');
    let h = await servers.start({ env: { TIDELINE_CONFIG: serverConfig } });
    const stateFile = join(h.stateDir, 'app.tfstate');
    await double.createRepo(REPO, { 'tideline.yaml': REPO_CONFIG, 'app/main.tf': terraformProject(stateFile, 'one') });
    const pr = await double.openPull(REPO, { branch: 'two', author: 'alice', files: { 'app/main.tf': terraformProject(stateFile, 'two') } });
    await double.sendPullRequestEvent(REPO, pr.number, 'opened');
    await h.server.pool.idle();

    // The operator takes the override away and restarts; the PR's plan is still there.
    writeFileSync(serverConfig, 'repos:\n  - id: /acme\\/.*/\n');
    h = await servers.start({ env: { TIDELINE_CONFIG: serverConfig } });
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
