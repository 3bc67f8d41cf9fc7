import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SecretMasker } from '../../runners/secrets.js';
import { AuditLog, verifyAudit } from '../../server/audit/index.js';
import { lockForBranch } from '../../server/drift/branch-lock.js';
import { recoverDriftAfterRestart } from '../../server/drift/recovery.js';
import { takeSweepLease } from '../../server/drift/store.js';
import { releaseFromWeb } from '../../server/http/ui/unlock.js';
import { getLock, lockKey, tryLock } from '../../server/locks/locks.js';
import type { Project } from '../../server/projects/index.js';
import { openDb, type Db } from '../../server/store/db.js';
import { rememberRepo } from '../../server/store/repos.js';

const REPO = 'acme/infra';
const app: Project = { dir: 'app', workspace: 'default', kind: 'terraform' };
const log = pino({ level: 'silent' });

describe('what a killed drift sweep leaves behind', () => {
  let db: Db;
  let audit: AuditLog;

  beforeEach(() => {
    db = openDb({ dataDir: ':memory:' });
    audit = new AuditLog({ db, configDigest: 'test', masker: new SecretMasker() });
    rememberRepo(db, { fullName: REPO, owner: 'acme', name: 'infra', cloneUrl: 'file:///x', defaultBranch: 'main' });
    db.prepare('INSERT INTO drift_repos (repo) VALUES (?)').run(REPO);
  });
  afterEach(() => db.close());

  const now = (): string => new Date().toISOString();
  const inMinutes = (m: number): string => new Date(Date.now() + m * 60_000).toISOString();

  it('is cleared at the next start: the sweep lease and the remediation lock, with an audit record', () => {
    expect(takeSweepLease(db, REPO, 'the-killed-process', now(), inMinutes(15))).toBe(true);
    expect(lockForBranch(db, audit, REPO, 'main', app).acquired).toBe(true);
    // Left as they were, a new sweep skips itself and a pull request cannot lock the project.
    expect(takeSweepLease(db, REPO, 'the-new-process', now(), inMinutes(15))).toBe(false);
    expect(tryLock(db, audit, { repo: REPO, project: app, pull: 7, pullUrl: '', user: 'alice' }).acquired).toBe(false);

    expect(recoverDriftAfterRestart(db, audit, log)).toEqual({ leases: [REPO], locks: [lockKey(REPO, app)] });
    expect(takeSweepLease(db, REPO, 'the-new-process', now(), inMinutes(15))).toBe(true);
    expect(tryLock(db, audit, { repo: REPO, project: app, pull: 7, pullUrl: '', user: 'alice' }).acquired).toBe(true);
    const released = db.prepare("SELECT fields FROM audit WHERE type = 'lock.released'").all() as { fields: string }[];
    expect(released.map((r) => JSON.parse(r.fields) as Record<string, unknown>)).toEqual([expect.objectContaining({ branch: 'main', reason: 'the server stopped while drift remediation held the lock' })]);
    expect(verifyAudit(db)).toMatchObject({ ok: true });
  });

  it('leaves the locks of pull requests alone', () => {
    tryLock(db, audit, { repo: REPO, project: app, pull: 7, pullUrl: '', user: 'alice' });
    expect(recoverDriftAfterRestart(db, audit, log)).toEqual({ leases: [], locks: [] });
    expect(getLock(db, lockKey(REPO, app))?.pull).toBe(7);
  });

  it('lets the web UI release a remediation lock, naming no pull request and telling none', () => {
    const { key } = lockForBranch(db, audit, REPO, 'main', app);
    const result = releaseFromWeb({ db, audit, commandPrefix: 'tideline' }, key, 'admin');
    expect(result).toMatchObject({ lock: { key, pull: 0 }, notified: false });
    expect(getLock(db, key)).toBeNull();
    const record = db.prepare("SELECT actor, pull FROM audit WHERE type = 'lock.released'").get();
    expect(record).toEqual({ actor: 'admin', pull: null });
    expect(db.prepare("SELECT COUNT(*) AS n FROM jobs WHERE type = 'reply'").get()).toEqual({ n: 0 });
  });
});
