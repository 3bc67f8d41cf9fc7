// Builds a running server from settings: store, forge, runners, worker pool, HTTP. main.ts
// calls it for production; the tests, the demo and the benchmark call it in-process.

import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { mkdirSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { pino, type Logger } from 'pino';
import { terraformPluginCacheDir } from '../config/child-env.js';
import { allowlisted } from '../config/repo-glob.js';
import type { Settings } from '../config/settings.js';
import { SecretMasker } from '../runners/secrets.js';
import { KubernetesRunner } from '../runners/kubernetes.js';
import { TerraformRunner } from '../runners/terraform.js';
import { auditWebhookSink, AuditLog, configDigest, pruneAudit, SERVER_ACTOR, type AuditWebhookSink } from './audit/index.js';
import { renderUnreadableJob } from './comments/index.js';
import type { Forge } from './github/forge.js';
import { createOctokitForge } from './github/octokit-forge.js';
import { createApp } from './http/app.js';
import { pullKey } from './http/route-event.js';
import type { JobContext } from './jobs/context.js';
import { jobHandlers } from './jobs/handlers.js';
import { enqueue, type Job, type UnreadableJob } from './jobs/queue.js';
import { takeOpenStatuses } from './jobs/open-statuses.js';
import { jobUrl } from './jobs/post.js';
import { stoppedNotice } from './jobs/stopped-notice.js';
import { readWorkRecord } from './jobs/work-record.js';
import { driftJobKey, driftStates, serverRuleSchedule, startDriftScheduler, type DriftDeps } from './drift/index.js';
import { LiveOutput } from './jobs/live-output.js';
import { Metrics } from './metrics/index.js';
import { WorkerPool } from './jobs/worker-pool.js';
import { loadServerFileConfig, type ServerFileConfig } from './file-config.js';
import { recoverDriftAfterRestart } from './drift/recovery.js';
import { startWalCheckpointer } from './store/checkpointer.js';
import { openDb, type Db } from './store/db.js';
import { knownRepos, type KnownRepo } from './store/repos.js';
import { readVersion } from './version.js';
import { CacheLocks } from './workspace/cache-lock.js';
import { requireGit } from './workspace/git-version.js';
import { probeToolVersions, type ToolName } from '../runners/tool-versions.js';
import { RefusalAudit } from './http/refusal-audit.js';
import { webHostNames } from './http/ui/index.js';
import { lockDataDir, type DataDirLock } from './store/data-dir-lock.js';
import { repairCaches } from './workspace/git.js';

/** What a missing terraform or kubectl stops working, and the fix, for the start-up warning. */
const MISSING_TOOL: Record<ToolName, { fails: string; fix: string }> = {
  terraform: { fails: 'plan, apply and drift checks of Terraform projects', fix: 'install terraform on the PATH, or set TIDELINE_TERRAFORM_BIN to its path' },
  kubectl: { fails: 'plan, apply and drift checks of Kubernetes projects', fix: 'install kubectl on the PATH, or set TIDELINE_KUBECTL_BIN to its path' },
};

export interface StartOptions {
  settings: Settings;
  /** Interface to listen on; default all interfaces (a container's port mapping needs that). */
  host?: string;
  log?: Logger;
  /** Stand-in for GitHub; default the Octokit forge on `settings.github`. */
  forge?: Forge;
  /** Retries of failed GitHub requests; tests lower it. */
  githubRetries?: number;
  /** Pace writes to GitHub as it asks of integrations; default on, off for the sandbox double. */
  githubThrottle?: boolean;
  /** The TIDELINE_CONFIG file's repo rules and clusters; default: read from `settings.configFile`. */
  fileConfig?: ServerFileConfig;
}

export interface RunningServer {
  url: string;
  db: Db;
  pool: WorkerPool;
  log: Logger;
  version: string;
  live: LiveOutput;
  metrics: Metrics;
  /** Stops HTTP, drains the pool (running jobs finish up to `timeoutMs`), closes the store. */
  close(timeoutMs?: number): Promise<{ interrupted: Job[] }>;
}

export async function startServer(opts: StartOptions): Promise<RunningServer> {
  const dirLock = lockDataDir(opts.settings.dataDir);
  try {
    return await startLocked(opts, dirLock);
  } catch (err: unknown) {
    dirLock.release();
    throw err;
  }
}

async function startLocked(opts: StartOptions, dirLock: DataDirLock): Promise<RunningServer> {
  const { settings } = opts;
  const version = readVersion();
  const masker = new SecretMasker();
  for (const secret of settings.secrets) masker.add(secret);
  const log = opts.log ?? pino({ level: settings.logLevel, base: { service: 'tideline' }, hooks: { streamWrite: (s) => masker.mask(s) } });

  const fileConfig = opts.fileConfig ?? loadServerFileConfig(settings.configFile);
  // Atlantis keys the server config may hold but Tideline does not act on: said once at start-up,
  // where the operator who wrote them looks, rather than dropped.
  for (const warning of fileConfig.repoRules.warnings) log.warn({ file: settings.configFile, warning }, 'server config key ignored');
  const [gitVersion, { versions: toolVersions, missing: missingTools, terraformDistribution }] = await Promise.all([
    requireGit({ baseEnv: settings.childEnv, masker }),
    probeToolVersions({ baseEnv: settings.childEnv, masker }, { terraform: settings.terraformBin, kubectl: settings.kubectlBin }),
  ]);
  // config/ refuses a binary set explicitly that cannot run, so what is missing here is normally a
  // default, and may be on purpose (a Kubernetes-only install has no terraform): a warning naming
  // what will fail, not a refusal to start.
  for (const tool of missingTools) log.warn({ tool, bin: tool === 'terraform' ? settings.terraformBin : settings.kubectlBin, ...MISSING_TOOL[tool] }, 'tool not found: its projects will fail');
  const repaired = await repairCaches(join(settings.dataDir, 'repos'));
  if (repaired.length > 0) log.warn({ trees: repaired }, 'removed working trees a killed `git worktree add` left half-made; the next run makes them again');
  const db = openDb({ dataDir: settings.dataDir });
  // Checkpoints run in a worker thread, so a webhook never waits for one (store/checkpointer.ts).
  const checkpointer = startWalCheckpointer(db, { onProblem: (problem) => log.warn({ problem }, 'WAL checkpoint worker problem') });
  mkdirSync(join(settings.dataDir, 'kubectl'), { recursive: true });
  const pluginCacheDir = terraformPluginCacheDir(settings.childEnv, settings.dataDir);
  if (pluginCacheDir !== null) mkdirSync(pluginCacheDir, { recursive: true });
  const digest = configDigest(settings);
  const sink: AuditWebhookSink | null =
    settings.audit.webhook === null ? null : auditWebhookSink({ url: settings.audit.webhook.url, secret: settings.audit.webhook.secret, log });
  const audit = new AuditLog({ db, configDigest: digest, masker, ...(sink === null ? {} : { onAppend: (r) => sink.send(r) }) });
  const forge =
    opts.forge ??
    createOctokitForge({
      apiUrl: settings.github.apiUrl,
      auth: settings.github.auth.kind === 'token' ? settings.github.auth : { kind: 'app', appId: settings.github.auth.appId, privateKey: settings.github.auth.privateKey },
      log,
      userAgent: `tideline/${version}`,
      ...(opts.githubRetries === undefined ? {} : { retries: opts.githubRetries }),
      ...(opts.githubThrottle === undefined ? {} : { throttle: opts.githubThrottle }),
      // A suspended App can post nothing to the pull requests: the audit log (and its webhook)
      // is where the operator learns it, once per suspension, beside each failed job's error.
      onSuspended: (repo, s) =>
        audit.append({
          type: 'installation.suspended',
          actor: SERVER_ACTOR,
          repo,
          fields: { installationId: s.installationId, account: s.account, suspendedAt: s.suspendedAt, suspendedBy: s.suspendedBy, fix: 'an owner of the account unsuspends the App under Settings → GitHub Apps → Configure' },
        }),
    });
  const botLogin = await forge.whoami();
  const render = { prefix: settings.commandPrefix, ...(settings.publicUrl === null ? {} : { serverUrl: settings.publicUrl }) };
  const live = new LiveOutput();
  const metrics = new Metrics({ db, version, driftStates: () => driftStates(db) });
  // Aborted first thing on close: ends the UI's open live-output streams.
  const shutdown = new AbortController();
  const exec = { baseEnv: settings.childEnv, masker };
  const ctx: JobContext = {
    db,
    audit,
    forge,
    log,
    masker,
    exec,
    git: { root: join(settings.dataDir, 'repos'), baseEnv: settings.childEnv, masker, githubHost: webHost(settings.github.apiUrl), locks: new CacheLocks(), onRequest: (request, result, seconds) => metrics.gitRequest(request, result, seconds) },
    terraform: new TerraformRunner({ bin: settings.terraformBin, exec, lockTimeout: fileConfig.drift.lockTimeout, ...(pluginCacheDir === null ? {} : { pluginCacheDir }) }),
    kubernetes: new KubernetesRunner({ bin: settings.kubectlBin, exec, cacheRoot: join(settings.dataDir, 'kubectl') }),
    kubectlBin: settings.kubectlBin,
    kube: fileConfig.kube,
    render,
    plansDir: join(settings.dataDir, 'plans'),
    terraformDistribution,
    repoRules: fileConfig.repoRules,
    live,
    metrics,
    parallelism: settings.parallelism,
    allowForkPulls: settings.allowForkPulls,
    failOnPreWorkflowHookError: settings.failOnPreWorkflowHookError,
    notify: () => pool.notify(),
  };
  const driftDeps: Omit<DriftDeps, 'ctx'> = {
    alerts: fileConfig.drift.alerts,
    lockTimeout: fileConfig.drift.lockTimeout,
    remediate: fileConfig.drift.remediate,
    isAllowed: (repo) => allowlisted(repo, settings.repoAllowlist),
    webhook: settings.driftWebhookUrl !== null && settings.driftWebhookSecret !== null ? { url: settings.driftWebhookUrl, secret: settings.driftWebhookSecret } : null,
  };
  const enqueueDrift = (repo: KnownRepo, trigger: 'schedule' | 'api'): void => {
    const info = { owner: repo.owner, name: repo.name, fullName: repo.fullName, cloneUrl: repo.cloneUrl, defaultBranch: repo.defaultBranch };
    enqueue(db, { type: 'drift', repo: repo.fullName, pull: null, serialKey: driftJobKey(repo.fullName), payload: { repo: info, trigger } });
  };
  const runDriftNow = (repoFullName?: string): number => {
    const repos = knownRepos(db).filter((r) => allowlisted(r.fullName, settings.repoAllowlist) && (repoFullName === undefined || r.fullName.toLowerCase() === repoFullName.toLowerCase()));
    for (const repo of repos) enqueueDrift(repo, 'api');
    pool.notify();
    return repos.length;
  };
  const pool = new WorkerPool({
    db,
    parallelism: settings.parallelism,
    handlers: jobHandlers(ctx, driftDeps),
    log,
    onInterrupted: (job) => tellInterrupted(ctx, job),
    onUnreadable: (job) => tellUnreadable(ctx, job),
  });

  // Before any job runs: what a dead process left running is marked and its pull request told.
  pool.tellLeftRunning('the server stopped while the job ran');
  recoverDriftAfterRestart(db, audit, log);

  const refusals = new RefusalAudit(audit);
  const app = createApp({
    db,
    audit,
    refusals,
    log,
    version,
    apiSecret: settings.apiSecret,
    secret: settings.webhookSecret,
    metrics,
    ui: {
      db,
      audit,
      live,
      log,
      web: settings.web,
      hosts: webHostNames(settings.publicUrl, settings.webHosts),
      version,
      csrfSecret: randomBytes(32).toString('hex'),
      commandPrefix: settings.commandPrefix,
      notify: () => pool.notify(),
      signal: shutdown.signal,
      driftStates: () =>
        driftStates(db).map((d) => ({ repo: d.repo, project: d.name ?? d.dir, dir: d.dir, workspace: d.workspace, state: d.state, since: d.lastChanged, lastSeen: d.lastSeen ?? d.lastChecked })),
    },
    drift: { runNow: runDriftNow },
    notify: () => pool.notify(),
    onInstallationChange: (change) => forge.forgetInstallations?.(change),
    route: {
      prefix: settings.commandPrefix,
      botLogin,
      version,
      tools: { ...toolVersions, git: gitVersion },
      render,
      isAllowed: (repo) => allowlisted(repo, settings.repoAllowlist),
      allowForkPulls: settings.allowForkPulls,
    },
  });
  const server: Server = app.listen(settings.port, opts.host ?? '0.0.0.0');
  try {
    await once(server, 'listening');
  } catch (err: unknown) {
    await checkpointer?.stop();
    db.close();
    // Node's "listen EADDRINUSE: address already in use 0.0.0.0:4141" names neither the setting nor the fix.
    const code = err instanceof Error && 'code' in err ? err.code : undefined;
    if (code === 'EADDRINUSE') throw new Error(`TIDELINE_PORT ${settings.port} is in use by another process: stop that process, or set TIDELINE_PORT to a free port`);
    throw err;
  }
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  const url = `http://${host === '0.0.0.0' ? '127.0.0.1' : host}:${address.port}`;
  pool.start();
  const scheduler = startDriftScheduler({
    db,
    schedule: settings.driftSchedule,
    perRepo: serverRuleSchedule(fileConfig.repoRules, webHost(settings.github.apiUrl)),
    isAllowed: (repo) => allowlisted(repo, settings.repoAllowlist),
    enqueue: (repo, trigger) => {
      enqueueDrift(repo, trigger);
      setImmediate(() => pool.notify());
    },
    log,
  });
  audit.append({ type: 'server.start', actor: SERVER_ACTOR, fields: { version, configDigest: digest, botLogin, parallelism: settings.parallelism } });
  const retention = startRetention(audit, db, settings.audit.retentionDays, log);
  log.info({ version, url, botLogin, parallelism: settings.parallelism, configDigest: digest, git: gitVersion, terraform: toolVersions.terraform, kubectl: toolVersions.kubectl, pluginCacheDir }, 'tideline started');

  return {
    url,
    db,
    pool,
    log,
    version,
    live,
    metrics,
    async close(timeoutMs = settings.shutdownTimeoutSeconds * 1000): Promise<{ interrupted: Job[] }> {
      shutdown.abort();
      scheduler.stop();
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      // Running applies (and drift sweeps, which may be remediating) may finish, up to the
      // timeout; plans and everything else stop now.
      const drained = await pool.drain(timeoutMs, (job) => job.type === 'drift' || (job.type === 'command' && (job as Job<'command'>).payload.command.name === 'apply'));
      await closed;
      if (retention !== null) clearInterval(retention);
      refusals.flush();
      audit.append({ type: 'server.stop', actor: SERVER_ACTOR, fields: { version, configDigest: digest, interruptedJobs: drained.interrupted.map((j) => j.id) } });
      await sink?.flush();
      await checkpointer?.stop();
      db.close();
      dirLock.release();
      log.info({ interrupted: drained.interrupted.length }, 'tideline stopped');
      return drained;
    },
  };
}

/** With a retention period, prunes old audit records at start and then daily. */
function startRetention(audit: AuditLog, db: Db, days: number | null, log: Logger): NodeJS.Timeout | null {
  if (days === null) return null;
  const prune = (): void => {
    try {
      const { pruned } = pruneAudit(audit, db, days);
      if (pruned > 0) log.info({ pruned, days }, 'pruned old audit records');
    } catch (err: unknown) {
      log.error({ err }, 'audit retention failed');
    }
  };
  prune();
  const timer = setInterval(prune, 24 * 3600_000);
  timer.unref();
  return timer;
}

/**
 * Each job a stop left unfinished (left running by a dead process, or stopped by a shutdown): a
 * reply is queued for its PR saying what it had done, by its work record (an apply that ran is
 * not called interrupted), and how to re-run what it had not, with any status the job left
 * pending, to be settled to match. Queued, it goes out at the next start at the latest.
 */
function tellInterrupted(ctx: JobContext, job: Job): void {
  if (job.type !== 'command') return;
  const payload = (job as Job<'command'>).payload;
  ctx.log.warn({ job: job.id, repo: payload.repo.fullName, pull: payload.pull, state: job.state }, 'job stopped before it finished');
  // Its pending status goes with the notice, taken in the same transaction as the notice is queued.
  ctx.db.transaction(() => {
    // The stopped job's page keeps its output up to the stop: the statuses and the notice link it.
    const page = jobUrl({ render: ctx.render, jobId: job.id });
    const link = page === undefined ? {} : { targetUrl: page };
    // What the job recorded of its work decides what the PR is told: a run whose work had
    // ended is reported as it ran, and its status settled as it came out (stopped-notice.ts).
    const notice = stoppedNotice(ctx.render, payload.command.name, readWorkRecord(ctx.db, job.id), page);
    const settle = takeOpenStatuses(ctx.db, job.id).map((s) => ({ sha: s.sha, context: s.context, ...notice.status(s.context), ...link }));
    // A job whose reply was posted leaves at most its statuses to set.
    if (notice.body === null && settle.length === 0) return;
    enqueue(ctx.db, {
      type: 'reply',
      repo: payload.repo.fullName,
      pull: payload.pull,
      serialKey: pullKey(payload.repo, payload.pull),
      payload: { repo: payload.repo, pull: payload.pull, ...(notice.body === null ? {} : { body: notice.body }), ...(settle.length === 0 ? {} : { settle }) },
    });
  })();
}

/**
 * A job this version cannot read failed without running: its pull request is told once, by a
 * reply job (readable by construction), so nobody waits on a command that will never run.
 */
function tellUnreadable(ctx: JobContext, job: UnreadableJob): void {
  if (job.pull === null) return;
  const known = knownRepos(ctx.db).find((r) => r.fullName === job.repo);
  if (known === undefined) return;
  const repo = { owner: known.owner, name: known.name, fullName: known.fullName, cloneUrl: known.cloneUrl, defaultBranch: known.defaultBranch };
  enqueue(ctx.db, { type: 'reply', repo: repo.fullName, pull: job.pull, serialKey: pullKey(repo, job.pull), payload: { repo, pull: job.pull, body: renderUnreadableJob(ctx.render) } });
}

/** `https://api.github.com` → `github.com`; GitHub Enterprise `https://ghe.corp/api/v3` → `ghe.corp`. */
export function webHost(apiUrl: string): string {
  const host = new URL(apiUrl).hostname;
  return host.startsWith('api.') ? host.slice(4) : host;
}
