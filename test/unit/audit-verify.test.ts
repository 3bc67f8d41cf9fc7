import { createPrivateKey, generateKeyPairSync, sign } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { SecretMasker } from '../../runners/secrets.js';
import { AuditLog } from '../../server/audit/audit-log.js';
import { canonicalJson } from '../../server/audit/canonical-json.js';
import { makeCheckpoint, parseCheckpoint, verifyCheckpointSignature, type Checkpoint } from '../../server/audit/checkpoint.js';
import { CheckpointError } from '../../server/audit/errors.js';
import { chainHash, rowContent, type AuditRow } from '../../server/audit/record.js';
import type { AuditType } from '../../server/audit/types.js';
import { verifyAudit, type VerifyProblemKind } from '../../server/audit/verify.js';
import { openDb, type Db } from '../../server/store/db.js';

const TYPES: AuditType[] = ['webhook.accepted', 'command', 'lock.taken', 'plan', 'apply', 'lock.released'];

function logOf(records: number): { db: Db; log: AuditLog } {
  const db = openDb({ dataDir: ':memory:' });
  let tick = Date.parse('2025-03-01T00:00:00.000Z');
  const log = new AuditLog({ db, configDigest: 'c'.repeat(64), masker: new SecretMasker(), now: () => new Date((tick += 60_000)) });
  for (let i = 1; i <= records; i += 1) {
    log.append({ type: TYPES[i % TYPES.length] ?? 'plan', actor: `user${i % 3}`, repo: 'acme/infra', pull: i, fields: { n: i } });
  }
  return { db, log };
}

/** What an attacker with the database file does first. */
function dropTriggers(db: Db): void {
  db.exec('DROP TRIGGER audit_no_update; DROP TRIGGER audit_no_delete; DROP TRIGGER audit_append_only;');
}

function row(db: Db, seq: number): AuditRow {
  return db.prepare('SELECT * FROM audit WHERE seq = ?').get(seq) as AuditRow;
}

/** Moves every record with seq ≥ from by `by` (PK-safe: through negative seqs). */
function shift(db: Db, from: number, by: number): void {
  db.prepare('UPDATE audit SET seq = -(seq + ?) WHERE seq >= ?').run(by, from);
  db.exec('UPDATE audit SET seq = -seq WHERE seq < 0');
}

/** Inserts a forged record at `seq` linking to `prevHash`, with a hash consistent with its content. */
function forge(db: Db, seq: number, prevHash: string): void {
  const fields = '{"forged":true}';
  const base: AuditRow = { seq, time: '2025-03-01T00:30:00.000Z', type: 'apply', actor: 'mallory', repo: 'acme/infra', pull: 99, project: null, config_digest: 'c'.repeat(64), fields, prev_hash: prevHash, hash: '' };
  const content = rowContent(base);
  if (content === null) throw new Error('bad forged row');
  db.prepare(
    'INSERT INTO audit (seq, time, type, actor, repo, pull, project, config_digest, fields, prev_hash, hash) VALUES (@seq, @time, @type, @actor, @repo, @pull, @project, @config_digest, @fields, @prev_hash, @hash)',
  ).run({ ...base, hash: chainHash(prevHash, content) });
}

function swap(db: Db, a: number, b: number): void {
  db.prepare('UPDATE audit SET seq = -1 WHERE seq = ?').run(a);
  db.prepare('UPDATE audit SET seq = ? WHERE seq = ?').run(a, b);
  db.prepare('UPDATE audit SET seq = ? WHERE seq = -1').run(b);
}

const FAKE = 'f'.repeat(64);

describe('verifyAudit', () => {
  it('accepts an untouched log and reports its head', () => {
    const { db } = logOf(10);
    expect(verifyAudit(db)).toEqual({ ok: true, count: 10, headSeq: 10, headHash: row(db, 10).hash });
  });

  it('accepts an empty log', () => {
    expect(verifyAudit(openDb({ dataDir: ':memory:' }))).toEqual({ ok: true, count: 0, headSeq: null, headHash: null });
  });

  it.each<[string, (db: Db) => void, VerifyProblemKind, number]>([
    ['a field edited', (db) => db.exec(`UPDATE audit SET fields = '{"n":500}' WHERE seq = 5`), 'edited', 5],
    ['the actor edited', (db) => db.exec(`UPDATE audit SET actor = 'someone-else' WHERE seq = 3`), 'edited', 3],
    ['the time edited', (db) => db.exec(`UPDATE audit SET time = '2020-01-01T00:00:00.000Z' WHERE seq = 7`), 'edited', 7],
    ['fields made invalid JSON', (db) => db.exec(`UPDATE audit SET fields = '{' WHERE seq = 4`), 'edited', 4],
    // JSON.parse keeps the last "n" (the hashed 5); json_extract and many readers take the first.
    ['fields given a duplicate key that readers see first', (db) => db.exec(`UPDATE audit SET fields = '{"n":500,"n":5}' WHERE seq = 5`), 'edited', 5],
    ['fields rewritten in another JSON form of the same value', (db) => db.exec(`UPDATE audit SET fields = '{ "n": 5.0 }' WHERE seq = 5`), 'edited', 5],
    ['the last record edited', (db) => db.exec(`UPDATE audit SET type = 'plan' WHERE seq = 10 AND type <> 'plan'`), 'edited', 10],
    ['a stored hash replaced', (db) => db.exec(`UPDATE audit SET hash = '${FAKE}' WHERE seq = 6`), 'edited', 6],
    ['a prev_hash replaced', (db) => db.exec(`UPDATE audit SET prev_hash = '${FAKE}' WHERE seq = 6`), 'edited', 6],
    [
      'a record edited and its own hash recomputed',
      (db) => {
        const r = { ...row(db, 5), fields: '{"n":500}' };
        const content = rowContent(r);
        if (content === null) throw new Error('bad row');
        db.prepare('UPDATE audit SET fields = ?, hash = ? WHERE seq = 5').run(r.fields, chainHash(r.prev_hash, content));
      },
      'edited',
      5,
    ],
    ['one record deleted', (db) => db.exec('DELETE FROM audit WHERE seq = 5'), 'deleted', 5],
    ['three records deleted', (db) => db.exec('DELETE FROM audit WHERE seq BETWEEN 4 AND 6'), 'deleted', 4],
    ['the first records deleted', (db) => db.exec('DELETE FROM audit WHERE seq <= 2'), 'deleted', 1],
    [
      'a record deleted and the rest renumbered',
      (db) => {
        db.exec('DELETE FROM audit WHERE seq = 5');
        shift(db, 6, -1);
      },
      'deleted',
      5,
    ],
    [
      'a forged record slipped in with a valid link',
      (db) => {
        const prev = row(db, 4).hash;
        shift(db, 5, 1);
        forge(db, 5, prev);
      },
      'inserted',
      5,
    ],
    [
      'a forged record slipped in with a link to nothing',
      (db) => {
        shift(db, 5, 1);
        forge(db, 5, FAKE);
      },
      'inserted',
      5,
    ],
    ['a forged record appended with a link to nothing', (db) => forge(db, 11, FAKE), 'inserted', 11],
    ['two neighbours swapped', (db) => swap(db, 5, 6), 'reordered', 5],
    ['two distant records swapped', (db) => swap(db, 3, 8), 'reordered', 3],
    ['the first two records swapped', (db) => swap(db, 1, 2), 'reordered', 1],
  ])('names the first bad record when %s', (_name, tamper, kind, seq) => {
    const { db } = logOf(10);
    dropTriggers(db);
    tamper(db);
    const result = verifyAudit(db);
    expect(result.ok).toBe(false);
    expect(result.problem).toMatchObject({ kind, seq });
    expect(result.problem?.message).toMatch(new RegExp(`\\b${seq}\\b`));
  });

  it('names the earliest of several problems', () => {
    const { db } = logOf(10);
    dropTriggers(db);
    db.exec(`UPDATE audit SET fields = '{}' WHERE seq = 8`);
    db.exec('DELETE FROM audit WHERE seq = 3');
    expect(verifyAudit(db).problem).toMatchObject({ kind: 'deleted', seq: 3 });
  });
});

describe('checkpoints', () => {
  const keys = generateKeyPairSync('ed25519');
  const privatePem = keys.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  const publicPem = keys.publicKey.export({ type: 'spki', format: 'pem' }).toString();
  const other = generateKeyPairSync('ed25519');
  const otherPrivatePem = other.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();

  it('records the head and count; the log still extends it after more appends', () => {
    const { db, log } = logOf(10);
    const cp = makeCheckpoint(db);
    expect(cp).toMatchObject({ count: 10, headSeq: 10, headHash: row(db, 10).hash });
    expect(cp.signature).toBeUndefined();
    log.append({ type: 'plan', actor: 'octocat', fields: {} });
    expect(verifyAudit(db, { checkpoint: cp })).toMatchObject({ ok: true, count: 11 });
  });

  it('catches truncation: the last records deleted', () => {
    const { db } = logOf(10);
    const cp = makeCheckpoint(db);
    dropTriggers(db);
    db.exec('DELETE FROM audit WHERE seq >= 9');
    expect(verifyAudit(db).ok).toBe(true); // the chain alone cannot see a shortened tail
    expect(verifyAudit(db, { checkpoint: cp })).toMatchObject({ ok: false, problem: { kind: 'truncated', seq: 9 } });
  });

  it('catches a tail deleted and rewritten with fresh, well-chained records', () => {
    const { db, log } = logOf(10);
    const cp = makeCheckpoint(db);
    dropTriggers(db);
    db.exec('DELETE FROM audit WHERE seq >= 9');
    log.append({ type: 'plan', actor: 'mallory', fields: {} });
    log.append({ type: 'plan', actor: 'mallory', fields: {} });
    expect(verifyAudit(db).ok).toBe(true);
    expect(verifyAudit(db, { checkpoint: cp })).toMatchObject({ ok: false, problem: { kind: 'checkpoint-mismatch', seq: 10 } });
  });

  it('signs with Ed25519 and verifies with the public key', () => {
    const { db } = logOf(3);
    const cp = makeCheckpoint(db, privatePem);
    expect(cp.signature).toMatch(/^[A-Za-z0-9+/]+=*$/);
    expect(cp.publicKey).toBe(publicPem);
    expect(verifyCheckpointSignature(cp, publicPem)).toBe(true);
    expect(verifyCheckpointSignature(cp)).toBe(true);
    expect(verifyAudit(db, { checkpoint: cp, publicKeyPem: publicPem })).toMatchObject({ ok: true });
  });

  it.each<[string, (cp: Checkpoint) => Checkpoint, string | undefined]>([
    ['a changed head hash', (cp) => ({ ...cp, headHash: 'a'.repeat(64) }), undefined],
    ['a lowered head seq', (cp) => ({ ...cp, headSeq: 2 }), undefined],
    ['a changed time', (cp) => ({ ...cp, time: '2020-01-01T00:00:00.000Z' }), undefined],
    ['a flipped signature byte', (cp) => ({ ...cp, signature: flip(cp.signature ?? '') }), undefined],
    ['a re-signature with another key, embedded key swapped', (cp) => resign(cp, otherPrivatePem), 'the original public key'],
    ['no signature at all', ({ signature: _s, publicKey: _p, ...cp }) => cp, 'the original public key'],
  ])('refuses a forged checkpoint: %s', (_name, forgeCp, withKey) => {
    const { db } = logOf(3);
    const forged = forgeCp(makeCheckpoint(db, privatePem));
    const publicKeyPem = withKey === undefined ? undefined : publicPem;
    expect(verifyCheckpointSignature(forged, publicKeyPem)).toBe(false);
    const result = verifyAudit(db, { checkpoint: forged, ...(publicKeyPem === undefined ? {} : { publicKeyPem }) });
    expect(result).toMatchObject({ ok: false, problem: { kind: 'checkpoint-mismatch' } });
  });

  it('refuses a signing key that is not Ed25519', () => {
    const { db } = logOf(1);
    const rsa = generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    expect(() => makeCheckpoint(db, rsa)).toThrow(CheckpointError);
    expect(() => makeCheckpoint(db, 'not a key')).toThrow(/not a readable PEM private key/);
  });

  it.each([
    ['not JSON', '{', /is not JSON/],
    ['a missing field', '{"count":1,"headSeq":1,"time":"t"}', /headHash/],
    ['a bad hash', `{"count":1,"headSeq":1,"headHash":"xyz","time":"t"}`, /headHash must be 64 lowercase hex/],
    ['an unknown field', `{"count":1,"headSeq":1,"headHash":"${'a'.repeat(64)}","time":"t","extra":1}`, /not a checkpoint/],
  ])('parseCheckpoint refuses %s', (_name, text, message) => {
    expect(() => parseCheckpoint(text)).toThrow(message);
  });

  it('parseCheckpoint reads back what makeCheckpoint wrote', () => {
    const { db } = logOf(2);
    const cp = makeCheckpoint(db, privatePem);
    expect(parseCheckpoint(JSON.stringify(cp, null, 2))).toEqual(cp);
  });
});

function flip(base64: string): string {
  const bytes = Buffer.from(base64, 'base64');
  bytes[0] = (bytes[0] ?? 0) ^ 1;
  return bytes.toString('base64');
}

/** The same head, signed by another key that is embedded instead: self-consistent, but not the operator's key. */
function resign(cp: Checkpoint, privatePem: string): Checkpoint {
  const { signature: _s, publicKey: _p, ...fields } = cp;
  const publicKey = makeCheckpoint(openDb({ dataDir: ':memory:' }), privatePem).publicKey ?? '';
  const unsigned = { ...fields, publicKey };
  const resigned = { ...unsigned, signature: sign(null, Buffer.from(canonicalJson(unsigned)), createPrivateKey(privatePem)).toString('base64') };
  if (!verifyCheckpointSignature(resigned)) throw new Error('resigned checkpoint should verify with its own key');
  return resigned;
}
