// The only place that opens the database. better-sqlite3 is synchronous, which suits SQLite:
// every transaction is short, and WAL lets the HTTP thread read while a job writes.

import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { MIGRATIONS, type Migration } from './migrations.js';

export type Db = Database.Database;

export interface OpenOptions {
  /** Directory that holds `tideline.db`; created when missing. `:memory:` for tests. */
  dataDir: string;
  migrations?: readonly Migration[];
}

export function openDb(opts: OpenOptions): Db {
  const file = opts.dataDir === ':memory:' ? ':memory:' : dbPath(opts.dataDir);
  if (file !== ':memory:') mkdirSync(opts.dataDir, { recursive: true });
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.pragma('foreign_keys = ON');
  db.pragma('busy_timeout = 5000');
  migrate(db, opts.migrations ?? MIGRATIONS);
  return db;
}

export function dbPath(dataDir: string): string {
  return join(dataDir, 'tideline.db');
}

/** Applies every migration above the database's `user_version`, each in its own transaction. */
export function migrate(db: Db, migrations: readonly Migration[]): number {
  const current = db.pragma('user_version', { simple: true }) as number;
  let applied = 0;
  for (const m of [...migrations].sort((a, b) => a.version - b.version)) {
    if (m.version <= current) continue;
    db.transaction(() => {
      db.exec(m.sql);
      db.pragma(`user_version = ${m.version}`);
    })();
    applied += 1;
  }
  return applied;
}

/** True when the database answers a trivial query; used by /readyz. */
export function isReachable(db: Db): boolean {
  try {
    return db.prepare('SELECT 1 AS ok').get() !== undefined;
  } catch {
    return false;
  }
}

export function nowIso(): string {
  return new Date().toISOString();
}
