// WAL checkpoints off the HTTP thread. SQLite's automatic checkpoint runs inside whichever
// commit pushes the WAL past 1,000 pages: it copies those pages into the database file and
// syncs it, 20–40 ms here and sometimes over 150 ms, with better-sqlite3 holding the event loop
// the whole time, so every webhook in flight waits for it. The server turns that off on its
// connection and lets a worker thread, with a connection of its own, run a PASSIVE checkpoint
// (which never waits for, nor blocks, a reader or writer) every `intervalMs`. If the worker
// cannot start or dies, automatic checkpoints come back on, so the WAL never grows unchecked.

import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import type { Db } from './db.js';

/** SQLite's default `wal_autocheckpoint`, restored when the worker is gone. */
const AUTO_CHECKPOINT_PAGES = 1000;
/** The WAL file is cut back to this after a checkpoint lets the next commit restart it. */
const JOURNAL_SIZE_LIMIT_BYTES = 64 * 1024 * 1024;

export interface CheckpointerOptions {
  intervalMs?: number;
  /** Told when the worker fails; automatic checkpoints are back on by then. */
  onProblem?: (message: string) => void;
}

export interface WalCheckpointer {
  /** Resolves once the worker has its connection open and automatic checkpoints are off. */
  ready: Promise<boolean>;
  /** A last checkpoint, then the worker's connection closes; automatic checkpoints come back on. */
  stop(): Promise<void>;
}

// Plain CommonJS, evaluated as the worker's script, so it runs the same under tsx and from dist/.
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.module);
const db = new Database(workerData.file, { fileMustExist: true });
db.pragma('journal_size_limit = ' + Number(workerData.journalSizeLimit));
const checkpoint = () => {
  try {
    db.pragma('wal_checkpoint(PASSIVE)');
  } catch (err) {
    parentPort.postMessage({ type: 'problem', message: String(err && err.message ? err.message : err) });
  }
};
const timer = setInterval(checkpoint, workerData.intervalMs);
parentPort.on('message', (message) => {
  if (message !== 'stop') return;
  clearInterval(timer);
  checkpoint();
  db.close();
  parentPort.postMessage({ type: 'stopped' });
  parentPort.close();
});
parentPort.postMessage({ type: 'ready' });
`;

type WorkerMessage = { type: 'ready' } | { type: 'stopped' } | { type: 'problem'; message: string };

/** Starts the checkpoint worker for `db`'s file. An in-memory database has no WAL: null. */
export function startWalCheckpointer(db: Db, opts: CheckpointerOptions = {}): WalCheckpointer | null {
  if (db.memory) return null;
  const onProblem = opts.onProblem ?? ((): void => undefined);
  db.pragma(`journal_size_limit = ${JOURNAL_SIZE_LIMIT_BYTES}`);
  const worker = new Worker(WORKER_SOURCE, {
    eval: true,
    workerData: {
      module: createRequire(import.meta.url).resolve('better-sqlite3'),
      file: db.name,
      intervalMs: opts.intervalMs ?? 1000,
      journalSizeLimit: JOURNAL_SIZE_LIMIT_BYTES,
    },
  });
  worker.unref();

  let markReady: (ok: boolean) => void = () => undefined;
  const ready = new Promise<boolean>((resolve) => {
    markReady = resolve;
  });
  let stopping = false;
  let gone = false;
  /** Automatic checkpoints on again; the first time the worker is gone unasked, say why. */
  const fallBack = (why: string): void => {
    if (db.open) db.pragma(`wal_autocheckpoint = ${AUTO_CHECKPOINT_PAGES}`);
    markReady(false);
    if (gone || stopping) return;
    gone = true;
    onProblem(`${why}: SQLite checkpoints in the server's own thread again`);
  };
  const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));

  worker.on('message', (message: WorkerMessage) => {
    if (message.type === 'ready') {
      if (!stopping && db.open) db.pragma('wal_autocheckpoint = 0');
      markReady(!stopping);
    } else if (message.type === 'problem') {
      onProblem(`WAL checkpoint failed in the checkpoint worker: ${message.message}`);
    }
  });
  worker.on('error', (err: Error) => fallBack(`the WAL checkpoint worker failed (${err.message})`));
  worker.on('exit', (code) => fallBack(`the WAL checkpoint worker exited with code ${code}`));

  return {
    ready,
    async stop(): Promise<void> {
      if (stopping) return exited;
      stopping = true;
      // On before the worker's last checkpoint: no commit from here on grows an unwatched WAL.
      fallBack('stopped');
      // Held until it has exited: unref'd, a process with nothing else left to do would exit
      // inside this await, before the caller closes the database.
      worker.ref();
      worker.postMessage('stop');
      await exited;
    },
  };
}
