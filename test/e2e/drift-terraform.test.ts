// Drift detection end to end: a config applied from a merged pull request (the real PR loop),
// real drift made by an out-of-band `terraform apply -var …` on the same state, sweeps through
// the real terraform, git and SQLite, alerts read back from the GitHub double and from a webhook
// receiver that checks the signature itself.

import { execFileSync } from 'node:child_process';
import { createHmac, timingSafeEqual } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KubernetesRunner } from '../../runners/kubernetes.js';
import { SecretMasker } from '../../runners/secrets.js';
import { TerraformRunner } from '../../runners/terraform.js';
import { AuditLog, configDigest } from '../../server/audit/index.js';
import { driftStates, runDriftSweep, sweepNow, type DriftDeps, type DriftProjectState, type SweepSummary } from '../../server/drift/index.js';
import { createOctokitForge } from '../../server/github/octokit-forge.js';
import type { JobContext } from '../../server/jobs/context.js';
import { LiveOutput } from '../../server/jobs/live-output.js';
import { Metrics } from '../../server/metrics/index.js';
import { parseServerRepoConfig, type ServerRepoConfig } from '../../server/projects/index.js';
import { webHost } from '../../server/server.js';
import { recordTick } from '../../server/drift/store.js';
import { knownRepos, rememberRepo } from '../../server/store/repos.js';
import { CacheLocks } from '../../server/workspace/cache-lock.js';
import { startHarness, terraformProject, type Harness } from '../support/harness.js';

const REPO = 'acme/infra';
const HOOK_SECRET = 'drift-hook-secret-4471';
const BROKEN = 'resource "terraform_data" "b" {\n  input = var.missing\n}\n';

interface Received {
  event: string;
  body: { event: string; text: string; repo: string; project: { dir: string }; fingerprint: string | null };
}

/** A webhook receiver that checks X-Tideline-Signature-256 with its own HMAC code: 401 when wrong. */
async function startReceiver(secret: string): Promise<{ url: string; events: Received[]; refused: number; close: () => Promise<void> }> {
  const state = { events: [] as Received[], refused: 0 };
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks).toString('utf8');
      const expected = Buffer.from(`sha256=${createHmac('sha256', secret).update(raw).digest('hex')}`);
      const given = Buffer.from(String(req.headers['x-tideline-signature-256'] ?? ''));
      if (expected.length !== given.length || !timingSafeEqual(expected, given)) {
        state.refused += 1;
        res.writeHead(401).end();
        return;
      }
      state.events.push({ event: String(req.headers['x-tideline-event']), body: JSON.parse(raw) as Received['body'] });
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/hook`,
    get events() {
      return state.events;
    },
    get refused() {
      return state.refused;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** The JobContext the server builds, over the harness's database, double and settings. */
function driftContext(h: Harness, repoRules: ServerRepoConfig = { rules: [], workflows: {}, warnings: [] }): JobContext {
  const masker = new SecretMasker();
  for (const secret of h.settings.secrets) masker.add(secret);
  const log = pino({ level: 'silent' });
  const exec = { baseEnv: h.settings.childEnv, masker };
  return {
    db: h.server.db,
    audit: new AuditLog({ db: h.server.db, configDigest: configDigest(h.settings), masker }),
    forge: createOctokitForge({ apiUrl: h.double.url, auth: { kind: 'token', token: h.double.token }, log, retries: 0, throttle: false }),
    log,
    masker,
    exec,
    git: { root: join(h.settings.dataDir, 'repos'), baseEnv: h.settings.childEnv, masker, githubHost: webHost(h.settings.github.apiUrl), locks: new CacheLocks() },
    terraform: new TerraformRunner({ bin: h.settings.terraformBin, exec }),
    kubernetes: new KubernetesRunner({ bin: h.settings.kubectlBin, exec, cacheRoot: join(h.settings.dataDir, 'kubectl') }),
    kubectlBin: h.settings.kubectlBin,
    kube: { allowForceConflicts: false, clusters: {} },
    render: { prefix: h.settings.commandPrefix },
    plansDir: join(h.settings.dataDir, 'plans'),
    repoRules,
    metrics: new Metrics({ db: h.server.db, version: 'test', defaultMetrics: false }),
    live: new LiveOutput(),
    parallelism: 2,
    notify: () => undefined,
  };
}

/** `terraform apply -auto-approve -var v=<value>` on the project's state, from outside Tideline. */
function outOfBand(dir: string, stateFile: string, value: string): void {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'main.tf'), terraformProject(stateFile, 'one'));
  const env = { PATH: process.env['PATH'] ?? '/usr/bin:/bin', HOME: dir, TF_CLI_CONFIG_FILE: '/dev/null', TF_IN_AUTOMATION: '1' };
  execFileSync('terraform', ['init', '-input=false', '-no-color'], { cwd: dir, env, stdio: 'pipe' });
  execFileSync('terraform', ['apply', '-auto-approve', '-input=false', '-no-color', '-var', `v=${value}`], { cwd: dir, env, stdio: 'pipe' });
}

function stateValue(stateFile: string): string | undefined {
  const state = JSON.parse(readFileSync(stateFile, 'utf8')) as { resources: { instances: { attributes: { input: { value: string } } }[] }[] };
  return state.resources[0]?.instances[0]?.attributes.input.value;
}

function byDir(summary: SweepSummary | undefined, dir: string): SweepSummary['projects'][number] | undefined {
  return summary?.projects.find((p) => p.dir === dir);
}

describe('drift detection of terraform projects', () => {
  let h: Harness;
  let deps: DriftDeps;
  let receiver: Awaited<ReturnType<typeof startReceiver>>;
  let appState: string;
  let heldState: string;
  let appliedBy: number;

  function record(dir: string): DriftProjectState | undefined {
    return driftStates(h.server.db, REPO).find((p) => p.dir === dir);
  }
  function driftComments(pull: number): string[] {
    return h.double.comments(REPO, pull).filter((c) => c.user === h.double.botLogin && c.body.includes('tideline:drift')).map((c) => c.body);
  }
  function driftStatus(sha: string | null): string | undefined {
    return h.double.statuses(REPO, sha ?? '').find((s) => s.context === 'tideline/drift')?.state;
  }
  async function commentAndWait(pull: number, text: string, marker: string): Promise<string> {
    const before = h.double.comments(REPO, pull).length;
    expect((await h.double.sendComment(REPO, pull, text)).status).toBe(202);
    return h.double.waitFor(`${marker} on #${pull}`, () =>
      h.double.comments(REPO, pull).slice(before).find((c) => c.user === h.double.botLogin && c.body.includes(marker))?.body,
    );
  }
  async function sweep(): Promise<SweepSummary | undefined> {
    const [summary] = await sweepNow(deps, REPO);
    return summary;
  }

  beforeAll(async () => {
    h = await startHarness();
    appState = join(h.stateDir, 'app.tfstate');
    heldState = join(h.stateDir, 'held.tfstate');
    await h.double.createRepo(REPO, { 'README.md': '# infra\n', 'broken/main.tf': BROKEN });
    receiver = await startReceiver(HOOK_SECRET);
    deps = {
      ctx: driftContext(h),
      alerts: { issues: true, prComment: true, webhook: true, commitStatus: true },
      webhook: { url: receiver.url, secret: HOOK_SECRET },
      lockTimeout: '5s',
    };
  });
  afterAll(async () => {
    await receiver?.close();
    await h?.close();
  });

  it('applies the projects from a merged pull request', async () => {
    const pr = await h.double.openPull(REPO, {
      branch: 'add-stacks',
      files: { 'app/main.tf': terraformProject(appState, 'one'), 'held/main.tf': terraformProject(heldState, 'h1') },
      author: 'alice',
    });
    appliedBy = pr.number;
    expect((await h.double.sendPullRequestEvent(REPO, pr.number, 'opened')).status).toBe(202);
    await h.double.waitFor('autoplan', () => h.double.comments(REPO, pr.number).find((c) => c.body.includes('Ran Plan')));
    expect(await commentAndWait(pr.number, 'tideline apply', 'Ran Apply')).toContain('Apply complete!');
    await h.double.mergePull(REPO, pr.number);
    expect((await h.double.sendPullRequestEvent(REPO, pr.number, 'closed')).status).toBe(202);
    await h.double.waitFor('released', () => h.double.comments(REPO, pr.number).find((c) => c.body.includes('tideline:released')));
    await h.server.pool.idle();
    expect(stateValue(appState)).toBe('one');
    expect(knownRepos(h.server.db).map((r) => r.fullName)).toContain(REPO);
  });

  it('finds no drift in what was applied, and reports a terraform error as an error, not drift', async () => {
    const summary = await sweep();
    expect(summary?.ran).toBe(true);
    expect(byDir(summary, 'app')).toMatchObject({ state: 'clean', event: null });
    expect(byDir(summary, 'held')).toMatchObject({ state: 'clean', event: null });
    expect(byDir(summary, 'broken')).toMatchObject({ state: 'error', event: null, fingerprint: null });
    expect(byDir(summary, 'broken')?.reason).toContain('terraform plan failed');
    expect(record('broken')).toMatchObject({ state: 'error', fingerprint: null, issue: null });
    expect(h.double.issues(REPO)).toEqual([]);
    expect(receiver.events).toEqual([]);
    // An error is never drift: the status says so without failing as drift would.
    expect(driftStatus(summary?.headSha ?? null)).toBe('error');
  });

  it('reports a project locked by an open pull request as skipped', async () => {
    const pr = await h.double.openPull(REPO, { branch: 'change-held', files: { 'held/main.tf': terraformProject(heldState, 'h2') }, author: 'bob' });
    expect((await h.double.sendPullRequestEvent(REPO, pr.number, 'opened')).status).toBe(202);
    await h.double.waitFor('autoplan of held', () => h.double.comments(REPO, pr.number).find((c) => c.body.includes('Ran Plan')));
    await h.server.pool.idle();
    const summary = await sweep();
    expect(byDir(summary, 'held')).toMatchObject({ state: 'skipped', reason: `locked by #${pr.number}` });
    expect(record('held')?.state).toBe('skipped');
  });

  it('opens an issue, comments on the pull request that applied, and fails the status on out-of-band drift', async () => {
    outOfBand(join(h.dir, 'outside'), appState, 'other');
    expect(stateValue(appState)).toBe('other');
    const summary = await sweep();
    expect(byDir(summary, 'app')).toMatchObject({ state: 'drifted', event: 'detected', summary: { add: 0, change: 1, destroy: 0 } });

    const issues = h.double.issues(REPO);
    expect(issues).toHaveLength(1);
    expect(issues[0]).toMatchObject({ title: 'Drift detected: app (acme/infra)', state: 'open', labels: ['tideline-drift'] });
    expect(issues[0]?.body).toContain('0 to add, 1 to change, 0 to destroy');
    expect(issues[0]?.body).toContain('"other" -> "one"');
    expect(issues[0]?.body).toContain('Revert by hand');
    expect(issues[0]?.body).toContain('Let Tideline re-apply');
    expect(record('app')).toMatchObject({ state: 'drifted', issue: { number: issues[0]?.number } });

    const comments = driftComments(appliedBy);
    expect(comments).toHaveLength(1);
    expect(comments[0]).toContain('Drift detected in app');
    expect(comments[0]).toContain(`/issues/${issues[0]?.number}`);
    expect(driftStatus(summary?.headSha ?? null)).toBe('failure');

    expect(receiver.refused).toBe(0);
    expect(receiver.events.map((e) => [e.event, e.body.project.dir])).toEqual([['drift.detected', 'app']]);
    expect(receiver.events[0]?.body.text).toContain('Drift detected in acme/infra app');
    expect(receiver.events[0]?.body.fingerprint).toBe(record('app')?.fingerprint);
    // The state was only read: the sweep wrote nothing to it.
    expect(stateValue(appState)).toBe('other');
  });

  it('raises nothing new on a second sweep of the same drift, only moving last_seen', async () => {
    const before = record('app');
    const driftStatuses = (sha: string): number => h.double.statuses(REPO, sha).filter((s) => s.context === 'tideline/drift').length;
    const head = before?.headSha ?? '';
    const statusesBefore = driftStatuses(head);
    const summary = await sweep();
    expect(byDir(summary, 'app')).toMatchObject({ state: 'drifted', event: null });
    // GitHub keeps at most 1,000 statuses per commit and context: an unchanged default branch
    // swept every few hours would reach that in months, and its drift status would then freeze.
    expect(summary?.headSha).toBe(head);
    expect(driftStatuses(head)).toBe(statusesBefore);
    expect(h.double.issues(REPO)).toHaveLength(1);
    expect(driftComments(appliedBy)).toHaveLength(1);
    expect(receiver.events).toHaveLength(1);
    const after = record('app');
    expect(after?.fingerprint).toBe(before?.fingerprint);
    expect(after?.firstSeen).toBe(before?.firstSeen);
    expect(Date.parse(after?.lastSeen ?? '')).toBeGreaterThan(Date.parse(before?.lastSeen ?? ''));
  });

  it('closes the issue as resolved once the out-of-band change is undone', async () => {
    outOfBand(join(h.dir, 'outside'), appState, 'one');
    const summary = await sweep();
    expect(byDir(summary, 'app')).toMatchObject({ state: 'clean', event: 'resolved' });
    const [issue] = h.double.issues(REPO);
    expect(issue).toMatchObject({ state: 'closed', stateReason: 'completed' });
    expect(issue?.comments.at(-1)?.body).toContain('Resolved');
    expect(record('app')).toMatchObject({ state: 'clean', fingerprint: null, issue: null });
    expect(receiver.events.map((e) => e.event)).toEqual(['drift.detected', 'drift.resolved']);
    expect(driftComments(appliedBy).at(-1)).toContain('Drift resolved in app');
    expect(driftStatus(summary?.headSha ?? null)).not.toBe('failure');
  });

  it('audits each check and each transition', () => {
    const rows = h.server.db.prepare("SELECT type, json_extract(fields, '$.event') AS event FROM audit WHERE project = ? AND type LIKE 'drift.%' ORDER BY seq").all(`${REPO}/app/default/`) as {
      type: string;
      event: string | null;
    }[];
    expect(rows.filter((r) => r.type === 'drift.check')).toHaveLength(5);
    expect(rows.filter((r) => r.type === 'drift.transition').map((r) => r.event)).toEqual([null, 'detected', 'resolved']);
  });

  it('checks in a scheduled sweep only the projects whose schedule had a slot since their last check', async () => {
    const repo = knownRepos(h.server.db).find((r) => r.fullName === REPO);
    if (repo === undefined) throw new Error('repo not known');
    recordTick(h.server.db, REPO, '0 * * * *', new Date().toISOString(), false);
    const soon = await runDriftSweep(deps, repo, { trigger: 'schedule' });
    expect(soon.ran).toBe(true);
    expect(soon.projects).toEqual([]);
    const later = new Date(Date.now() + 2 * 3_600_000);
    const due = await runDriftSweep({ ...deps, now: () => later }, repo, { trigger: 'schedule' });
    expect(due.projects.map((p) => p.dir).sort()).toEqual(['app', 'broken', 'held']);
  });

  it('forgets a project that is gone from the default branch', async () => {
    const pr = await h.double.openPull(REPO, { branch: 'drop-broken', files: { 'broken/main.tf': null }, author: 'carol' });
    await h.double.mergePull(REPO, pr.number);
    const summary = await sweep();
    expect(summary?.projects.map((p) => p.dir).sort()).toEqual(['app', 'held']);
    expect(record('broken')).toBeUndefined();
    expect(driftStatus(summary?.headSha ?? null)).toBe('success');
  });

  it('runs at most one sweep of a repository at a time', async () => {
    const repo = knownRepos(h.server.db).find((r) => r.fullName === REPO);
    if (repo === undefined) throw new Error('repo not known');
    const results = await Promise.all([runDriftSweep(deps, repo, { trigger: 'api' }), runDriftSweep(deps, repo, { trigger: 'api' })]);
    expect(results.map((r) => r.ran).sort()).toEqual([false, true]);
    expect(results.find((r) => !r.ran)?.reason).toContain('another sweep');
    expect(h.double.violations).toEqual([]);
  });
});

describe('drift remediation and kubernetes projects', () => {
  const SELFHEAL = 'acme/selfheal';
  let h: Harness;
  let deps: DriftDeps;
  let state: string;

  beforeAll(async () => {
    h = await startHarness();
    state = join(h.stateDir, 'heal.tfstate');
    const config = [
      'version: 3',
      'projects:',
      '  - dir: app',
      '  - dir: manifests',
      '    kind: kubernetes',
      '',
    ].join('\n');
    const created = await h.double.createRepo(SELFHEAL, { 'tideline.yaml': config, 'app/main.tf': terraformProject(state, 'one'), 'manifests/app.yaml': 'kind: ConfigMap\n' });
    rememberRepo(h.server.db, { fullName: SELFHEAL, owner: 'acme', name: 'selfheal', cloneUrl: created.cloneUrl, defaultBranch: created.defaultBranch });
    const rules = parseServerRepoConfig('repos:\n  - id: acme/selfheal\n    drift: { remediate: true }\n', 'server.yaml');
    if (!rules.ok) throw new Error(JSON.stringify(rules.problems));
    deps = { ctx: driftContext(h, rules.config), alerts: { issues: true, prComment: true, webhook: true, commitStatus: true }, webhook: null };
    outOfBand(join(h.dir, 'outside'), state, 'one');
    outOfBand(join(h.dir, 'outside'), state, 'tampered');
  });
  afterAll(async () => {
    await h?.close();
  });

  it('re-applies drift when the server rule turns remediation on, and says what it corrected', async () => {
    const [summary] = await sweepNow(deps, SELFHEAL);
    expect(byDir(summary, 'app')).toMatchObject({ state: 'drifted', event: 'remediated', remediation: 'applied' });
    expect(stateValue(state)).toBe('one');
    const [issue] = h.double.issues(SELFHEAL);
    expect(issue).toMatchObject({ title: 'Drift detected: app (acme/selfheal)', state: 'closed' });
    expect(issue?.body).toContain('What Tideline corrected');
    expect(issue?.body).toContain('Apply complete!');
    const remediation = h.server.db.prepare("SELECT fields FROM audit WHERE type = 'drift.remediation'").get() as { fields: string };
    expect(JSON.parse(remediation.fields)).toMatchObject({ result: 'applied', corrected: { add: 0, change: 1, destroy: 0 } });
    expect(h.server.db.prepare('SELECT COUNT(*) AS n FROM locks').get()).toEqual({ n: 0 });
    expect(driftStates(h.server.db, SELFHEAL).find((p) => p.dir === 'app')).toMatchObject({ state: 'clean', fingerprint: null });
  });

  it('stops a sweep at an invalid repo config, saying where, and sets the status to error', async () => {
    const created = await h.double.createRepo('acme/badconfig', { 'tideline.yaml': 'version: 2\n', 'app/main.tf': terraformProject(state, 'one') });
    rememberRepo(h.server.db, { fullName: 'acme/badconfig', owner: 'acme', name: 'badconfig', cloneUrl: created.cloneUrl, defaultBranch: 'main' });
    const [summary] = await sweepNow(deps, 'acme/badconfig');
    expect(summary).toMatchObject({ ran: true, projects: [] });
    expect(summary?.reason).toContain('tideline.yaml on main is invalid: version');
    expect(h.double.statuses('acme/badconfig', created.headSha).find((s) => s.context === 'tideline/drift')?.state).toBe('error');
    expect(h.double.issues('acme/badconfig')).toEqual([]);
  });
});
