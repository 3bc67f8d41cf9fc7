// What each kubernetes project applied last: the prune list of its next plan.

import { readFileSync } from 'node:fs';
import { parseBundle } from '../../runners/manifests.js';
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

/**
 * What kubernetes projects other than `projectKey` declare: the objects each last applied, and
 * those a saved, unapplied plan of theirs would apply. A project never prunes these: when an
 * object moves from one project to another, the first one's apply must not delete it, whichever
 * of the two applies first.
 */
export function claimedByOthers(db: Db, projectKey: string): ObjectRef[] {
  const claimed: ObjectRef[] = [];
  const applied = db.prepare('SELECT objects FROM kube_applied WHERE project_key != ?').all(projectKey) as { objects: string }[];
  for (const row of applied) claimed.push(...(JSON.parse(row.objects) as ObjectRef[]));
  const planned = db.prepare("SELECT plan_file FROM plans WHERE kind = 'kubernetes' AND project_key != ? AND applied_at IS NULL").all(projectKey) as { plan_file: string }[];
  for (const { plan_file: file } of planned) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      continue; // deleted with its pull request's plans
    }
    claimed.push(...parseBundle(text, file).objects.map((o) => o.ref));
  }
  return claimed;
}
