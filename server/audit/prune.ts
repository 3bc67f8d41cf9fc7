// Retention: removes the oldest records and leaves an `audit.pruned` record in their place that
// carries the hash of the last one removed, so `verify` accepts the shortened log (see verify.ts).

import type { Db } from '../store/db.js';
import type { AuditLog } from './audit-log.js';
import { AuditPruneError } from './errors.js';
import { rowHashMatches, type AuditRow } from './record.js';
import { GENESIS_HASH, SERVER_ACTOR, type PrunedFields } from './types.js';
import { prunedMark, unanchoredStart, type PrunedMark } from './verify.js';

const DAY_MS = 86_400_000;

/**
 * In one transaction: deletes the records older than `olderThanDays` days (by the log's clock)
 * and appends an `audit.pruned` record with { prunedCount, firstSeq, lastSeq, lastPrunedHash }.
 * Only a prefix of the chain is removed — everything before the first record at or after the
 * cutoff — and never the newest record, so the audit.pruned record links to one that remains.
 * Removes nothing, and writes nothing, when no record is old enough.
 *
 * Deleting goes past the append-only trigger with a permit (`audit_prune_permit`, limited to the
 * seqs being pruned) that exists only inside this transaction; see migration 2.
 */
export function pruneAudit(log: AuditLog, db: Db, olderThanDays: number): { pruned: number } {
  if (!Number.isSafeInteger(olderThanDays) || olderThanDays < 1) {
    throw new AuditPruneError(`retention must be a whole number of days of at least 1, got ${String(olderThanDays)}`);
  }
  const cutoffMs = log.now().getTime() - olderThanDays * DAY_MS;
  if (!Number.isFinite(cutoffMs) || cutoffMs < -8.64e15) return { pruned: 0 };
  const cutoff = new Date(cutoffMs).toISOString();
  const seqOf = (sql: string, ...args: (string | number)[]): number | null => db.prepare(sql).pluck().get(...args) as number | null;

  const prune = db.transaction((): { pruned: number } => {
    const head = seqOf('SELECT MAX(seq) FROM audit');
    const firstSeq = seqOf('SELECT MIN(seq) FROM audit');
    if (head === null || firstSeq === null) return { pruned: 0 };
    const firstKept = seqOf('SELECT MIN(seq) FROM audit WHERE time >= ?', cutoff) ?? head + 1;
    const lastSeq = Math.min(firstKept - 1, head - 1);
    if (lastSeq < firstSeq) return { pruned: 0 };

    const lastPrunedHash = db.prepare('SELECT hash FROM audit WHERE seq = ?').pluck().get(lastSeq) as string | undefined;
    const next = db.prepare('SELECT seq, prev_hash FROM audit WHERE seq > ? ORDER BY seq LIMIT 1').get(lastSeq) as { seq: number; prev_hash: string } | undefined;
    if (lastPrunedHash === undefined || next === undefined || next.seq !== lastSeq + 1 || next.prev_hash !== lastPrunedHash) {
      throw new AuditPruneError(`refusing to prune up to seq ${lastSeq}: the chain is broken there; run \`tideline audit verify\` and investigate before pruning`);
    }

    const broken = prefixProblem(db, lastSeq);
    if (broken !== null) {
      throw new AuditPruneError(`refusing to prune up to seq ${lastSeq}: ${broken}; pruning would remove the evidence and vouch for the rest. Run \`tideline audit verify\` and investigate before pruning`);
    }

    db.prepare('INSERT INTO audit_prune_permit (id, up_to_seq) VALUES (1, ?)').run(lastSeq);
    const pruned = db.prepare('DELETE FROM audit WHERE seq <= ?').run(lastSeq).changes;
    db.prepare('DELETE FROM audit_prune_permit').run();

    const fields: PrunedFields & { olderThanDays: number; cutoff: string } = { prunedCount: pruned, firstSeq, lastSeq, lastPrunedHash, olderThanDays, cutoff };
    log.append({ type: 'audit.pruned', actor: SERVER_ACTOR, fields: { ...fields } });
    return { pruned };
  });
  return db.inTransaction ? prune() : prune.immediate();
}

/**
 * Why the records up to `lastSeq` may not be pruned, or null: checked as verify checks them.
 * Without this, retention would launder tampering: an edited record, a broken link, a gap or a
 * start no audit.pruned record vouches for would be deleted, and the new audit.pruned record
 * would vouch for what is left, so a log verify had reported would verify again. The cost is one
 * hash per pruned record, once; later daily prunes check only a day of records.
 */
function prefixProblem(db: Db, lastSeq: number): string | null {
  // Read before iterating: the connection runs nothing else while a cursor is open.
  const marks = (db.prepare(`SELECT * FROM audit WHERE type = 'audit.pruned'`).all() as AuditRow[])
    .map(prunedMark)
    .filter((m): m is PrunedMark => m !== null);
  let prev: { seq: number; hash: string } | null = null;
  for (const row of db.prepare('SELECT * FROM audit WHERE seq <= ? ORDER BY seq').iterate(lastSeq) as IterableIterator<AuditRow>) {
    if (prev === null) {
      if (row.seq === 1 && row.prev_hash !== GENESIS_HASH) return 'at seq 1: record 1 does not link to the genesis hash';
      const unvouched = unanchoredStart(row, marks);
      if (unvouched !== null) return `at seq ${unvouched.seq}: ${unvouched.message}`;
    } else if (row.seq !== prev.seq + 1) {
      return `at seq ${prev.seq + 1}: records ${prev.seq + 1} to ${row.seq - 1} are missing`;
    } else if (row.prev_hash !== prev.hash) {
      return `at seq ${row.seq}: record ${row.seq} does not link to record ${prev.seq}`;
    }
    if (!rowHashMatches(row)) return `at seq ${row.seq}: record ${row.seq} does not match its hash`;
    prev = { seq: row.seq, hash: row.hash };
  }
  return null;
}
