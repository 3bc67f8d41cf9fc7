import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { SecretMasker } from '../../runners/secrets.js';
import { AuditLog } from '../../server/audit/audit-log.js';
import { canonicalJson } from '../../server/audit/canonical-json.js';
import { AuditInputError } from '../../server/audit/errors.js';
import { GENESIS_HASH, type AuditInput, type AuditRecord } from '../../server/audit/types.js';
import { verifyAudit } from '../../server/audit/verify.js';
import { openDb, type Db } from '../../server/store/db.js';

const DIGEST = 'd'.repeat(64);
const CANARY = 'canary-secret-7f3a9c';

function setup(onAppend?: (r: AuditRecord) => void): { db: Db; log: AuditLog } {
  const db = openDb({ dataDir: ':memory:' });
  const masker = new SecretMasker();
  masker.add(CANARY);
  let tick = Date.parse('2025-03-01T00:00:00.000Z');
  const now = (): Date => new Date((tick += 1000));
  return { db, log: new AuditLog({ db, configDigest: DIGEST, masker, now, ...(onAppend === undefined ? {} : { onAppend }) }) };
}

const LOCK: AuditInput = { type: 'lock.taken', actor: 'octocat', repo: 'acme/infra', pull: 7, project: 'app', fields: { dir: 'app', workspace: 'default' } };

interface Row {
  seq: number;
  fields: string;
  prev_hash: string;
  hash: string;
  config_digest: string;
}

describe('AuditLog.append', () => {
  it('chains each record to the one before: hash = sha256(prev_hash ‖ canonical record)', () => {
    const { db, log } = setup();
    const a = log.append(LOCK);
    const b = log.append({ type: 'server.start', actor: 'tideline', fields: { version: '0.1.0' } });
    expect([a.seq, b.seq]).toEqual([1, 2]);
    expect(a.prevHash).toBe(GENESIS_HASH);
    expect(b.prevHash).toBe(a.hash);
    const content = { seq: 2, time: b.time, type: 'server.start', actor: 'tideline', repo: null, pull: null, project: null, configDigest: DIGEST, fields: { version: '0.1.0' } };
    expect(b.hash).toBe(createHash('sha256').update(a.hash + canonicalJson(content)).digest('hex'));
    const rows = db.prepare('SELECT * FROM audit ORDER BY seq').all() as Row[];
    expect(rows.map((r) => [r.seq, r.prev_hash, r.hash, r.config_digest])).toEqual([
      [1, GENESIS_HASH, a.hash, DIGEST],
      [2, a.hash, b.hash, DIGEST],
    ]);
    expect(rows[0]?.fields).toBe('{"dir":"app","workspace":"default"}');
    expect(verifyAudit(db)).toEqual({ ok: true, count: 2, headSeq: 2, headHash: b.hash });
  });

  it('masks every string in fields, keys and nested values included, before hashing', () => {
    const { db, log } = setup();
    const r = log.append({ type: 'apply', actor: 'octocat', fields: { output: `token=${CANARY}`, nested: [{ [CANARY]: Buffer.from(CANARY).toString('base64') }] } });
    expect(JSON.stringify(r)).not.toContain(CANARY);
    expect(r.fields).toEqual({ output: 'token=***', nested: [{ '***': '***' }] });
    const stored = db.prepare('SELECT fields FROM audit').pluck().get() as string;
    expect(stored).not.toContain(CANARY);
    expect(verifyAudit(db).ok).toBe(true);
  });

  it('drops undefined properties and writes Dates as ISO strings', () => {
    const { log } = setup();
    const r = log.append({ type: 'apply', actor: 'octocat', fields: { exitCode: undefined, at: new Date(0), list: [1] } });
    expect(r.fields).toEqual({ at: '1970-01-01T00:00:00.000Z', list: [1] });
  });

  it('hashes actor, repo and project as SQLite stores them, so a lone surrogate does not read as tampering', () => {
    const { db, log } = setup();
    const r = log.append({ ...LOCK, actor: 'web\udc00user', repo: 'acme/in\ud800fra', project: 'acme/infra/\ud83d/default/' });
    log.append(LOCK);
    const stored = db.prepare('SELECT actor, repo, project FROM audit WHERE seq = 1').get();
    expect(stored).toEqual({ actor: 'web\ufffduser', repo: 'acme/in\ufffdfra', project: 'acme/infra/\ufffd/default/' });
    expect({ actor: r.actor, repo: r.repo, project: r.project }).toEqual(stored);
    expect(verifyAudit(db)).toMatchObject({ ok: true, count: 2 });
  });

  it('keeps paired surrogates (emoji) in actor, repo and project as they are', () => {
    const { db, log } = setup();
    log.append({ ...LOCK, project: 'apps/\ud83c\udf0a/default/' });
    expect(db.prepare('SELECT project FROM audit').pluck().get()).toBe('apps/🌊/default/');
    expect(verifyAudit(db).ok).toBe(true);
  });

  it.each([
    ['an unknown type', { ...LOCK, type: 'lock.stolen' as AuditInput['type'] }, /unknown audit record type "lock.stolen"/],
    ['an empty actor', { ...LOCK, actor: '' }, /actor must be/],
    ['a pull that is not a PR number', { ...LOCK, pull: 1.5 }, /pull must be a pull request number, got 1.5/],
    ['NaN in fields', { ...LOCK, fields: { duration: Number.NaN } }, /fields\.duration is NaN/],
    ['a Map in fields', { ...LOCK, fields: { m: new Map() } }, /is a Map, not a plain object/],
  ])('refuses %s and writes nothing', (_name, input, message) => {
    const { db, log } = setup();
    expect(() => log.append(input)).toThrow(AuditInputError);
    expect(() => log.append(input)).toThrow(message);
    expect(db.prepare('SELECT COUNT(*) FROM audit').pluck().get()).toBe(0);
  });

  it('joins the caller transaction: a rolled-back state change leaves no record, and the seq is reused', () => {
    const { db, log } = setup();
    log.append(LOCK);
    expect(() =>
      db.transaction(() => {
        db.prepare("INSERT INTO deliveries (id, event, received_at) VALUES ('d1', 'push', 'now')").run();
        log.append({ ...LOCK, type: 'webhook.accepted' });
        throw new Error('state change failed');
      })(),
    ).toThrow('state change failed');
    expect(db.prepare('SELECT COUNT(*) FROM deliveries').pluck().get()).toBe(0);
    expect(db.prepare('SELECT COUNT(*) FROM audit').pluck().get()).toBe(1);
    db.transaction(() => {
      db.prepare("INSERT INTO deliveries (id, event, received_at) VALUES ('d1', 'push', 'now')").run();
      expect(log.append({ ...LOCK, type: 'webhook.accepted' }).seq).toBe(2);
    })();
    expect(db.prepare('SELECT COUNT(*) FROM deliveries').pluck().get()).toBe(1);
    expect(verifyAudit(db)).toMatchObject({ ok: true, count: 2 });
  });

  it('announces a record outside a transaction at once, inside one only after it commits', async () => {
    const seen: number[] = [];
    const { db, log } = setup((r) => seen.push(r.seq));
    log.append(LOCK);
    expect(seen).toEqual([1]);
    db.transaction(() => {
      log.append(LOCK);
      expect(seen).toEqual([1]);
    })();
    log.append(LOCK); // after a pending one: queued behind it, to keep order
    expect(() =>
      db.transaction(() => {
        log.append(LOCK); // seq 4, rolled back
        throw new Error('rollback');
      })(),
    ).toThrow('rollback');
    await Promise.resolve();
    await new Promise((resolve) => setImmediate(resolve));
    expect(seen).toEqual([1, 2, 3]);
    log.append(LOCK); // seq 4 again, a different record
    expect(seen).toEqual([1, 2, 3, 4]);
  });
});

describe('the audit table', () => {
  const { db, log } = setup();
  for (let i = 0; i < 3; i += 1) log.append(LOCK);

  it.each([
    ['UPDATE of a field', "UPDATE audit SET fields = '{}' WHERE seq = 2", /append-only: UPDATE is refused/],
    ['UPDATE of the hash', "UPDATE audit SET hash = 'x' WHERE seq = 3", /append-only: UPDATE is refused/],
    ['DELETE of one record', 'DELETE FROM audit WHERE seq = 1', /append-only: DELETE is refused/],
    ['DELETE of every record', 'DELETE FROM audit', /append-only: DELETE is refused/],
    ['INSERT before the head', `INSERT INTO audit (seq, time, type, actor, config_digest, fields, prev_hash, hash) VALUES (2, 't', 'plan', 'x', 'd', '{}', 'p', 'h2')`, /INSERT must go after the last record/],
    // REPLACE on the unique hash index would delete record 2 without any DELETE trigger firing.
    ['INSERT OR REPLACE of an existing hash after the head', `INSERT OR REPLACE INTO audit (seq, time, type, actor, config_digest, fields, prev_hash, hash) SELECT 4, 't', 'plan', 'x', 'd', '{}', 'p', hash FROM audit WHERE seq = 2`, /INSERT of a hash already in the log is refused/],
  ])('refuses %s', (_name, sql, message) => {
    expect(() => db.exec(sql)).toThrow(message);
    expect(db.prepare('SELECT COUNT(*) FROM audit').pluck().get()).toBe(3);
    expect(verifyAudit(db).ok).toBe(true);
  });

  it('refuses DELETE beyond what a prune permit covers', () => {
    expect(() =>
      db.transaction(() => {
        db.prepare('INSERT INTO audit_prune_permit (id, up_to_seq) VALUES (1, 1)').run();
        expect(() => db.exec('DELETE FROM audit WHERE seq = 2')).toThrow(/DELETE is refused/);
        expect(db.prepare('DELETE FROM audit WHERE seq = 1').run().changes).toBe(1);
        throw new Error('roll back the permit');
      })(),
    ).toThrow('roll back the permit');
    expect(db.prepare('SELECT COUNT(*) FROM audit').pluck().get()).toBe(3);
    expect(db.prepare('SELECT COUNT(*) FROM audit_prune_permit').pluck().get()).toBe(0);
  });
});
