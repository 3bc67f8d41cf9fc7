// Saved plans: one row per (repo, pull, project), valid only for the head SHA it was made from.

import { createHash } from 'node:crypto';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { removePlanFiles } from '../../runners/plan-files.js';
import type { ChangeSummary, ProjectKind } from '../../runners/types.js';
import { lockKey } from '../locks/locks.js';
import type { Project } from '../projects/types.js';
import type { Db } from '../store/db.js';
import { nowIso } from '../store/db.js';

export interface SavedPlan {
  repo: string;
  pull: number;
  projectKey: string;
  project: Project;
  headSha: string;
  planFile: string;
  summary: ChangeSummary | null;
  hasChanges: boolean;
  /** False until the reply that shows this plan was posted: only a shown plan can be applied. */
  shown: boolean;
  appliedAt: string | null;
  createdAt: string;
}

interface PlanRow {
  repo: string;
  pull: number;
  project_key: string;
  dir: string;
  workspace: string;
  project: string;
  kind: string;
  project_json: string;
  head_sha: string;
  plan_file: string;
  summary: string | null;
  has_changes: number;
  shown: number;
  applied_at: string | null;
  created_at: string;
}

/** `$plansDir/<owner>/<repo>/<pull>/<project-hash>-<sha>.tfplan`: keyed by the head SHA. */
export function planFilePath(plansDir: string, repo: string, pull: number, project: Project, headSha: string): string {
  const id = createHash('sha256').update(lockKey(repo, project)).digest('hex').slice(0, 16);
  return join(plansDir, repo, String(pull), `${id}-${headSha}.tfplan`);
}

export function pullPlansDir(plansDir: string, repo: string, pull: number): string {
  return join(plansDir, repo, String(pull));
}

/**
 * Records a fresh plan, replacing (and deleting the file of) the project's previous one. It is
 * not shown yet: `markShown` once the reply carrying it is posted.
 */
export function savePlan(db: Db, plan: Omit<SavedPlan, 'projectKey' | 'appliedAt' | 'createdAt' | 'shown'>): void {
  const key = lockKey(plan.repo, plan.project);
  const previous = getPlan(db, plan.repo, plan.pull, key);
  db.prepare(
    `INSERT INTO plans (repo, pull, project_key, dir, workspace, project, kind, project_json, head_sha, plan_file, summary, has_changes, shown, applied_at, created_at)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0, NULL, ?)
     ON CONFLICT (repo, pull, project_key) DO UPDATE SET
       project_json = excluded.project_json, head_sha = excluded.head_sha, plan_file = excluded.plan_file, summary = excluded.summary,
       has_changes = excluded.has_changes, shown = 0, applied_at = NULL, created_at = excluded.created_at`,
  ).run(
    plan.repo,
    plan.pull,
    key,
    plan.project.dir,
    plan.project.workspace,
    plan.project.name ?? '',
    plan.project.kind,
    JSON.stringify(plan.project),
    plan.headSha,
    plan.planFile,
    plan.summary === null ? null : JSON.stringify(plan.summary),
    plan.hasChanges ? 1 : 0,
    nowIso(),
  );
  if (previous !== null && previous.planFile !== plan.planFile) removePlanFiles(previous.planFile);
}

export function getPlan(db: Db, repo: string, pull: number, projectKey: string): SavedPlan | null {
  const row = db
    .prepare('SELECT * FROM plans WHERE repo = ? AND pull = ? AND project_key = ?')
    .get(repo, pull, projectKey) as PlanRow | undefined;
  return row === undefined ? null : fromRow(row);
}

export function plansOfPull(db: Db, repo: string, pull: number): SavedPlan[] {
  const rows = db
    .prepare('SELECT * FROM plans WHERE repo = ? AND pull = ? ORDER BY dir, workspace, project')
    .all(repo, pull) as PlanRow[];
  return rows.map(fromRow);
}

/** The reply showing these plans (of `headSha`) was posted: they may now be applied. */
export function markShown(db: Db, repo: string, pull: number, headSha: string, projectKeys: readonly string[]): void {
  const mark = db.prepare('UPDATE plans SET shown = 1 WHERE repo = ? AND pull = ? AND project_key = ? AND head_sha = ?');
  db.transaction(() => {
    for (const key of projectKeys) mark.run(repo, pull, key, headSha);
  })();
}

export function markApplied(db: Db, repo: string, pull: number, projectKey: string): void {
  db.prepare('UPDATE plans SET applied_at = ? WHERE repo = ? AND pull = ? AND project_key = ?').run(
    nowIso(),
    repo,
    pull,
    projectKey,
  );
}

/** Forgets a failed or discarded plan of one project and deletes its file (and its show file). */
export function deletePlan(db: Db, repo: string, pull: number, projectKey: string): void {
  const row = db
    .prepare('DELETE FROM plans WHERE repo = ? AND pull = ? AND project_key = ? RETURNING plan_file')
    .get(repo, pull, projectKey) as { plan_file: string } | undefined;
  if (row !== undefined) removePlanFiles(row.plan_file);
}

/** Deletes every plan of a pull request (rows and files). Returns how many there were. */
export function deletePlansOfPull(db: Db, plansDir: string, repo: string, pull: number): number {
  const res = db.prepare('DELETE FROM plans WHERE repo = ? AND pull = ?').run(repo, pull);
  rmSync(pullPlansDir(plansDir, repo, pull), { recursive: true, force: true });
  return res.changes;
}

function fromRow(row: PlanRow): SavedPlan {
  const project: Project = row.project_json === '{}' ? { dir: row.dir, workspace: row.workspace, kind: row.kind as ProjectKind } : (JSON.parse(row.project_json) as Project);
  if (row.project !== '') project.name = row.project;
  return {
    repo: row.repo,
    pull: row.pull,
    projectKey: row.project_key,
    project,
    headSha: row.head_sha,
    planFile: row.plan_file,
    summary: row.summary === null ? null : (JSON.parse(row.summary) as ChangeSummary),
    hasChanges: row.has_changes === 1,
    shown: row.shown === 1,
    appliedAt: row.applied_at,
    createdAt: row.created_at,
  };
}
