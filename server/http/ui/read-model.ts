// What the web UI reads from the store, shaped for the pages: locks, jobs, audit events, drift.

import { recordFromRow, type AuditRow } from '../../audit/record.js';
import type { AuditRecord } from '../../audit/types.js';
import { jobCounts, listJobs, type Job, type JobState } from '../../jobs/queue.js';
import { listLocks, type Lock } from '../../locks/locks.js';
import type { Db } from '../../store/db.js';

/** A project's drift state as the drift module reports it (see `UiContext.driftStates`). */
export interface DriftRow {
  repo: string;
  project: string;
  dir: string;
  workspace: string;
  state: string;
  since: string;
  lastSeen: string;
}

export interface Overview {
  locks: Lock[];
  running: Job[];
  queued: Job[];
  /** The latest finished jobs, so a run that just ended is one click away. */
  recent: Job[];
  counts: Record<JobState, number>;
  drift: DriftRow[];
  audit: AuditRecord[];
}

/** Rows of each job list shown; the counts above them are exact. */
export const JOB_ROWS = 100;
export const RECENT_ROWS = 20;
export const AUDIT_ROWS = 50;

/** The newest `limit` audit records, newest first. */
export function latestAudit(db: Db, limit: number): AuditRecord[] {
  const rows = db.prepare('SELECT * FROM audit ORDER BY seq DESC LIMIT ?').all(limit) as AuditRow[];
  return rows.map(recordFromRow);
}

export function readOverview(db: Db, drift: () => DriftRow[]): Overview {
  return {
    locks: listLocks(db),
    // Oldest first: the order they will run in, and the longest-running on top.
    running: listJobs(db, ['running'], JOB_ROWS).reverse(),
    queued: listJobs(db, ['queued'], JOB_ROWS).reverse(),
    recent: listJobs(db, ['succeeded', 'failed', 'interrupted'], RECENT_ROWS),
    counts: jobCounts(db),
    drift: drift(),
    audit: latestAudit(db, AUDIT_ROWS),
  };
}

/** `plan -d app -w staging`, `release (merged)`, `reply`: what a job does, in a few words. */
export function describeJob(job: Job): string {
  if (job.type === 'command') {
    const { command, autoplan } = (job as Job<'command'>).payload;
    const parts: string[] = [command.name];
    if (command.selector.project !== undefined) parts.push('-p', command.selector.project);
    if (command.selector.dir !== undefined) parts.push('-d', command.selector.dir);
    if (command.selector.workspace !== undefined) parts.push('-w', command.selector.workspace);
    if (command.extraArgs.length > 0) parts.push('--', ...command.extraArgs);
    return autoplan === true ? `${parts.join(' ')} (autoplan)` : parts.join(' ');
  }
  if (job.type === 'release') return (job as Job<'release'>).payload.merged ? 'release (merged)' : 'release (closed)';
  return job.type;
}

/** Who asked for a job, when the job says. */
export function jobActor(job: Job): string | null {
  if (job.type === 'command') return (job as Job<'command'>).payload.actor;
  if (job.type === 'release') return (job as Job<'release'>).payload.actor;
  return null;
}

/** True once a job will not run any more. */
export function isFinished(state: JobState): boolean {
  return state === 'succeeded' || state === 'failed' || state === 'interrupted';
}

/** `3 min`, `2 h 5 min`, `4 d`: how long ago an ISO instant was, for tables. */
export function age(iso: string, now: Date): string {
  const ms = now.getTime() - Date.parse(iso);
  if (!Number.isFinite(ms)) return '';
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s} s`;
  const min = Math.floor(s / 60);
  if (min < 60) return `${min} min`;
  const h = Math.floor(min / 60);
  if (h < 48) return min % 60 === 0 ? `${h} h` : `${h} h ${min % 60} min`;
  return `${Math.floor(h / 24)} d`;
}
