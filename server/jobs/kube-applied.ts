// What each kubernetes project applied last: the prune list of its next plan.

import type { ObjectRef } from '../../runners/types.js';
import type { Db } from '../store/db.js';
import { nowIso } from '../store/db.js';

export function previouslyApplied(db: Db, projectKey: string): ObjectRef[] {
  const row = db.prepare('SELECT objects FROM kube_applied WHERE project_key = ?').get(projectKey) as { objects: string } | undefined;
  return row === undefined ? [] : (JSON.parse(row.objects) as ObjectRef[]);
}

export function rememberApplied(db: Db, repo: string, projectKey: string, pull: number, objects: readonly ObjectRef[]): void {
  db.prepare(
    `INSERT INTO kube_applied (project_key, repo, objects, applied_by, updated_at) VALUES (?, ?, ?, ?, ?)
     ON CONFLICT (project_key) DO UPDATE SET objects = excluded.objects, applied_by = excluded.applied_by, updated_at = excluded.updated_at`,
  ).run(projectKey, repo, JSON.stringify(objects), pull, nowIso());
}
