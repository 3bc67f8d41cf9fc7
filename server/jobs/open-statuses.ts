// The pending commit statuses of running jobs. A job records one before it sends the pending
// status and forgets it once it settles it, so a job that a killed process left running still
// names the status that the next start must settle: a required check is never pending for good.

import type { Db } from '../store/db.js';
import { nowIso } from '../store/db.js';

export interface OpenStatus {
  jobId: number;
  repo: string;
  sha: string;
  context: string;
}

export function recordOpenStatus(db: Db, status: OpenStatus): void {
  db.prepare('INSERT INTO open_statuses (job_id, repo, sha, context, opened_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT (job_id, context) DO UPDATE SET sha = excluded.sha')
    .run(status.jobId, status.repo, status.sha, status.context, nowIso());
}

export function forgetOpenStatus(db: Db, jobId: number, context: string): void {
  db.prepare('DELETE FROM open_statuses WHERE job_id = ? AND context = ?').run(jobId, context);
}

/** The open statuses of `jobId`, removed from the table: the caller settles them. */
export function takeOpenStatuses(db: Db, jobId: number): OpenStatus[] {
  return db.prepare('DELETE FROM open_statuses WHERE job_id = ? RETURNING job_id AS jobId, repo, sha, context').all(jobId) as OpenStatus[];
}
