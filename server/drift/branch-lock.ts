// The project lock remediation holds while it applies the default branch: a row of the `locks`
// table under the reserved pull number 0, taken with one atomic INSERT and released by key, each
// with its audit record in the same transaction — as `tryLock` / `releaseKey` do for pulls.
// (Those two cannot be used here: they record the pull number in the audit record, and the
// audit log accepts only real pull numbers; these records say `branch` instead.)

import { SERVER_ACTOR, type AuditLog } from '../audit/index.js';
import { DEFAULT_BRANCH_PULL, getLock, lockKey, type Lock } from '../locks/locks.js';
import type { Project } from '../projects/index.js';
import type { Db } from '../store/db.js';
import { nowIso } from '../store/db.js';

export { DEFAULT_BRANCH_PULL };

export type BranchLockResult = { acquired: true; key: string } | { acquired: false; key: string; holder: Lock };

export function lockForBranch(db: Db, audit: AuditLog, repo: string, branch: string, project: Project): BranchLockResult {
  const key = lockKey(repo, project);
  return db.transaction((): BranchLockResult => {
    const inserted = db
      .prepare(
        `INSERT INTO locks (key, repo, dir, workspace, project, kind, pull, pull_url, locked_by, locked_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, '', ?, ?) ON CONFLICT (key) DO NOTHING`,
      )
      .run(key, repo, project.dir, project.workspace, project.name ?? '', project.kind, DEFAULT_BRANCH_PULL, SERVER_ACTOR, nowIso());
    const holder = getLock(db, key);
    if (holder === null) throw new Error(`lock ${key} vanished while being taken`);
    // A default-branch lock left by a process that died mid-apply is ours to reuse.
    const acquired = inserted.changes === 1 || holder.pull === DEFAULT_BRANCH_PULL;
    audit.append({
      type: acquired ? 'lock.taken' : 'lock.refused',
      actor: SERVER_ACTOR,
      repo,
      project: key,
      fields: {
        dir: project.dir,
        workspace: project.workspace,
        name: project.name ?? null,
        branch,
        purpose: 'drift remediation',
        holder: { pull: holder.pull, user: holder.lockedBy, since: holder.lockedAt },
      },
    });
    return acquired ? { acquired, key } : { acquired, key, holder };
  })();
}

/** Releases the default-branch lock of `key`; a lock a pull request holds is never touched. */
export function unlockForBranch(db: Db, audit: AuditLog, key: string, branch: string, reason: string): void {
  db.transaction((): void => {
    const row = db.prepare('DELETE FROM locks WHERE key = ? AND pull = ? RETURNING repo, dir, workspace, project, locked_at').get(key, DEFAULT_BRANCH_PULL) as
      | { repo: string; dir: string; workspace: string; project: string; locked_at: string }
      | undefined;
    if (row === undefined) return;
    audit.append({
      type: 'lock.released',
      actor: SERVER_ACTOR,
      repo: row.repo,
      project: key,
      fields: { dir: row.dir, workspace: row.workspace, name: row.project === '' ? null : row.project, branch, reason, heldSince: row.locked_at },
    });
  })();
}
