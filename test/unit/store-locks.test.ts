import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { afterEach, describe, expect, it } from 'vitest';
import { AuditLog } from '../../server/audit/index.js';
import { SecretMasker } from '../../runners/secrets.js';
import { listLocks, locksOfPull, lockKey, releaseKey, releasePull, tryLock } from '../../server/locks/locks.js';
import type { Project } from '../../server/projects/types.js';
import { isReachable, openDb, type Db } from '../../server/store/db.js';
import { MIGRATIONS } from '../../server/store/migrations.js';

const app: Project = { dir: 'app', workspace: 'default', kind: 'terraform' };
const dirs: string[] = [];

function freshDb(): { db: Db; dir: string; audit: AuditLog } {
  const dir = mkdtempSync(join(tmpdir(), 'tideline-store-'));
  dirs.push(dir);
  const db = openDb({ dataDir: dir });
  return { db, dir, audit: new AuditLog({ db, configDigest: 'test', masker: new SecretMasker() }) };
}

function auditTypes(db: Db): string[] {
  return (db.prepare('SELECT type FROM audit ORDER BY seq').all() as { type: string }[]).map((r) => r.type);
}

afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('store', () => {
  it('opens in WAL mode with every migration applied, and reopening applies none twice', () => {
    const { db, dir } = freshDb();
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(db.pragma('user_version', { simple: true })).toBe(MIGRATIONS.at(-1)?.version);
    const tables = (db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").all() as { name: string }[]).map((t) => t.name);
    expect(tables).toEqual(expect.arrayContaining(['deliveries', 'jobs', 'locks', 'plans']));
    expect(isReachable(db)).toBe(true);
    db.close();
    const again = openDb({ dataDir: dir });
    expect(again.pragma('user_version', { simple: true })).toBe(MIGRATIONS.at(-1)?.version);
    expect(isReachable(again)).toBe(true);
    again.close();
    expect(isReachable(again)).toBe(false);
  });
});

describe('locks', () => {
  it.each([
    ['same dir, other workspace', { ...app, workspace: 'staging' }],
    ['same dir and workspace, named project', { ...app, name: 'app-prod' }],
    ['other dir', { ...app, dir: 'net' }],
  ])('keys %s separately', (_name, other) => {
    expect(lockKey('acme/infra', other)).not.toBe(lockKey('acme/infra', app));
  });

  it('gives a project to the first pull and names it as holder to the second', () => {
    const { db, audit } = freshDb();
    const first = tryLock(db, audit, { repo: 'acme/infra', project: app, pull: 1, pullUrl: 'u1', user: 'alice' });
    const second = tryLock(db, audit, { repo: 'acme/infra', project: app, pull: 2, pullUrl: 'u2', user: 'bob' });
    const again = tryLock(db, audit, { repo: 'acme/infra', project: app, pull: 1, pullUrl: 'u1', user: 'alice' });
    expect(first.acquired).toBe(true);
    expect(second).toMatchObject({ acquired: false, holder: { pull: 1, lockedBy: 'alice' } });
    expect(again.acquired).toBe(true);
    expect(listLocks(db)).toHaveLength(1);
    // Taking and refusing are recorded; taking again what one already holds changes nothing.
    expect(auditTypes(db)).toEqual(['lock.taken', 'lock.refused']);
  });

  it('releases only the locks of the given pull', () => {
    const { db, audit } = freshDb();
    tryLock(db, audit, { repo: 'acme/infra', project: app, pull: 1, pullUrl: '', user: 'a' });
    tryLock(db, audit, { repo: 'acme/infra', project: { ...app, dir: 'net' }, pull: 1, pullUrl: '', user: 'a' });
    tryLock(db, audit, { repo: 'acme/infra', project: { ...app, dir: 'dns' }, pull: 2, pullUrl: '', user: 'b' });
    expect(releasePull(db, audit, 'acme/infra', 1, 'a', 'unlock').map((l) => l.dir)).toEqual(['app', 'net']);
    expect(locksOfPull(db, 'acme/infra', 2).map((l) => l.dir)).toEqual(['dns']);
    expect(releaseKey(db, audit, lockKey('acme/infra', { ...app, dir: 'dns' }), 'admin', 'ui')?.pull).toBe(2);
    expect(listLocks(db)).toEqual([]);
    expect(auditTypes(db)).toEqual(['lock.taken', 'lock.taken', 'lock.taken', 'lock.released', 'lock.released', 'lock.released']);
  });

  it('takes no lock when its audit record cannot be written, and releases none either', () => {
    const { db, audit } = freshDb();
    const broken = { append: (): never => { throw new Error('audit unavailable'); } } as unknown as AuditLog;
    expect(() => tryLock(db, broken, { repo: 'acme/infra', project: app, pull: 1, pullUrl: '', user: 'a' })).toThrow('audit unavailable');
    expect(listLocks(db)).toEqual([]);
    tryLock(db, audit, { repo: 'acme/infra', project: app, pull: 1, pullUrl: '', user: 'a' });
    expect(() => releasePull(db, broken, 'acme/infra', 1, 'a', 'unlock')).toThrow('audit unavailable');
    expect(listLocks(db)).toHaveLength(1);
    expect(auditTypes(db)).toEqual(['lock.taken']);
  });

  it('lets exactly one of many racing connections take a lock', async () => {
    const { dir } = freshDb();
    const script = `
      const { parentPort, workerData } = require('node:worker_threads');
      const Database = require('better-sqlite3');
      const db = new Database(workerData.file);
      db.pragma('busy_timeout = 5000');
      const res = db.prepare("INSERT INTO locks (key, repo, dir, workspace, project, kind, pull, pull_url, locked_by, locked_at) VALUES ('k','r','d','w','','terraform',?, '', 'x', 'now') ON CONFLICT (key) DO NOTHING").run(workerData.pull);
      parentPort.postMessage(res.changes);
    `;
    const results = await Promise.all(
      Array.from({ length: 8 }, (_, i) =>
        new Promise<number>((resolve, reject) => {
          const w = new Worker(script, { eval: true, workerData: { file: join(dir, 'tideline.db'), pull: i + 1 } });
          w.once('message', resolve);
          w.once('error', reject);
        }),
      ),
    );
    expect(results.filter((n) => n === 1)).toHaveLength(1);
  });
});
