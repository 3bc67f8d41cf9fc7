// Project locks. A lock is one row keyed by repo + dir + workspace + project name; taking it
// is one atomic INSERT, so two pulls racing for the same project cannot both win.

import type { AuditInput, AuditLog } from '../audit/index.js';
import type { Db } from '../store/db.js';
import { nowIso } from '../store/db.js';
import type { ProjectKind } from '../../runners/types.js';
import type { Project } from '../projects/types.js';

/** The pull number of locks Tideline takes for the default branch (drift remediation). */
export const DEFAULT_BRANCH_PULL = 0;

export interface Lock {
  key: string;
  repo: string;
  dir: string;
  workspace: string;
  project: string;
  kind: ProjectKind;
  pull: number;
  pullUrl: string;
  lockedBy: string;
  lockedAt: string;
}

export interface LockRequest {
  repo: string;
  project: Project;
  pull: number;
  pullUrl: string;
  user: string;
}

export interface TryLockResult {
  /** True when this pull holds the lock now (newly taken, or already its own). */
  acquired: boolean;
  holder: Lock;
  key: string;
}

interface LockRow {
  key: string;
  repo: string;
  dir: string;
  workspace: string;
  project: string;
  kind: string;
  pull: number;
  pull_url: string;
  locked_by: string;
  locked_at: string;
}

export function lockKey(repo: string, project: Pick<Project, 'dir' | 'workspace' | 'name'>): string {
  return `${repo}/${project.dir}/${project.workspace}/${project.name ?? ''}`;
}

/**
 * Takes the project lock for a pull with one INSERT, and writes its audit record (taken or
 * refused, with the holder) in the same transaction: neither can exist without the other.
 */
export function tryLock(db: Db, audit: AuditLog, req: LockRequest): TryLockResult {
  const key = lockKey(req.repo, req.project);
  return db.transaction((): TryLockResult => {
    const inserted = db
      .prepare(
        `INSERT INTO locks (key, repo, dir, workspace, project, kind, pull, pull_url, locked_by, locked_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (key) DO NOTHING`,
      )
      .run(
        key,
        req.repo,
        req.project.dir,
        req.project.workspace,
        req.project.name ?? '',
        req.project.kind,
        req.pull,
        req.pullUrl,
        req.user,
        nowIso(),
      );
    const holder = getLock(db, key);
    if (holder === null) throw new Error(`lock ${key} vanished while being taken`);
    const acquired = inserted.changes === 1 || holder.pull === req.pull;
    if (inserted.changes === 1 || !acquired) {
      audit.append({
        type: acquired ? 'lock.taken' : 'lock.refused',
        actor: req.user,
        repo: req.repo,
        pull: req.pull,
        project: key,
        fields: { dir: req.project.dir, workspace: req.project.workspace, name: req.project.name ?? null, holder: { pull: holder.pull, user: holder.lockedBy, since: holder.lockedAt } },
      });
    }
    return { acquired, holder, key };
  })();
}

export function getLock(db: Db, key: string): Lock | null {
  const row = db.prepare('SELECT * FROM locks WHERE key = ?').get(key) as LockRow | undefined;
  return row === undefined ? null : fromRow(row);
}

export function locksOfPull(db: Db, repo: string, pull: number): Lock[] {
  const rows = db
    .prepare('SELECT * FROM locks WHERE repo = ? AND pull = ? ORDER BY key')
    .all(repo, pull) as LockRow[];
  return rows.map(fromRow);
}

export function listLocks(db: Db): Lock[] {
  return (db.prepare('SELECT * FROM locks ORDER BY repo, key').all() as LockRow[]).map(fromRow);
}

/** Releases every lock a pull holds, each with its audit record, and returns what was released. */
export function releasePull(db: Db, audit: AuditLog, repo: string, pull: number, actor: string, reason: string): Lock[] {
  return db.transaction((): Lock[] => {
    const rows = db.prepare('DELETE FROM locks WHERE repo = ? AND pull = ? RETURNING *').all(repo, pull) as LockRow[];
    const locks = rows.map(fromRow).sort((a, b) => a.key.localeCompare(b.key));
    for (const lock of locks) audit.append(releasedRecord(lock, actor, reason));
    return locks;
  })();
}

/** Releases one lock by key; returns it, or null when nothing was held. */
export function releaseKey(db: Db, audit: AuditLog, key: string, actor: string, reason: string): Lock | null {
  return db.transaction((): Lock | null => {
    const row = db.prepare('DELETE FROM locks WHERE key = ? RETURNING *').get(key) as LockRow | undefined;
    if (row === undefined) return null;
    const lock = fromRow(row);
    audit.append(releasedRecord(lock, actor, reason));
    return lock;
  })();
}

function releasedRecord(lock: Lock, actor: string, reason: string): AuditInput {
  return {
    type: 'lock.released',
    actor,
    repo: lock.repo,
    // Drift remediation's lock (pull 0) belongs to no pull request: the record names none.
    ...(lock.pull === DEFAULT_BRANCH_PULL ? {} : { pull: lock.pull }),
    project: lock.key,
    fields: { dir: lock.dir, workspace: lock.workspace, name: lock.project === '' ? null : lock.project, reason, heldSince: lock.lockedAt, holder: { pull: lock.pull, user: lock.lockedBy } },
  };
}

function fromRow(row: LockRow): Lock {
  return {
    key: row.key,
    repo: row.repo,
    dir: row.dir,
    workspace: row.workspace,
    project: row.project,
    kind: row.kind as ProjectKind,
    pull: row.pull,
    pullUrl: row.pull_url,
    lockedBy: row.locked_by,
    lockedAt: row.locked_at,
  };
}

/** The project a lock stands for. */
export function projectOf(lock: Lock): Project {
  const p: Project = { dir: lock.dir, workspace: lock.workspace, kind: lock.kind };
  if (lock.project !== '') p.name = lock.project;
  return p;
}
