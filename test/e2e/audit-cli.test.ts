// The `tideline` CLI as an operator runs it: a separate process (tsx server/cli.ts) on a data
// directory the server wrote, with only TIDELINE_DATA_DIR (and the signing key) set.

import { execFile } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SecretMasker } from '../../runners/secrets.js';
import { AuditLog } from '../../server/audit/audit-log.js';
import { makeCheckpoint, verifyCheckpointSignature, type Checkpoint } from '../../server/audit/checkpoint.js';
import type { AuditRecord } from '../../server/audit/types.js';
import { openDb } from '../../server/store/db.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const TSX = join(ROOT, 'node_modules/.bin/tsx');

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function cli(args: string[], env: Record<string, string>): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      TSX,
      ['server/cli.ts', ...args],
      { cwd: ROOT, env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', HOME: dir, ...env }, timeout: 30_000 },
      (error, stdout, stderr) => {
        const code = error === null ? 0 : typeof error.code === 'number' ? error.code : -1;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

let dir = '';
let dataDir = '';
let keyFile = '';
let publicKeyFile = '';

/** Writes `n` records the way the server does, then closes the database. */
function seed(n: number): AuditRecord[] {
  const db = openDb({ dataDir });
  const written: AuditRecord[] = [];
  const log = new AuditLog({ db, configDigest: 'c'.repeat(64), masker: new SecretMasker(), now: () => new Date(Date.parse('2025-05-01T00:00:00Z') + written.length * 3_600_000) });
  for (let i = 0; i < n; i += 1) {
    written.push(log.append({ type: i % 2 === 0 ? 'plan' : 'apply', actor: i % 3 === 0 ? 'alice' : 'bob', repo: 'acme/infra', pull: i + 1, fields: { i, note: 'a, "b"' } }));
  }
  db.close();
  return written;
}

function tamper(sql: string): void {
  const db = openDb({ dataDir });
  db.exec('DROP TRIGGER IF EXISTS audit_no_update; DROP TRIGGER IF EXISTS audit_no_delete;');
  db.exec(sql);
  db.close();
}

let records: AuditRecord[] = [];

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'tideline-audit-cli-'));
  dataDir = join(dir, 'data');
  const keys = generateKeyPairSync('ed25519');
  keyFile = join(dir, 'audit-signing.pem');
  publicKeyFile = join(dir, 'audit-signing.pub.pem');
  writeFileSync(keyFile, keys.privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
  writeFileSync(publicKeyFile, keys.publicKey.export({ type: 'spki', format: 'pem' }));
  records = seed(12);
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('tideline CLI', () => {
  it('prints its usage for --help and exits 0', async () => {
    const run = await cli(['--help'], {});
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^Usage: tideline <command>/);
    expect(run.stdout).toContain('tideline audit verify [--checkpoint FILE] [--public-key FILE]');
  });

  it.each([
    [[], /a command is required/],
    [['audit'], /audit needs a command/],
    [['audit', 'verify', '--bogus'], /Unknown option '--bogus'/],
    [['audit', 'export', '--since', 'yesterday'], /--since must be an ISO 8601 date/],
    [['audit', 'export', '--format', 'xml'], /--format must be jsonl or csv/],
    [['audit', 'export', '--since', '2030-01-01', '--until', '2020-01-01'], /--until 2020-01-01 is not after since 2030-01-01: the range since ≤ time < until is empty/],
    [['deploy'], /unknown command "deploy"/],
  ])('exits 2 with the usage for %j', async (args, message) => {
    const run = await cli(args, { TIDELINE_DATA_DIR: dataDir });
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(message);
    expect(run.stderr).toContain('Usage: tideline');
  });

  it('exits 2 naming the fix when the data dir holds no database', async () => {
    const run = await cli(['audit', 'verify'], { TIDELINE_DATA_DIR: join(dir, 'nowhere') });
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(`no database at ${join(dir, 'nowhere', 'tideline.db')}: set TIDELINE_DATA_DIR`);
  });

  it('exports with filters as JSON Lines on stdout', async () => {
    const run = await cli(['audit', 'export', '--actor', 'alice', '--type', 'plan'], { TIDELINE_DATA_DIR: dataDir });
    expect(run.code).toBe(0);
    const got = run.stdout.trim().split('\n').map((line) => JSON.parse(line) as AuditRecord);
    expect(got).toEqual(records.filter((r) => r.actor === 'alice' && r.type === 'plan'));
    expect(run.stderr).toBe(`exported ${got.length} records\n`);
  });

  it('exports CSV to a file', async () => {
    const out = join(dir, 'audit.csv');
    const run = await cli(['audit', 'export', '--format', 'csv', '--since', '2025-05-01T05:00:00Z', '--until', '2025-05-01T08:00:00Z', '--out', out], { TIDELINE_DATA_DIR: dataDir });
    expect(run.code).toBe(0);
    const lines = readFileSync(out, 'utf8').split('\r\n');
    expect(lines[0]).toBe('seq,time,type,actor,repo,pull,project,config_digest,fields,prev_hash,hash');
    expect(lines.slice(1, -1).map((line) => line.split(',')[0])).toEqual(['6', '7', '8']);
    expect(lines[1]).toContain('"{""i"":5,""note"":""a, \\""b\\""""}"');
  });

  it.each([
    ['in a directory that does not exist', (): string => join(dir, 'no-such-dir', 'audit.jsonl'), 'ENOENT'],
    ['a directory', (): string => dir, 'EISDIR'],
  ])('exits 2 naming --out when the file to export to is %s', async (_what, target, code) => {
    const out = target();
    const run = await cli(['audit', 'export', '--out', out], { TIDELINE_DATA_DIR: dataDir });
    expect(run.code).toBe(2);
    expect(run.stderr).toBe(`tideline: --out ${out} cannot be written (${code}): point it at a file in a directory that exists and that you can write\n`);
  });

  it('prints a checkpoint signed with the configured Ed25519 key, which verify then accepts', async () => {
    const run = await cli(['audit', 'checkpoint'], { TIDELINE_DATA_DIR: dataDir, TIDELINE_AUDIT_SIGNING_KEY_FILE: keyFile });
    expect(run.code).toBe(0);
    const cp = JSON.parse(run.stdout) as Checkpoint;
    expect(cp).toMatchObject({ count: 12, headSeq: 12, headHash: records[11]?.hash });
    expect(verifyCheckpointSignature(cp, readFileSync(publicKeyFile, 'utf8'))).toBe(true);
    writeFileSync(join(dir, 'checkpoint.json'), run.stdout);

    const verified = await cli(['audit', 'verify', '--checkpoint', join(dir, 'checkpoint.json'), '--public-key', publicKeyFile], { TIDELINE_DATA_DIR: dataDir });
    expect(verified).toMatchObject({ code: 0, stderr: '' });
    expect(verified.stdout).toMatch(/^audit log ok: 12 records, head seq 12 hash [0-9a-f]{64}; extends the checkpoint at seq 12 \(signature valid for the given public key\)\n$/);
  });

  it('does not call a checkpoint signed by another key valid when no public key is given', async () => {
    // Someone who rewrote the log signs a fresh checkpoint with a key of their own.
    const db = openDb({ dataDir });
    const forged = makeCheckpoint(db, generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString());
    db.close();
    const file = join(dir, 'forged-checkpoint.json');
    writeFileSync(file, JSON.stringify(forged));
    const run = await cli(['audit', 'verify', '--checkpoint', file], { TIDELINE_DATA_DIR: dataDir });
    expect(run.code).toBe(0);
    expect(run.stdout).not.toContain('signature valid');
    expect(run.stdout).toContain('not checked against yours: pass --public-key FILE');
    const checked = await cli(['audit', 'verify', '--checkpoint', file, '--public-key', publicKeyFile], { TIDELINE_DATA_DIR: dataDir });
    expect(checked.code).toBe(1);
    expect(checked.stderr).toMatch(/checkpoint-mismatch: the checkpoint's signature does not verify with the given public key/);
  });

  it('signs with --key, and refuses a key that is not Ed25519', async () => {
    const rsaFile = join(dir, 'rsa.pem');
    writeFileSync(rsaFile, generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey.export({ type: 'pkcs8', format: 'pem' }));
    const signed = await cli(['audit', 'checkpoint', '--key', keyFile], { TIDELINE_DATA_DIR: dataDir });
    expect((JSON.parse(signed.stdout) as Checkpoint).signature).toBeDefined();
    const refused = await cli(['audit', 'checkpoint', '--key', rsaFile], { TIDELINE_DATA_DIR: dataDir });
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/--key .*rsa\.pem: the signing key is rsa, not Ed25519/);
    const badEnv = await cli(['audit', 'checkpoint'], { TIDELINE_DATA_DIR: dataDir, TIDELINE_AUDIT_SIGNING_KEY_FILE: rsaFile });
    expect(badEnv.code).toBe(2);
    expect(badEnv.stderr).toMatch(/TIDELINE_AUDIT_SIGNING_KEY_FILE names .*rsa\.pem, which holds a key of type rsa, not Ed25519/);
  });

  it('verify exits 0, then 1 naming the seq once a record is edited', async () => {
    expect((await cli(['audit', 'verify'], { TIDELINE_DATA_DIR: dataDir })).code).toBe(0);
    tamper(`UPDATE audit SET actor = 'mallory' WHERE seq = 7`);
    const run = await cli(['audit', 'verify'], { TIDELINE_DATA_DIR: dataDir });
    expect(run.code).toBe(1);
    expect(run.stderr).toBe('tideline: audit verify failed at seq 7: edited: record 7 does not match its hash: its content was changed\n');
    const refused = await cli(['audit', 'checkpoint'], { TIDELINE_DATA_DIR: dataDir });
    expect(refused.code).toBe(1);
    expect(refused.stdout).toBe('');
    expect(refused.stderr).toContain('no checkpoint made');
    tamper(`UPDATE audit SET actor = '${records[6]?.actor ?? ''}' WHERE seq = 7`);
    expect((await cli(['audit', 'verify'], { TIDELINE_DATA_DIR: dataDir })).code).toBe(0);
  });

  it('verify --checkpoint exits 1 on a truncated log', async () => {
    tamper('DELETE FROM audit WHERE seq >= 11');
    expect((await cli(['audit', 'verify'], { TIDELINE_DATA_DIR: dataDir })).code).toBe(0);
    const run = await cli(['audit', 'verify', '--checkpoint', join(dir, 'checkpoint.json')], { TIDELINE_DATA_DIR: dataDir });
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/^tideline: audit verify failed at seq 11: truncated: the checkpoint's head is seq 12 but the log ends at seq 10/);
  });
});
