// What each kubernetes project applied last: the prune list of its next plan.

import { readFileSync } from 'node:fs';
import { parseBundle } from '../../runners/manifests.js';
import type { ObjectRef } from '../../runners/types.js';
import type { Project } from '../projects/index.js';
import type { Db } from '../store/db.js';
import { nowIso } from '../store/db.js';

export function previouslyApplied(db: Db, projectKey: string): ObjectRef[] {
  const row = db.prepare('SELECT objects FROM kube_applied WHERE project_key = ?').get(projectKey) as { objects: string } | undefined;
  return row === undefined ? [] : (JSON.parse(row.objects) as ObjectRef[]);
}

export function rememberApplied(db: Db, repo: string, projectKey: string, pull: number, objects: readonly ObjectRef[], cluster: string): void {
  db.prepare(
    `INSERT INTO kube_applied (project_key, repo, objects, applied_by, updated_at, cluster) VALUES (?, ?, ?, ?, ?, ?)
     ON CONFLICT (project_key) DO UPDATE SET objects = excluded.objects, applied_by = excluded.applied_by, updated_at = excluded.updated_at, cluster = excluded.cluster`,
  ).run(projectKey, repo, JSON.stringify(objects), pull, nowIso(), cluster);
}

/** The cluster name of a kubernetes project; '' for the server's default kubeconfig. */
export function clusterOf(project: Pick<Project, 'kubernetes'>): string {
  return project.kubernetes?.cluster ?? '';
}

/**
 * What kubernetes projects other than `projectKey`, on the same cluster, declare: `applied`, the
 * objects each last applied (they own them now); `planned`, those a saved, unapplied plan of
 * theirs would apply. A project prunes neither: when an object moves from one project to
 * another, the first one's apply must not delete it, whichever of the two applies first.
 */
export function claimedByOthers(db: Db, projectKey: string, cluster: string): { applied: ObjectRef[]; planned: ObjectRef[] } {
  const applied: ObjectRef[] = [];
  const rows = db.prepare('SELECT objects FROM kube_applied WHERE project_key != ? AND (cluster IS NULL OR cluster = ?)').all(projectKey, cluster) as { objects: string }[];
  for (const row of rows) applied.push(...(JSON.parse(row.objects) as ObjectRef[]));
  const planned: ObjectRef[] = [];
  const plans = db.prepare("SELECT plan_file, project_json FROM plans WHERE kind = 'kubernetes' AND project_key != ? AND applied_at IS NULL").all(projectKey) as { plan_file: string; project_json: string }[];
  for (const { plan_file: file, project_json: json } of plans) {
    if (clusterOf(JSON.parse(json) as Project) !== cluster) continue;
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      continue; // deleted with its pull request's plans
    }
    planned.push(...parseBundle(text, file).objects.map((o) => o.ref));
  }
  return { applied, planned };
}
