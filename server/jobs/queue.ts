// The persistent job queue. Jobs live in SQLite from the moment a webhook is accepted, so a
// crash loses nothing: a job that was running when the process died is found at the next start.

import type { Db } from '../store/db.js';
import { nowIso } from '../store/db.js';
import { PAYLOAD_SCHEMAS, payloadProblem } from './payload-schema.js';
import type { JobPayload, JobType } from './types.js';


/**
 * Jobs that only carry out what was already decided (a reply, a closed pull's release) and are
 * safe to run again: a release gives back only what is still held, a reply posts only the
 * parts not yet posted. A stop puts them back in the queue instead of interrupting them, so a
 * notice about an interrupted run is not itself lost to a second restart.
 */
const REDONE_AFTER_STOP: ReadonlySet<string> = new Set<JobType>(['reply', 'release']);

export function redoneAfterStop(type: string): boolean {
  return REDONE_AFTER_STOP.has(type);
}

/**
 * A stored job this version cannot read: its payload is not JSON or its type is unknown (a
 * downgrade, a damaged row). It is never handed to a worker; it fails once, with the reason.
 */
export interface UnreadableJob {
  id: number;
  type: string;
  repo: string;
  pull: number | null;
  error: string;
}

export type JobState = 'queued' | 'running' | 'succeeded' | 'failed' | 'interrupted';

export interface Job<T extends JobType = JobType> {
  id: number;
  type: T;
  repo: string;
  pull: number | null;
  serialKey: string;
  payload: JobPayload<T>;
  state: JobState;
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
  error: string | null;
}

export interface NewJob<T extends JobType = JobType> {
  type: T;
  repo: string;
  pull: number | null;
  /** Jobs with the same serial key never run at the same time (one PR's working tree). */
  serialKey: string;
  payload: JobPayload<T>;
}

interface JobRow {
  id: number;
  type: string;
  repo: string;
  pull: number | null;
  serial_key: string;
  payload: string;
  state: JobState;
  created_at: string;
  started_at: string | null;
  finished_at: string | null;
  error: string | null;
}

export function enqueue<T extends JobType>(db: Db, job: NewJob<T>): number {
  const res = db
    .prepare(
      `INSERT INTO jobs (type, repo, pull, serial_key, payload, state, created_at)
       VALUES (?, ?, ?, ?, ?, 'queued', ?)`,
    )
    .run(job.type, job.repo, job.pull, job.serialKey, JSON.stringify(job.payload), nowIso());
  return Number(res.lastInsertRowid);
}

/**
 * Atomically moves the oldest runnable job to `running`: one UPDATE, so two workers can never
 * claim the same job, and a job waits while another job with its serial key runs. A job it
 * cannot read is marked failed in the same transaction and handed to `onUnreadable`: left
 * `running`, it would hold its serial key and fail every later start (interruptRunning).
 */
export function claimNext(db: Db, onUnreadable: (job: UnreadableJob) => void = () => {}): Job | null {
  const claim = db.prepare(
    `UPDATE jobs SET state = 'running', started_at = ?
     WHERE id = (
       SELECT q.id FROM jobs q
       WHERE q.state = 'queued'
         AND NOT EXISTS (SELECT 1 FROM jobs r WHERE r.state = 'running' AND r.serial_key = q.serial_key)
       ORDER BY q.id LIMIT 1)
     RETURNING *`,
  );
  const unreadable: UnreadableJob[] = [];
  const job = db.transaction((): Job | null => {
    for (;;) {
      const row = claim.get(nowIso()) as JobRow | undefined;
      if (row === undefined) return null;
      const read = readRow(row);
      if (read.ok) return read.job;
      finishJob(db, row.id, 'failed', read.unreadable.error);
      unreadable.push(read.unreadable);
    }
  })();
  for (const bad of unreadable) onUnreadable(bad);
  return job;
}

export function finishJob(db: Db, id: number, state: 'succeeded' | 'failed' | 'interrupted', error?: string): void {
  db.prepare(`UPDATE jobs SET state = ?, finished_at = ?, error = ? WHERE id = ?`).run(
    state,
    nowIso(),
    error ?? null,
    id,
  );
}

/**
 * Marks a job a shutdown stopped as interrupted, if it is still running: false when the stop's
 * last pass (interruptRunning) already recorded it, and told its pull request, while its handler
 * had not yet returned.
 */
export function interruptJob(db: Db, id: number, reason: string): boolean {
  const res = db.prepare(`UPDATE jobs SET state = 'interrupted', finished_at = ?, error = ? WHERE id = ? AND state = 'running'`).run(nowIso(), reason, id);
  return res.changes > 0;
}

/** Why a job whose work had ended (work-record.ts) but that never finished failed. */
export const STOPPED_AFTER_WORK = 'the server stopped after the work ended, before the job finished posting its result';

/** Why a job that had posted its whole reply (work-record.ts) but not its final status failed. */
export const STOPPED_AFTER_REPLY = 'the server stopped after the job posted its reply, before it set its final status';

/**
 * At start-up (and for jobs a shutdown could not stop): every job still `running` belonged to
 * a dead process. Replies and releases go back to the queue, in their old place; the others are
 * returned when readable, else handed to `onUnreadable`: marked interrupted, except a job whose
 * work had ended before it was posting its result (work_ended_at), which the stop cut nothing
 * short of: it failed, as one whose reply GitHub refused does (STOPPED_AFTER_WORK, or
 * STOPPED_AFTER_REPLY when only its final status was left).
 */
export function interruptRunning(db: Db, reason: string, onUnreadable: (job: UnreadableJob) => void = () => {}): Job[] {
  const marks = [...REDONE_AFTER_STOP].map(() => '?').join(',');
  const rows = db.transaction((): JobRow[] => {
    db.prepare(`UPDATE jobs SET state = 'queued', started_at = NULL WHERE state = 'running' AND type IN (${marks})`).run(...REDONE_AFTER_STOP);
    return db
      .prepare(
        `UPDATE jobs SET state = CASE WHEN work_ended_at IS NULL THEN 'interrupted' ELSE 'failed' END, finished_at = ?,
           error = CASE WHEN work_ended_at IS NULL THEN ? WHEN work_replied_at IS NULL THEN ? ELSE ? END
         WHERE state = 'running' RETURNING *`,
      )
      .all(nowIso(), reason, STOPPED_AFTER_WORK, STOPPED_AFTER_REPLY) as JobRow[];
  })();
  return readable(rows, onUnreadable);
}

/** A job a shutdown stopped that runs again at the next start (redoneAfterStop). */
export function requeueJob(db: Db, id: number): void {
  db.prepare(`UPDATE jobs SET state = 'queued', started_at = NULL WHERE id = ?`).run(id);
}

/** How many parts of its comment a reply job has posted (it may have run before a stop). */
export function partsPosted(db: Db, id: number): number {
  const row = db.prepare('SELECT parts_posted AS n FROM jobs WHERE id = ?').get(id) as { n: number } | undefined;
  return row?.n ?? 0;
}

export function recordPartsPosted(db: Db, id: number, parts: number): void {
  db.prepare('UPDATE jobs SET parts_posted = ? WHERE id = ?').run(parts, id);
}

export function getJob(db: Db, id: number): Job | null {
  const row = db.prepare('SELECT * FROM jobs WHERE id = ?').get(id) as JobRow | undefined;
  if (row === undefined) return null;
  const read = readRow(row);
  return read.ok ? read.job : null;
}

export function jobCounts(db: Db): Record<JobState, number> {
  const counts: Record<JobState, number> = { queued: 0, running: 0, succeeded: 0, failed: 0, interrupted: 0 };
  const rows = db.prepare('SELECT state, COUNT(*) AS n FROM jobs GROUP BY state').all() as {
    state: JobState;
    n: number;
  }[];
  for (const r of rows) counts[r.state] = r.n;
  return counts;
}

export function listJobs(db: Db, states: readonly JobState[], limit = 100): Job[] {
  const marks = states.map(() => '?').join(',');
  const rows = db
    .prepare(`SELECT * FROM jobs WHERE state IN (${marks}) ORDER BY id DESC LIMIT ?`)
    .all(...states, limit) as JobRow[];
  // An unreadable job failed when it was claimed, and says why in the log and on its PR.
  return readable(rows);
}

function readable(rows: readonly JobRow[], onUnreadable: (job: UnreadableJob) => void = () => {}): Job[] {
  const jobs: Job[] = [];
  for (const row of rows) {
    const read = readRow(row);
    if (read.ok) jobs.push(read.job);
    else onUnreadable(read.unreadable);
  }
  return jobs;
}

type ReadRow = { ok: true; job: Job } | { ok: false; unreadable: UnreadableJob };

function readRow(row: JobRow): ReadRow {
  const bad = (why: string): ReadRow => ({ ok: false, unreadable: { id: row.id, type: row.type, repo: row.repo, pull: row.pull, error: `this Tideline version cannot read the job: ${why}` } });
  if (!Object.hasOwn(PAYLOAD_SCHEMAS, row.type)) return bad(`unknown job type ${JSON.stringify(row.type)}`);
  const type = row.type as JobType;
  let payload: unknown;
  try {
    payload = JSON.parse(row.payload);
  } catch (err: unknown) {
    return bad(`its payload is not JSON (${err instanceof Error ? err.message : String(err)})`);
  }
  const problem = payloadProblem(type, payload);
  if (problem !== null) return bad(problem);
  return {
    ok: true,
    job: {
      id: row.id,
      type,
      repo: row.repo,
      pull: row.pull,
      serialKey: row.serial_key,
      payload: payload as JobPayload,
      state: row.state,
      createdAt: row.created_at,
      startedAt: row.started_at,
      finishedAt: row.finished_at,
      error: row.error,
    },
  };
}
