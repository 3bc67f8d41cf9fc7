// Drift rows in SQLite (migration 4): each project's last check and open drift, and per
// repository the sweep lease, the scheduler's high-water mark and what its repo config said.

import type { ChangeSummary, ProjectKind } from '../../runners/types.js';
import type { Db } from '../store/db.js';
import type { DriftProjectState, DriftState } from './types.js';

interface ProjectRow {
  project_key: string;
  repo: string;
  dir: string;
  workspace: string;
  project: string;
  kind: string;
  state: DriftState;
  reason: string | null;
  summary: string | null;
  excerpt: string | null;
  head_sha: string | null;
  schedule: string | null;
  fingerprint: string | null;
  first_seen: string | null;
  last_seen: string | null;
  issue_number: number | null;
  issue_url: string | null;
  remediated_at: string | null;
  last_checked: string;
  last_changed: string;
}

/** A project's drift record as stored: what the UI shows, with the issue as its two columns. */
export type DriftRecord = Omit<DriftProjectState, 'issue'> & { issueNumber: number | null; issueUrl: string | null };

export function getDriftRecord(db: Db, key: string): DriftRecord | null {
  const row = db.prepare('SELECT * FROM drift_projects WHERE project_key = ?').get(key) as ProjectRow | undefined;
  return row === undefined ? null : fromRow(row);
}

export function driftRecordsOfRepo(db: Db, repo: string): DriftRecord[] {
  return (db.prepare('SELECT * FROM drift_projects WHERE repo = ? ORDER BY project_key').all(repo) as ProjectRow[]).map(fromRow);
}

/** Writes a project's record whole (insert or replace). */
export function saveDriftRecord(db: Db, r: DriftRecord): void {
  db.prepare(
    `INSERT INTO drift_projects (project_key, repo, dir, workspace, project, kind, state, reason, summary, excerpt, head_sha, schedule,
       fingerprint, first_seen, last_seen, issue_number, issue_url, remediated_at, last_checked, last_changed)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
     ON CONFLICT (project_key) DO UPDATE SET
       kind = excluded.kind, state = excluded.state, reason = excluded.reason, summary = excluded.summary, excerpt = excluded.excerpt,
       head_sha = excluded.head_sha, schedule = excluded.schedule, fingerprint = excluded.fingerprint, first_seen = excluded.first_seen,
       last_seen = excluded.last_seen, issue_number = excluded.issue_number, issue_url = excluded.issue_url,
       remediated_at = excluded.remediated_at, last_checked = excluded.last_checked, last_changed = excluded.last_changed`,
  ).run(
    r.key,
    r.repo,
    r.dir,
    r.workspace,
    r.name ?? '',
    r.kind,
    r.state,
    r.reason,
    r.summary === null ? null : JSON.stringify(r.summary),
    r.excerpt,
    r.headSha,
    r.schedule,
    r.fingerprint,
    r.firstSeen,
    r.lastSeen,
    r.issueNumber,
    r.issueUrl,
    r.remediatedAt,
    r.lastChecked,
    r.lastChanged,
  );
}

export function deleteDriftRecord(db: Db, key: string): void {
  db.prepare('DELETE FROM drift_projects WHERE project_key = ?').run(key);
}

export function setDriftIssue(db: Db, key: string, issue: { number: number; url: string } | null): void {
  db.prepare('UPDATE drift_projects SET issue_number = ?, issue_url = ? WHERE project_key = ?').run(issue?.number ?? null, issue?.url ?? null, key);
}

/** Every project's drift state, for the UI and `GET /api/drift`; one repository's with `repo`. */
export function driftStates(db: Db, repo?: string): DriftProjectState[] {
  const rows = (
    repo === undefined
      ? db.prepare('SELECT * FROM drift_projects ORDER BY repo, project_key').all()
      : db.prepare('SELECT * FROM drift_projects WHERE repo = ? ORDER BY project_key').all(repo)
  ) as ProjectRow[];
  return rows.map((row) => {
    const { issueNumber, issueUrl, ...state } = fromRow(row);
    return { ...state, issue: issueNumber === null ? null : { number: issueNumber, url: issueUrl } };
  });
}

// ---- per repository ----

export interface DriftRepoRow {
  repo: string;
  /** The schedule the scheduler last used for the repository (cron, or `off`). */
  effectiveSchedule: string | null;
  /** `drift.schedule` of the repo config at the last sweep (where the server allows it). */
  configSchedule: string | null;
  /** `drift.enabled` of the repo config at the last sweep; null when unset. */
  configEnabled: boolean | null;
  /** Scheduler: every slot up to this instant has been handled. */
  lastTick: string | null;
  lastEnqueued: string | null;
  lastSweepStarted: string | null;
  lastSweepEnded: string | null;
}

interface RepoRow {
  repo: string;
  effective_schedule: string | null;
  config_schedule: string | null;
  config_enabled: number | null;
  last_tick: string | null;
  last_enqueued: string | null;
  last_sweep_started: string | null;
  last_sweep_ended: string | null;
}

export function getDriftRepo(db: Db, repo: string): DriftRepoRow | null {
  const row = db.prepare('SELECT * FROM drift_repos WHERE repo = ?').get(repo) as RepoRow | undefined;
  if (row === undefined) return null;
  return {
    repo: row.repo,
    effectiveSchedule: row.effective_schedule,
    configSchedule: row.config_schedule,
    configEnabled: row.config_enabled === null ? null : row.config_enabled === 1,
    lastTick: row.last_tick,
    lastEnqueued: row.last_enqueued,
    lastSweepStarted: row.last_sweep_started,
    lastSweepEnded: row.last_sweep_ended,
  };
}

function ensureRepoRow(db: Db, repo: string): void {
  db.prepare('INSERT INTO drift_repos (repo) VALUES (?) ON CONFLICT (repo) DO NOTHING').run(repo);
}

/** What the repo config said about drift at this sweep (null: not set there). */
export function recordRepoDriftConfig(db: Db, repo: string, config: { schedule: string | null; enabled: boolean | null }): void {
  ensureRepoRow(db, repo);
  db.prepare('UPDATE drift_repos SET config_schedule = ?, config_enabled = ? WHERE repo = ?').run(
    config.schedule,
    config.enabled === null ? null : config.enabled ? 1 : 0,
    repo,
  );
}

/**
 * Scheduler bookkeeping: slots of `schedule` up to `tick` are handled; `enqueued` when a sweep
 * was queued for them.
 */
export function recordTick(db: Db, repo: string, schedule: string, tick: string, enqueued: boolean): void {
  ensureRepoRow(db, repo);
  db.prepare(`UPDATE drift_repos SET effective_schedule = ?, last_tick = ?${enqueued ? ', last_enqueued = ?' : ''} WHERE repo = ?`).run(
    ...(enqueued ? [schedule, tick, tick, repo] : [schedule, tick, repo]),
  );
}

/** Distinct drift schedules projects of `repo` declare (repo config), as of their last check. */
export function projectSchedules(db: Db, repo: string): string[] {
  const rows = db.prepare('SELECT DISTINCT schedule FROM drift_projects WHERE repo = ? AND schedule IS NOT NULL').all(repo) as { schedule: string }[];
  return rows.map((r) => r.schedule);
}

/**
 * Takes the sweep lease of `repo` for `owner` until `until`, with one conditional UPDATE: it
 * succeeds only when no lease is held or the held one expired (its process died). True when taken.
 */
export function takeSweepLease(db: Db, repo: string, owner: string, now: string, until: string): boolean {
  ensureRepoRow(db, repo);
  const res = db
    .prepare('UPDATE drift_repos SET lease_owner = ?, lease_until = ?, last_sweep_started = ? WHERE repo = ? AND (lease_owner IS NULL OR lease_until < ?)')
    .run(owner, until, now, repo, now);
  return res.changes === 1;
}

export function renewSweepLease(db: Db, repo: string, owner: string, until: string): void {
  db.prepare('UPDATE drift_repos SET lease_until = ? WHERE repo = ? AND lease_owner = ?').run(until, repo, owner);
}

export function releaseSweepLease(db: Db, repo: string, owner: string, now: string, trigger: string): void {
  db.prepare('UPDATE drift_repos SET lease_owner = NULL, lease_until = NULL, last_sweep_ended = ?, last_sweep_trigger = ? WHERE repo = ? AND lease_owner = ?').run(
    now,
    trigger,
    repo,
    owner,
  );
}

function fromRow(row: ProjectRow): DriftRecord {
  return {
    key: row.project_key,
    repo: row.repo,
    dir: row.dir,
    workspace: row.workspace,
    name: row.project === '' ? null : row.project,
    kind: row.kind as ProjectKind,
    state: row.state,
    reason: row.reason,
    summary: row.summary === null ? null : (JSON.parse(row.summary) as ChangeSummary),
    excerpt: row.excerpt,
    headSha: row.head_sha,
    schedule: row.schedule,
    fingerprint: row.fingerprint,
    firstSeen: row.first_seen,
    lastSeen: row.last_seen,
    issueNumber: row.issue_number,
    issueUrl: row.issue_url,
    remediatedAt: row.remediated_at,
    lastChecked: row.last_checked,
    lastChanged: row.last_changed,
  };
}
