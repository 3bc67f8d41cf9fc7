import { describe, expect, it } from 'vitest';
import { SecretMasker } from '../../runners/secrets.js';
import { AuditLog } from '../../server/audit/audit-log.js';
import { makeCheckpoint } from '../../server/audit/checkpoint.js';
import { AuditPruneError } from '../../server/audit/errors.js';
import { pruneAudit } from '../../server/audit/prune.js';
import type { AuditRecord } from '../../server/audit/types.js';
import { verifyAudit } from '../../server/audit/verify.js';
import { openDb, type Db } from '../../server/store/db.js';

const DAY = 86_400_000;
const START = Date.parse('2025-01-01T00:00:00.000Z');

/** A log with one record per day for `days` days; `clock.at` moves the log's clock. */
function dailyLog(days: number): { db: Db; log: AuditLog; clock: { at: number }; announced: AuditRecord[] } {
  const db = openDb({ dataDir: ':memory:' });
  const clock = { at: START };
  const announced: AuditRecord[] = [];
  const log = new AuditLog({ db, configDigest: 'c'.repeat(64), masker: new SecretMasker(), now: () => new Date(clock.at), onAppend: (r) => announced.push(r) });
  for (let day = 0; day < days; day += 1) {
    clock.at = START + day * DAY;
    log.append({ type: 'plan', actor: 'octocat', repo: 'acme/infra', pull: day + 1, fields: { day } });
  }
  return { db, log, clock, announced };
}

function seqs(db: Db): number[] {
  return db.prepare('SELECT seq FROM audit ORDER BY seq').pluck().all() as number[];
}

describe('pruneAudit', () => {
  it('removes records older than the retention and leaves a verifiable log with an audit.pruned record', async () => {
    const { db, log, clock, announced } = dailyLog(10);
    const pruned3 = db.prepare('SELECT hash FROM audit WHERE seq = 3').pluck().get();
    clock.at = START + 8 * DAY; // records of days 0, 1 and 2 are more than 5 days old
    expect(pruneAudit(log, db, 5)).toEqual({ pruned: 3 });
    expect(seqs(db)).toEqual([4, 5, 6, 7, 8, 9, 10, 11]);
    const record = db.prepare('SELECT * FROM audit WHERE seq = 11').get() as { type: string; actor: string; fields: string };
    expect(record.type).toBe('audit.pruned');
    expect(record.actor).toBe('tideline');
    expect(JSON.parse(record.fields)).toEqual({ prunedCount: 3, firstSeq: 1, lastSeq: 3, lastPrunedHash: pruned3, olderThanDays: 5, cutoff: '2025-01-04T00:00:00.000Z' });
    expect(verifyAudit(db)).toMatchObject({ ok: true, count: 8, headSeq: 11 });
    await new Promise((resolve) => setImmediate(resolve));
    expect(announced.at(-1)?.type).toBe('audit.pruned');
  });

  it('stays verifiable across several prunes', () => {
    const { db, log, clock } = dailyLog(10);
    clock.at = START + 8 * DAY;
    pruneAudit(log, db, 5);
    clock.at = START + 12 * DAY;
    expect(pruneAudit(log, db, 5)).toEqual({ pruned: 4 }); // days 3..6
    expect(seqs(db)[0]).toBe(8);
    expect(verifyAudit(db)).toMatchObject({ ok: true });
  });

  it('writes nothing when no record is old enough', () => {
    const { db, log, clock } = dailyLog(3);
    clock.at = START + 3 * DAY;
    expect(pruneAudit(log, db, 30)).toEqual({ pruned: 0 });
    expect(seqs(db)).toEqual([1, 2, 3]);
  });

  it('keeps the newest record even when every record is old, so the chain continues from it', () => {
    const { db, log, clock } = dailyLog(4);
    clock.at = START + 400 * DAY;
    expect(pruneAudit(log, db, 30)).toEqual({ pruned: 3 });
    expect(seqs(db)).toEqual([4, 5]);
    expect(verifyAudit(db)).toMatchObject({ ok: true, count: 2 });
  });

  it('leaves no permit behind: the triggers refuse DELETE again afterwards', () => {
    const { db, log, clock } = dailyLog(5);
    clock.at = START + 10 * DAY;
    pruneAudit(log, db, 1);
    expect(db.prepare('SELECT COUNT(*) FROM audit_prune_permit').pluck().get()).toBe(0);
    expect(() => db.exec('DELETE FROM audit')).toThrow(/DELETE is refused/);
  });

  it('rolls back with the caller transaction', () => {
    const { db, log, clock } = dailyLog(5);
    clock.at = START + 10 * DAY;
    expect(() =>
      db.transaction(() => {
        pruneAudit(log, db, 1);
        throw new Error('abort');
      })(),
    ).toThrow('abort');
    expect(seqs(db)).toEqual([1, 2, 3, 4, 5]);
  });

  it('still catches records deleted after a prune', () => {
    const { db, log, clock } = dailyLog(10);
    clock.at = START + 8 * DAY;
    pruneAudit(log, db, 5);
    db.exec('DROP TRIGGER audit_no_delete');
    db.exec('DELETE FROM audit WHERE seq IN (4, 5)');
    expect(verifyAudit(db)).toMatchObject({ ok: false, problem: { kind: 'deleted', seq: 4 } });
  });

  it('does not let a deleted prefix pass as pruned', () => {
    const { db } = dailyLog(10);
    db.exec('DROP TRIGGER audit_no_delete');
    db.exec('DELETE FROM audit WHERE seq <= 3');
    expect(verifyAudit(db)).toMatchObject({ ok: false, problem: { kind: 'deleted', seq: 1 } });
  });

  it('accepts a checkpoint whose head was pruned, and checks it when it is the pruned boundary', () => {
    const { db, log, clock } = dailyLog(10);
    const cp = makeCheckpoint(db);
    const atSeq3 = { ...cp, headSeq: 3, headHash: db.prepare('SELECT hash FROM audit WHERE seq = 3').pluck().get() as string };
    const atSeq2 = { ...cp, headSeq: 2, headHash: db.prepare('SELECT hash FROM audit WHERE seq = 2').pluck().get() as string };
    clock.at = START + 8 * DAY;
    pruneAudit(log, db, 5); // prunes 1..3
    expect(verifyAudit(db, { checkpoint: cp })).toMatchObject({ ok: true });
    expect(verifyAudit(db, { checkpoint: atSeq3 })).toMatchObject({ ok: true });
    expect(verifyAudit(db, { checkpoint: atSeq2 })).toMatchObject({ ok: true }); // inside the pruned range: unprovable, accepted
    expect(verifyAudit(db, { checkpoint: { ...atSeq3, headHash: 'a'.repeat(64) } })).toMatchObject({ ok: false, problem: { kind: 'checkpoint-mismatch', seq: 3 } });
  });

  it.each([0, -1, 1.5, Number.NaN])('refuses a retention of %s days', (days) => {
    const { db, log } = dailyLog(2);
    expect(() => pruneAudit(log, db, days)).toThrow(AuditPruneError);
  });

  it('refuses to prune across a break in the chain', () => {
    const { db, log, clock } = dailyLog(10);
    db.exec('DROP TRIGGER audit_no_update');
    db.exec(`UPDATE audit SET prev_hash = '${'f'.repeat(64)}' WHERE seq = 4`);
    clock.at = START + 8 * DAY;
    expect(() => pruneAudit(log, db, 5)).toThrow(/chain is broken/);
    expect(seqs(db)).toHaveLength(10);
  });

  // Retention must not launder tampering: what verify reports today must not pass tomorrow
  // because the daily prune removed the evidence and vouched for what was left.
  it.each<[string, (db: Db) => void, number]>([
    ['an edited record', (db) => db.exec(`UPDATE audit SET fields = '{"day":99}' WHERE seq = 2`), 2],
    ['a broken link', (db) => db.exec(`UPDATE audit SET prev_hash = '${'f'.repeat(64)}' WHERE seq = 2`), 2],
    ['a record deleted from the middle', (db) => db.exec('DELETE FROM audit WHERE seq = 2'), 2],
    ['a prefix deleted with no audit.pruned record', (db) => db.exec('DELETE FROM audit WHERE seq = 1'), 1],
  ])('refuses to prune records that include %s, and keeps the evidence', (_name, tamper, seq) => {
    const { db, log, clock } = dailyLog(10);
    db.exec('DROP TRIGGER audit_no_update; DROP TRIGGER audit_no_delete');
    tamper(db);
    expect(verifyAudit(db)).toMatchObject({ ok: false, problem: { seq } });
    const before = seqs(db);
    clock.at = START + 8 * DAY; // days 0, 1 and 2 are old enough
    expect(() => pruneAudit(log, db, 5)).toThrow(AuditPruneError);
    expect(() => pruneAudit(log, db, 5)).toThrow(new RegExp(`seq ${seq}\\b`));
    expect(seqs(db)).toEqual(before);
    expect(verifyAudit(db)).toMatchObject({ ok: false, problem: { seq } });
  });

  it('prunes again after a prune: the earlier audit.pruned record vouches for the start', () => {
    const { db, log, clock } = dailyLog(10);
    clock.at = START + 8 * DAY;
    pruneAudit(log, db, 5); // 1..3; audit.pruned is seq 11, dated day 8
    clock.at = START + 20 * DAY;
    // 4..10 go, vouched for by audit.pruned 11, which stays as the newest record.
    expect(pruneAudit(log, db, 5)).toEqual({ pruned: 7 });
    expect(seqs(db)).toEqual([11, 12]);
    expect(verifyAudit(db)).toMatchObject({ ok: true, count: 2 });
  });
});
