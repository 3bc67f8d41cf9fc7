import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, rmSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { startWalCheckpointer, type WalCheckpointer } from '../../server/store/checkpointer.js';
import { dbPath, openDb, type Db } from '../../server/store/db.js';

const dirs: string[] = [];
const opened: Db[] = [];
const running: WalCheckpointer[] = [];

function freshDb(): { db: Db; dir: string } {
  const dir = mkdtempSync(join(tmpdir(), 'tideline-ckpt-'));
  dirs.push(dir);
  const db = openDb({ dataDir: dir });
  opened.push(db);
  db.exec('CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT NOT NULL)');
  return { db, dir };
}

function writeNotes(db: Db, count: number): void {
  const insert = db.prepare('INSERT INTO notes (body) VALUES (?)');
  for (let i = 0; i < count; i += 1) insert.run(`note ${i} ${'x'.repeat(200)}`);
}

/** The rows the database file itself holds, without its WAL: what a checkpoint has copied in. */
function rowsInMainFile(dir: string): number {
  const copy = join(dir, 'copy.db');
  copyFileSync(dbPath(dir), copy);
  const db = new Database(copy);
  try {
    const hasTable = db.prepare("SELECT count(*) AS n FROM sqlite_master WHERE name = 'notes'").get() as { n: number };
    return hasTable.n === 0 ? 0 : (db.prepare('SELECT count(*) AS n FROM notes').get() as { n: number }).n;
  } finally {
    db.close();
    for (const f of [copy, `${copy}-wal`, `${copy}-shm`]) if (existsSync(f)) unlinkSync(f);
  }
}

async function eventually(what: string, check: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

afterEach(async () => {
  for (const c of running.splice(0)) await c.stop();
  for (const db of opened.splice(0)) if (db.open) db.close();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('WAL checkpointer', () => {
  it('has nothing to do for an in-memory database', () => {
    const db = openDb({ dataDir: ':memory:' });
    opened.push(db);
    expect(startWalCheckpointer(db)).toBeNull();
  });

  it('with automatic checkpoints off and no worker, committed rows stay in the WAL (what the worker is for)', () => {
    const { db, dir } = freshDb();
    db.pragma('wal_autocheckpoint = 0');
    writeNotes(db, 3000);
    expect(rowsInMainFile(dir)).toBe(0);
  });

  it('turns automatic checkpoints off on the server connection and checkpoints from its own thread', async () => {
    const { db, dir } = freshDb();
    const checkpointer = startWalCheckpointer(db, { intervalMs: 50 });
    expect(checkpointer).not.toBeNull();
    if (checkpointer === null) return;
    running.push(checkpointer);
    expect(await checkpointer.ready).toBe(true);
    expect(db.pragma('wal_autocheckpoint', { simple: true })).toBe(0);
    writeNotes(db, 3000);
    // A copy taken while the worker writes the file can be torn: that is "not yet", not a failure.
    const copied = (): boolean => {
      try {
        return rowsInMainFile(dir) === 3000;
      } catch {
        return false;
      }
    };
    await eventually('the worker to copy the rows into the database file', copied);
  });

  it('stops with a last checkpoint and automatic checkpoints back on', async () => {
    const { db, dir } = freshDb();
    const checkpointer = startWalCheckpointer(db, { intervalMs: 60_000 });
    if (checkpointer === null) throw new Error('no checkpointer for a file database');
    expect(await checkpointer.ready).toBe(true);
    writeNotes(db, 500);
    await checkpointer.stop();
    expect(rowsInMainFile(dir)).toBe(500);
    expect(db.pragma('wal_autocheckpoint', { simple: true })).toBe(1000);
    writeNotes(db, 10);
    db.close();
    // The last connection to close checkpoints and removes the WAL: nothing held it open.
    expect(existsSync(`${dbPath(dir)}-wal`)).toBe(false);
    expect(statSync(dbPath(dir)).size).toBeGreaterThan(0);
  });

  it('keeps a process with nothing else to do alive until stop has finished', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tideline-ckpt-exit-'));
    dirs.push(dir);
    const script = join(dir, 'stop.mts');
    const store = (name: string): string => fileURLToPath(new URL(`../../server/store/${name}`, import.meta.url));
    writeFileSync(
      script,
      [
        `import { openDb } from ${JSON.stringify(store('db.ts'))};`,
        `import { startWalCheckpointer } from ${JSON.stringify(store('checkpointer.ts'))};`,
        `const db = openDb({ dataDir: ${JSON.stringify(join(dir, 'data'))} });`,
        'const checkpointer = startWalCheckpointer(db, { intervalMs: 50 });',
        'await checkpointer?.ready;',
        'await checkpointer?.stop();',
        'db.close();',
        "process.stdout.write('closed\\n');",
      ].join('\n'),
    );
    const tsx = fileURLToPath(new URL('../../node_modules/.bin/tsx', import.meta.url));
    expect(execFileSync(tsx, [script], { encoding: 'utf8' })).toBe('closed\n');
  });

  it('puts automatic checkpoints back and says so when the worker cannot open the database', async () => {
    const { db, dir } = freshDb();
    const problems: string[] = [];
    // The worker opens the file by name (fileMustExist); gone, it fails at start.
    rmSync(dbPath(dir));
    const checkpointer = startWalCheckpointer(db, { intervalMs: 50, onProblem: (p) => problems.push(p) });
    if (checkpointer === null) throw new Error('no checkpointer for a file database');
    expect(await checkpointer.ready).toBe(false);
    await eventually('the problem to be reported', () => problems.length > 0);
    expect(problems[0]).toMatch(/checkpoint worker .*SQLite checkpoints in the server's own thread again/);
    expect(db.pragma('wal_autocheckpoint', { simple: true })).toBe(1000);
  });
});
