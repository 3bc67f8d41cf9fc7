// The persistent job queue. Jobs live in SQLite from the moment a webhook is accepted, so a
// crash loses nothing: a job that was running when the process died is found at the next start.

import type { Db } from '../store/db.js';
import { nowIso } from '../store/db.js';
import type { JobPayload, JobType } from './types.js';

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
 * claim the same job, and a job waits while another job with its serial key runs.
 */
export function claimNext(db: Db): Job | null {
  const row = db
    .prepare(
      `UPDATE jobs SET state = 'running', started_at = ?
       WHERE id = (
         SELECT q.id FROM jobs q
         WHERE q.state = 'queued'
           AND NOT EXISTS (SELECT 1 FROM jobs r WHERE r.state = 'running' AND r.serial_key = q.serial_key)
         ORDER BY q.id LIMIT 1)
       RETURNING *`,
    )
    .get(nowIso()) as JobRow | undefined;
  return row === undefined ? null : fromRow(row);
}

export function finishJob(db: Db, id: number, state: 'succeeded' | 'failed' | 'interrupted', error?: string): void {
  db.prepare(`UPDATE jobs SET state = ?, finished_at = ?, error = ? WHERE id = ?`).run(
    state,
    nowIso(),
    error ?? null,
    id,
  );
}

/** At start-up: every job still `running` belonged to a dead process. Returns them. */
export function interruptRunning(db: Db, reason: string): Job[] {
  const rows = db
    .prepare(
      `UPDATE jobs SET state = 'interrupted', finished_at = ?, error = ? WHERE state = 'running' RETURNING *`,
    )
    .all(nowIso(), reason) as JobRow[];
  return rows.map(fromRow);
}

export function getJob(db: Db, id: number): Job | null {
  const row = db.prepare('SELECT * FROM jobs WHERE id = ?').get(id) as JobRow | undefined;
  return row === undefined ? null : fromRow(row);
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
  return rows.map(fromRow);
}

function fromRow(row: JobRow): Job {
  return {
    id: row.id,
    type: row.type as JobType,
    repo: row.repo,
    pull: row.pull,
    serialKey: row.serial_key,
    payload: JSON.parse(row.payload) as JobPayload,
    state: row.state,
    createdAt: row.created_at,
    startedAt: row.started_at,
    finishedAt: row.finished_at,
    error: row.error,
  };
}
