// What a drift sweep leaves behind when its process dies (SIGKILL, OOM, a node lost), cleared at
// the next start, before any job runs. This is a single-server design, so nothing of a previous
// process is still running then:
// - a sweep lease: it would make every sweep of the repository skip itself ("another sweep is
//   running") for up to the lease's 15 minutes, the catch-up sweep of the start included;
// - a remediation lock (pull 0): only a later remediation of the same project would release it,
//   and until then every pull request that changes the project would be refused.

import type { Logger } from 'pino';
import type { AuditLog } from '../audit/index.js';
import { DEFAULT_BRANCH_PULL } from '../locks/locks.js';
import type { Db } from '../store/db.js';
import { knownRepos } from '../store/repos.js';
import { unlockForBranch } from './branch-lock.js';

export function recoverDriftAfterRestart(db: Db, audit: AuditLog, log: Logger): { leases: string[]; locks: string[] } {
  const leases = (db.prepare('UPDATE drift_repos SET lease_owner = NULL, lease_until = NULL WHERE lease_owner IS NOT NULL RETURNING repo').all() as { repo: string }[]).map((r) => r.repo);
  const held = db.prepare('SELECT key, repo FROM locks WHERE pull = ?').all(DEFAULT_BRANCH_PULL) as { key: string; repo: string }[];
  const branches = new Map(knownRepos(db).map((r) => [r.fullName, r.defaultBranch]));
  for (const lock of held) {
    unlockForBranch(db, audit, lock.key, branches.get(lock.repo) ?? 'the default branch', 'the server stopped while drift remediation held the lock');
  }
  if (leases.length > 0) log.warn({ repos: leases }, 'released drift sweep leases a stopped process held');
  if (held.length > 0) log.warn({ locks: held.map((l) => l.key) }, 'released drift remediation locks a stopped process held: the next sweep checks those projects again');
  return { leases, locks: held.map((l) => l.key) };
}
