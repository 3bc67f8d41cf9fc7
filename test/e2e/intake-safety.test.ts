// The edges of the foundation: health endpoints, malformed deliveries, the allowlist, what
// reaches terraform's environment, working-tree reuse and file arguments that leave the repo.

import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SecretMasker } from '../../runners/secrets.js';
import { signBody } from '../../sandbox/github/index.js';
import { AuditLog } from '../../server/audit/index.js';
import { lockForBranch } from '../../server/drift/branch-lock.js';
import { startHarness, WEBHOOK_SECRET, type Harness } from '../support/harness.js';

const REPO = 'acme/edges';

function envDumpModule(stateFile: string, dumpFile: string, value: string): string {
  return `terraform {
  backend "local" { path = ${JSON.stringify(stateFile)} }
}
resource "terraform_data" "probe" {
  input = ${JSON.stringify(value)}
  provisioner "local-exec" { command = "env > ${dumpFile}" }
}
`;
}

describe('intake and safety', () => {
  let h: Harness;
  let dump: string;
  let state: string;

  beforeAll(async () => {
    h = await startHarness();
    dump = join(h.dir, 'env-dump.txt');
    state = join(h.stateDir, 'edges.tfstate');
    await h.double.createRepo(REPO, { 'probe/main.tf': envDumpModule(state, dump, 'a') });
    // As in production, the secrets sit in the server process's own environment: a child that
    // inherited it would see them.
    process.env['TIDELINE_GITHUB_TOKEN'] = h.double.token;
    process.env['TIDELINE_WEBHOOK_SECRET'] = WEBHOOK_SECRET;
  });
  afterAll(async () => {
    delete process.env['TIDELINE_GITHUB_TOKEN'];
    delete process.env['TIDELINE_WEBHOOK_SECRET'];
    await h?.close();
  });

  function serverComments(pull: number): string[] {
    return h.double.comments(REPO, pull).filter((c) => c.user === h.double.botLogin).map((c) => c.body);
  }

  async function replyTo(pull: number, text: string, marker: string): Promise<string> {
    const before = h.double.comments(REPO, pull).length;
    expect((await h.double.sendComment(REPO, pull, text)).status).toBe(202);
    return h.double.waitFor(`${marker} after ${text}`, () =>
      h.double.comments(REPO, pull).slice(before).find((c) => c.user === h.double.botLogin && c.body.includes(marker))?.body,
    );
  }

  it('answers /healthz and /readyz', async () => {
    const health = await fetch(`${h.server.url}/healthz`);
    expect(health.status).toBe(200);
    expect(await health.json()).toMatchObject({ status: 'ok', version: h.server.version });
    const ready = await fetch(`${h.server.url}/readyz`);
    expect(ready.status).toBe(200);
  });

  it('answers version with the versions of the programs that plan and apply', async () => {
    const pr = await h.double.openPull(REPO, { branch: 'version', files: { 'probe/main.tf': '# version\n' } });
    const body = await replyTo(pr.number, 'tideline version', 'tideline:version');
    const terraform = (JSON.parse(execFileSync('terraform', ['version', '-json'], { encoding: 'utf8' })) as { terraform_version: string }).terraform_version;
    expect(body).toContain(`Tideline ${h.server.version}`);
    expect(body).toContain(`- terraform ${terraform}\n`);
    expect(body).toMatch(/^- kubectl v\d+\.\d+\.\d+\S* \(kustomize v\d+/m);
    expect(body).toMatch(/^- git 2\.\d+\.\d+$/m);
  });

  it.each([
    ['form-encoded', 'application/x-www-form-urlencoded', 'payload=%7B%7D', 415, /application\/json/],
    ['malformed JSON', 'application/json', '{"action": "created",', 400, /malformed JSON/],
  ])('refuses a %s delivery with a clear error', async (_name, type, body, status, message) => {
    const res = await fetch(`${h.server.url}/events`, {
      method: 'POST',
      headers: { 'content-type': type, 'x-github-event': 'issue_comment', 'x-github-delivery': `edge-${status}`, 'x-hub-signature-256': signBody(WEBHOOK_SECRET, body) },
      body,
    });
    expect(res.status).toBe(status);
    expect(((await res.json()) as { error: string }).error).toMatch(message);
    const seen = h.server.db.prepare('SELECT COUNT(*) AS n FROM deliveries WHERE id = ?').get(`edge-${status}`) as { n: number };
    expect(seen.n).toBe(0);
  });

  it('ignores a repository outside the allowlist, with a log line', async () => {
    await h.double.createRepo('other/infra', { 'main.tf': '' });
    const pr = await h.double.openPull('other/infra', { branch: 'x', files: { 'main.tf': '# change\n' } });
    const res = await h.double.sendComment('other/infra', pr.number, 'tideline plan');
    expect(res.status).toBe(200);
    expect(res.body).toContain('not in TIDELINE_REPO_ALLOWLIST');
    expect(h.logs()).toContain('other/infra is not in TIDELINE_REPO_ALLOWLIST');
    await h.server.pool.idle();
    expect(h.double.comments('other/infra', pr.number).filter((c) => c.user === h.double.botLogin)).toEqual([]);
  });

  it('never lets the GitHub token or the webhook secret reach terraform', async () => {
    const pr = await h.double.openPull(REPO, { branch: 'probe', files: { 'probe/main.tf': envDumpModule(state, dump, 'b') } });
    await replyTo(pr.number, 'tideline plan -d probe', 'Ran Plan');
    const applied = await replyTo(pr.number, 'tideline apply -d probe', 'Ran Apply');
    expect(applied).toContain('Apply complete!');
    const env = readFileSync(dump, 'utf8');
    expect(env).toMatch(/^PATH=/m);
    expect(env).toMatch(/^TF_IN_AUTOMATION=1$/m);
    expect(env).not.toContain(h.double.token);
    expect(env).not.toContain(WEBHOOK_SECRET);
    expect(env).not.toMatch(/^TIDELINE_/m);
    for (const body of serverComments(pr.number)) expect(body).not.toContain(h.double.token);
    expect(h.logs()).not.toContain(h.double.token);
    await replyTo(pr.number, 'tideline unlock', 'tideline:released');
  });

  it('fetches into the existing working tree on a later plan instead of cloning again', async () => {
    const pr = await h.double.openPull(REPO, { branch: 'reuse', files: { 'probe/main.tf': envDumpModule(state, dump, 'c') } });
    await replyTo(pr.number, 'tideline plan -d probe', 'Ran Plan');
    // A file git does not track and clean keeps: it survives only if the tree is not made anew.
    const tree = join(h.settings.dataDir, 'repos', 'acme', 'edges', String(pr.number), 'default');
    const marker = join(tree, 'probe', '.terraform', 'tideline-test-marker');
    writeFileSync(marker, 'kept\n');
    await h.double.pushToPull(REPO, pr.number, { 'probe/main.tf': envDumpModule(state, dump, 'd') });
    const second = await replyTo(pr.number, 'tideline plan -d probe', 'Ran Plan');
    expect(second).toContain('"d"');
    expect(existsSync(marker)).toBe(true);
    await replyTo(pr.number, 'tideline unlock', 'tideline:released');
  });

  it('refuses a -var-file outside the repository', async () => {
    const pr = await h.double.openPull(REPO, { branch: 'varfile', files: { 'probe/main.tf': envDumpModule(state, dump, 'e') } });
    const reply = await replyTo(pr.number, 'tideline plan -d probe -- -var-file=/etc/passwd', 'tideline:plan');
    expect(reply).toContain('outside the repository');
    expect(reply).not.toContain('root:');
    await replyTo(pr.number, 'tideline unlock', 'tideline:released');
  });

  it('tells a plan that drift remediation holds the project, rather than naming pull #0', async () => {
    const audit = new AuditLog({ db: h.server.db, configDigest: 'test', masker: new SecretMasker() });
    const held = lockForBranch(h.server.db, audit, REPO, 'main', { dir: 'probe', workspace: 'default', kind: 'terraform' });
    expect(held.acquired).toBe(true);
    const pr = await h.double.openPull(REPO, { branch: 'during-remediation', files: { 'probe/main.tf': envDumpModule(state, dump, 'f') } });
    const reply = await replyTo(pr.number, 'tideline plan -d probe', 'tideline:error');
    expect(reply).toContain('drift remediation');
    expect(reply).not.toContain('#0');
  });
});
