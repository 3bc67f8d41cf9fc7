// The pull request that last applied a project: its latest successful `apply` audit record,
// else a saved plan marked applied (the plans of a closed pull are deleted, the audit stays).

import type { Db } from '../store/db.js';

export function lastAppliedPull(db: Db, repo: string, projectKey: string): number | null {
  const fromAudit = db
    .prepare(
      `SELECT pull FROM audit
       WHERE type = 'apply' AND repo = ? AND project = ? AND pull > 0 AND json_extract(fields, '$.result') = 'applied'
       ORDER BY seq DESC LIMIT 1`,
    )
    .get(repo, projectKey) as { pull: number } | undefined;
  if (fromAudit !== undefined) return fromAudit.pull;
  const fromPlans = db
    .prepare('SELECT pull FROM plans WHERE repo = ? AND project_key = ? AND applied_at IS NOT NULL AND pull > 0 ORDER BY applied_at DESC LIMIT 1')
    .get(repo, projectKey) as { pull: number } | undefined;
  return fromPlans?.pull ?? null;
}
