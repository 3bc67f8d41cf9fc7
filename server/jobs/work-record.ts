// What a plan or apply job has done so far, kept on its row as it goes (migration 11): the
// projects an apply set out to apply, each one's result the moment it has one, and the moment
// the run's work ended, written before its reply is posted. A process killed after that (or a
// shutdown whose timeout ran out while the reply was still going) leaves the next start a
// true account for the pull request, instead of "interrupted while it ran: plan again".

import { z } from 'zod';
import type { Project } from '../projects/types.js';
import type { Db } from '../store/db.js';
import { nowIso } from '../store/db.js';

/** `stopped`: the stop cut it short (its terraform was killed, or never started). */
export type ProjectResult = 'applied' | 'failed' | 'stopped';

/** The part of a project a notice names it by, and re-runs it with. */
export type RecordedProjectRef = Pick<Project, 'dir' | 'workspace' | 'kind'> & { name?: string };

export interface RecordedProject {
  key: string;
  project: RecordedProjectRef;
  /** Null while it had not finished: a project the stop found waiting or running. */
  result: ProjectResult | null;
}

export interface WorkRecord {
  /** An apply's projects, in the order it set out to apply them; empty for a plan. */
  projects: readonly RecordedProject[];
  /** When the run's work ended and its reply was about to be posted; null if it never did. */
  endedAt: string | null;
  /** The line its reply begins with, e.g. "1/1 projects planned successfully". */
  summary: string | null;
  /** The final status the run set or would set; null if its work never ended (or before migration 12). */
  outcome: WorkOutcome | null;
  /** When its whole reply was posted: the pull request was told everything but the final status. */
  repliedAt: string | null;
}

export type WorkOutcome = 'success' | 'failure';

/** The projects of an apply that a stop cut short: stopped, or not finished at all. */
export function cutShort(record: WorkRecord): RecordedProject[] {
  return record.projects.filter((p) => p.result === null || p.result === 'stopped');
}

/** Where a job's record goes: the job's id, absent outside a job (then nothing is kept). */
export interface RecordTarget {
  db: Db;
  jobId?: number;
}

function refOf(project: Project): RecordedProjectRef {
  const ref: RecordedProjectRef = { dir: project.dir, workspace: project.workspace, kind: project.kind };
  if (project.name !== undefined) ref.name = project.name;
  return ref;
}

/** An apply is about to apply `projects` (keyed by lock key): none has a result yet. */
export function recordApplying(t: RecordTarget, projects: readonly { key: string; project: Project }[]): void {
  if (t.jobId === undefined) return;
  const list: RecordedProject[] = projects.map((p) => ({ key: p.key, project: refOf(p.project), result: null }));
  t.db.prepare('UPDATE jobs SET work_projects = ? WHERE id = ?').run(JSON.stringify(list), t.jobId);
}

/** One project of an apply has its result; read-modify-write in one transaction. */
export function recordProjectResult(t: RecordTarget, key: string, result: ProjectResult): void {
  const { jobId } = t;
  if (jobId === undefined) return;
  t.db.transaction(() => {
    const list = [...(readWorkRecord(t.db, jobId)?.projects ?? [])];
    const entry = list.find((p) => p.key === key);
    if (entry === undefined) return;
    entry.result = result;
    t.db.prepare('UPDATE jobs SET work_projects = ? WHERE id = ?').run(JSON.stringify(list), jobId);
  })();
}

/**
 * The run's work is over, `summary` is what its reply says and `outcome` the final status it
 * sets: written before the reply goes.
 */
export function recordWorkEnded(t: RecordTarget, summary: string, outcome: WorkOutcome): void {
  if (t.jobId === undefined) return;
  t.db.prepare('UPDATE jobs SET work_ended_at = ?, work_summary = ?, work_outcome = ? WHERE id = ?').run(nowIso(), summary, outcome, t.jobId);
}

/** Every comment of the run's reply was posted; only its final status may be left to set. */
export function recordReplied(t: RecordTarget): void {
  if (t.jobId === undefined) return;
  t.db.prepare('UPDATE jobs SET work_replied_at = ? WHERE id = ?').run(nowIso(), t.jobId);
}

/** What job `jobId` had recorded, or null when it recorded nothing (stopped before any work). */
export function readWorkRecord(db: Db, jobId: number): WorkRecord | null {
  const row = db
    .prepare('SELECT work_projects AS projects, work_ended_at AS endedAt, work_summary AS summary, work_outcome AS outcome, work_replied_at AS repliedAt FROM jobs WHERE id = ?')
    .get(jobId) as { projects: string | null; endedAt: string | null; summary: string | null; outcome: string | null; repliedAt: string | null } | undefined;
  if (row === undefined || (row.projects === null && row.endedAt === null)) return null;
  // An outcome this version does not know tells nothing, like a damaged project list.
  const outcome = row.outcome === 'success' || row.outcome === 'failure' ? row.outcome : null;
  return { projects: parseProjects(row.projects), endedAt: row.endedAt, summary: row.summary, outcome, repliedAt: row.endedAt === null ? null : row.repliedAt };
}

const RecordedProjectsSchema = z.array(
  z.object({
    key: z.string(),
    project: z.object({ dir: z.string(), workspace: z.string(), kind: z.enum(['terraform', 'kubernetes']), name: z.string().optional() }),
    result: z.enum(['applied', 'failed', 'stopped']).nullable(),
  }),
);

/**
 * A record this version cannot read (not JSON, or not the shape above: another version wrote
 * it, or the row is damaged) tells nothing: the notice falls back to "interrupted". Read at
 * start-up inside the transaction that marks the dead process's jobs, so it must never throw.
 */
function parseProjects(text: string | null): RecordedProject[] {
  if (text === null) return [];
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return [];
  }
  const read = RecordedProjectsSchema.safeParse(parsed);
  return read.success ? read.data.map(({ project: { name, ...ref }, ...rest }) => ({ ...rest, project: name === undefined ? ref : { ...ref, name } })) : [];
}
