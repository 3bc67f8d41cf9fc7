// A drift sweep of one repository: fetch the default branch head (into the branch working tree,
// not a fresh clone), find every project with the same repo-config rules as pull requests, check
// them in parallel up to `parallelism`, move each one's drift state, send the alerts, and set
// `tideline/drift` on the head. A sweep never applies unless remediation is on. At most one
// sweep of a repository runs at a time: the sweep lease (a row in drift_repos, see store.ts),
// on top of the job serial key `drift:<repo>`.

import { createHash, randomUUID } from 'node:crypto';
import { join } from 'node:path';
import type { ProjectKind } from '../../runners/types.js';
import { DEFAULT_DRIFT_SETTINGS } from '../../config/drift-settings.js';
import { SERVER_ACTOR } from '../audit/index.js';
import { jobGit, refOf } from '../jobs/post.js';
import { loadProjectSetup } from '../jobs/project-setup.js';
import { mapByProjectDir } from '../jobs/run-project.js';
import { JobInterruptedError } from '../jobs/worker-pool.js';
import type { RepoInfo } from '../jobs/types.js';
import { InstallationSuspendedError } from '../github/forge.js';
import { lockKey } from '../locks/locks.js';
import { allProjects, type Project } from '../projects/index.js';
import { knownRepos } from '../store/repos.js';
import { checkoutBranch } from '../workspace/branch-checkout.js';
import type { GitContext } from '../workspace/git.js';
import { alertProject, alertStatus } from './alerts.js';
import { errorCheck, projectCheckers, type ProjectChecker } from './check-project.js';
import { slotBetween } from './schedule-math.js';
import { deleteDriftRecord, driftRecordsOfRepo, getDriftRecord, getDriftRepo, recordRepoDriftConfig, releaseSweepLease, renewSweepLease, takeSweepLease } from './store.js';
import { sweepProject, type ProjectOutcome } from './sweep-project.js';
import { DriftSweepError, type DriftDeps, type DriftState, type ProjectResult, type SweepSummary } from './types.js';

export interface SweepOptions {
  trigger: 'schedule' | 'api';
  /** Checkers by project kind, replacing the built-in ones (the Kubernetes checker plugs in here). */
  checkers?: Partial<Record<ProjectKind, ProjectChecker>>;
}

/** A lease outlives a dead holder by at most this long; a live sweep renews it every third. */
const LEASE_MS = 15 * 60_000;

/** The job serial key drift sweeps of `repo` run under. */
export function driftJobKey(repoFullName: string): string {
  return `drift:${repoFullName}`;
}

export async function runDriftSweep(deps: DriftDeps, repo: RepoInfo, opts: SweepOptions): Promise<SweepSummary> {
  const { db } = deps.ctx;
  const now = deps.now ?? ((): Date => new Date());
  const started = now();
  const owner = randomUUID();
  const until = (): string => new Date(now().getTime() + LEASE_MS).toISOString();
  if (deps.isAllowed !== undefined && !deps.isAllowed(repo.fullName)) {
    // Queued before the repository left TIDELINE_REPO_ALLOWLIST: its code is no longer run.
    deps.ctx.log.warn({ repo: repo.fullName }, 'drift sweep skipped: repository is not in TIDELINE_REPO_ALLOWLIST');
    return summary(repo, opts.trigger, started, now, { ran: false, reason: 'the repository is not in TIDELINE_REPO_ALLOWLIST', headSha: null, projects: [] });
  }
  if (!takeSweepLease(db, repo.fullName, owner, started.toISOString(), until())) {
    deps.ctx.log.info({ repo: repo.fullName }, 'drift sweep skipped: another sweep of this repository is running');
    return summary(repo, opts.trigger, started, now, { ran: false, reason: 'another sweep of this repository is running', headSha: null, projects: [] });
  }
  const renew = setInterval(() => renewSweepLease(db, repo.fullName, owner, until()), LEASE_MS / 3);
  renew.unref();
  try {
    return await sweepLeased(deps, repo, opts, started, now);
  } finally {
    clearInterval(renew);
    releaseSweepLease(db, repo.fullName, owner, now().toISOString(), opts.trigger);
  }
}

/**
 * Sweeps now, one repository after another, outside the job queue: every repository the server
 * serves, or only `repoFullName`. For tests, the demo and the CLI; the server enqueues jobs.
 */
export async function sweepNow(deps: DriftDeps, repoFullName?: string, opts: Omit<SweepOptions, 'trigger'> = {}): Promise<SweepSummary[]> {
  const repos = knownRepos(deps.ctx.db).filter((r) => repoFullName === undefined || r.fullName.toLowerCase() === repoFullName.toLowerCase());
  if (repoFullName !== undefined && repos.length === 0) {
    throw new DriftSweepError(`repository ${repoFullName} is not one this server serves: it is learned from its webhooks`);
  }
  const summaries: SweepSummary[] = [];
  for (const repo of repos) summaries.push(await runDriftSweep(deps, repo, { ...opts, trigger: 'api' }));
  return summaries;
}

async function sweepLeased(deps: DriftDeps, repo: RepoInfo, opts: SweepOptions, started: Date, now: () => Date): Promise<SweepSummary> {
  const { ctx } = deps;
  const log = ctx.log.child({ drift: repo.fullName, trigger: opts.trigger });
  const stop = (reason: string, headSha: string | null): SweepSummary => {
    log.warn({ reason }, 'drift sweep stopped');
    ctx.audit.append({ type: 'drift.check', actor: SERVER_ACTOR, repo: repo.fullName, fields: { trigger: opts.trigger, state: 'error', reason, headSha } });
    return summary(repo, opts.trigger, started, now, { ran: true, reason, headSha, projects: [] });
  };

  let git: GitContext;
  try {
    git = await jobGit(ctx, repo);
  } catch (err: unknown) {
    // A scheduled sweep meets a suspension nobody can fix by retrying: recorded, with the fix,
    // like any sweep that could not start, and the projects keep their states. The next slot
    // asks again (the forge holds the suspension, so without a token request until then).
    if (err instanceof InstallationSuspendedError) return stop(err.message, null);
    throw err;
  }
  const branch = { owner: repo.owner, name: repo.name, cloneUrl: repo.cloneUrl, branch: repo.defaultBranch };
  let root: { dir: string; headSha: string };
  try {
    root = await checkoutBranch(git, { ...branch, workspace: 'default' });
  } catch (err: unknown) {
    // Its git killed by the shutdown: the sweep was cut short, it did not find the repo broken.
    if (ctx.signal?.aborted === true) throw new JobInterruptedError('drift sweep stopped by shutdown', { cause: err });
    return stop(err instanceof Error ? err.message : String(err), null);
  }
  const { headSha } = root;
  const loaded = loadProjectSetup(ctx, repo.fullName, repo.defaultBranch, root.dir);
  if (!loaded.ok) {
    const problems = loaded.problems.map((p) => `${p.path === '' ? '' : `${p.path} `}${p.message}`).join('; ');
    const result = stop(`${loaded.file} on ${repo.defaultBranch} is invalid: ${problems}`, headSha);
    await alertStatus(deps, repo, headSha, { clean: 0, drifted: 0, error: 1, skipped: 0 });
    return result;
  }
  const setup = loaded.setup;
  const repoDrift = setup.config?.drift;
  recordRepoDriftConfig(ctx.db, repo.fullName, { schedule: repoDrift?.schedule ?? null, enabled: repoDrift?.enabled ?? null });
  if ((repoDrift?.enabled ?? setup.rules.drift.enabled ?? true) === false) {
    log.info('drift checks are disabled for this repository');
    return summary(repo, opts.trigger, started, now, { ran: true, reason: 'drift checks are disabled for this repository', headSha, projects: [] });
  }

  const projects = allProjects(root.dir, setup.config, {
    projects: setup.projects,
    defaults: setup.defaults,
    baseBranch: repo.defaultBranch,
    autodiscover: setup.rules.autodiscoverMode,
  });
  const due = opts.trigger === 'api' ? projects : projects.filter((p) => isDue(deps, repo, p, now()));
  const remediate = repoDrift?.remediate ?? setup.rules.drift.remediate ?? deps.remediate ?? DEFAULT_DRIFT_SETTINGS.remediate;
  const lockTimeout = deps.lockTimeout ?? DEFAULT_DRIFT_SETTINGS.lockTimeout;
  log.info({ head: headSha, projects: projects.length, due: due.length, remediate }, 'drift sweep started');

  // One working tree per workspace, all at the same head, prepared before any project runs.
  const trees = new Map<string, { dir: string } | { error: string }>([['default', { dir: root.dir }]]);
  for (const workspace of new Set(due.map((p) => p.workspace))) {
    if (trees.has(workspace)) continue;
    try {
      trees.set(workspace, { dir: (await checkoutBranch(git, { ...branch, workspace, sha: headSha })).dir });
    } catch (err: unknown) {
      trees.set(workspace, { error: err instanceof Error ? err.message : String(err) });
    }
  }

  const checkers = projectCheckers(opts.checkers);
  const results = await mapByProjectDir(due, ctx.parallelism, async (project): Promise<ProjectResult> => {
    const tree = trees.get(project.workspace) ?? { error: `no working tree for workspace ${project.workspace}` };
    try {
      const outcome = await sweepProject({
        input: { ctx, repo, setup, project, tree: 'dir' in tree ? tree.dir : root.dir, headSha, planFile: driftPlanFile(ctx.plansDir, repo.fullName, project, headSha), lockTimeout },
        checker: 'dir' in tree ? checkers[project.kind] : { check: async () => errorCheck(tree.error) },
        remediate,
        trigger: opts.trigger,
        now,
      });
      await alertOutcome(deps, repo, headSha, outcome);
      return resultOf(outcome);
    } catch (err: unknown) {
      if (err instanceof JobInterruptedError) throw err;
      log.error({ err, project: lockKey(repo.fullName, project) }, 'drift check of a project failed');
      return failedResult(repo, project, err);
    }
  });
  await forgetRemoved(deps, repo, headSha, projects);
  const counts = countStates(driftRecordsOfRepo(ctx.db, repo.fullName).map((r) => r.state));
  await alertStatus(deps, repo, headSha, counts);
  const done = summary(repo, opts.trigger, started, now, { ran: true, reason: null, headSha, projects: results });
  log.info({ head: headSha, counts: done.counts, ms: done.durationMs }, 'drift sweep finished');
  return done;
}

/** A scheduled sweep checks a project when its schedule (its own, else the repository's) had a slot since its last check. */
function isDue(deps: DriftDeps, repo: RepoInfo, project: Project, now: Date): boolean {
  const record = getDriftRecord(deps.ctx.db, lockKey(repo.fullName, project));
  const schedule = project.drift?.schedule ?? getDriftRepo(deps.ctx.db, repo.fullName)?.effectiveSchedule ?? null;
  if (schedule === null) return true;
  return slotBetween(schedule, record === null ? null : new Date(record.lastChecked), now);
}

async function alertOutcome(deps: DriftDeps, repo: RepoInfo, headSha: string, outcome: ProjectOutcome): Promise<void> {
  const after = getDriftRecord(deps.ctx.db, outcome.key) ?? outcome.after;
  const missingIssue = after.state === 'drifted' && after.issueNumber === null && deps.alerts.issues;
  if (outcome.transition.event === null && !missingIssue) return;
  await alertProject(deps, repo, headSha, {
    record: after,
    event: outcome.transition.event,
    previousFingerprint: outcome.before?.fingerprint ?? null,
    excerpt: outcome.excerpt,
    corrected: outcome.remediation?.result === 'applied' ? outcome.remediation.output : null,
  });
}

/** Projects gone from the default branch: their records go, and an open drift of theirs is resolved. */
async function forgetRemoved(deps: DriftDeps, repo: RepoInfo, headSha: string, projects: readonly Project[]): Promise<void> {
  const present = new Set(projects.map((p) => lockKey(repo.fullName, p)));
  for (const record of driftRecordsOfRepo(deps.ctx.db, repo.fullName)) {
    if (present.has(record.key)) continue;
    deleteDriftRecord(deps.ctx.db, record.key);
    if (record.fingerprint === null) continue;
    await alertProject(deps, repo, headSha, { record, event: 'resolved', previousFingerprint: record.fingerprint, excerpt: '', corrected: null, resolution: 'removed' });
  }
}

/** `$plansDir/_drift/<owner>/<repo>/<project-hash>-<sha>.tfplan`: the sweep's own, deleted after use. */
export function driftPlanFile(plansDir: string, repo: string, project: Project, headSha: string): string {
  const id = createHash('sha256').update(lockKey(repo, project)).digest('hex').slice(0, 16);
  return join(plansDir, '_drift', repo, `${id}-${headSha}.tfplan`);
}

function resultOf(o: ProjectOutcome): ProjectResult {
  return {
    key: o.key,
    dir: o.project.dir,
    workspace: o.project.workspace,
    name: o.project.name ?? null,
    kind: o.project.kind,
    state: o.check.state,
    reason: o.after.reason,
    event: o.transition.event,
    fingerprint: o.check.fingerprint,
    summary: o.check.summary,
    remediation: o.remediation === null || o.remediation.result === 'locked' ? null : o.remediation.result,
  };
}

function failedResult(repo: RepoInfo, project: Project, err: unknown): ProjectResult {
  const reason = err instanceof Error ? err.message : String(err);
  const base = { key: lockKey(repo.fullName, project), dir: project.dir, workspace: project.workspace, name: project.name ?? null, kind: project.kind };
  return { ...base, state: 'error', reason, event: null, fingerprint: null, summary: null, remediation: null };
}

function countStates(states: readonly DriftState[]): Record<DriftState, number> {
  const counts: Record<DriftState, number> = { clean: 0, drifted: 0, error: 0, skipped: 0 };
  for (const s of states) counts[s] += 1;
  return counts;
}

function summary(
  repo: RepoInfo,
  trigger: 'schedule' | 'api',
  started: Date,
  now: () => Date,
  part: Pick<SweepSummary, 'ran' | 'reason' | 'headSha' | 'projects'>,
): SweepSummary {
  return {
    repo: repo.fullName,
    trigger,
    ...part,
    startedAt: started.toISOString(),
    durationMs: now().getTime() - started.getTime(),
    counts: countStates(part.projects.map((p) => p.state)),
  };
}
