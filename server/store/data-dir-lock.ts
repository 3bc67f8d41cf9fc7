// One server per data dir. Two servers on one TIDELINE_DATA_DIR (a rolling update onto the
// same volume, a second `npm start`) would each mark the other's running jobs interrupted,
// tell their pull requests so, and run the same queue twice. Atlantis refuses this through its
// database's file lock; Tideline holds an exclusive SQLite lock on `tideline.lock` for as long
// as the server runs. It is an fcntl lock, so the kernel lets go of it when the process dies,
// however it dies: a crash never leaves a lock to clean up by hand.

import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';

export class DataDirInUseError extends Error {
  override readonly name = 'DataDirInUseError';
}

export interface DataDirLock {
  release(): void;
}

export function lockDataDir(dataDir: string): DataDirLock {
  mkdirSync(dataDir, { recursive: true });
  const file = join(dataDir, 'tideline.lock');
  const db = new Database(file, { timeout: 0 });
  try {
    // In exclusive locking mode the first write takes the file's lock and keeps it until close.
    db.pragma('locking_mode = EXCLUSIVE');
    db.exec('CREATE TABLE IF NOT EXISTS holder (pid INTEGER NOT NULL, started_at TEXT NOT NULL)');
    db.transaction(() => {
      db.prepare('DELETE FROM holder').run();
      db.prepare('INSERT INTO holder (pid, started_at) VALUES (?, ?)').run(process.pid, new Date().toISOString());
    })();
  } catch (err: unknown) {
    db.close();
    if (err instanceof Error && 'code' in err && err.code === 'SQLITE_BUSY') {
      throw new DataDirInUseError(`another Tideline server is using TIDELINE_DATA_DIR ${dataDir} (it holds ${file}): stop it first, or give this server a data dir of its own`, { cause: err });
    }
    throw err;
  }
  return {
    release: () => {
      if (db.open) db.close();
    },
  };
}
