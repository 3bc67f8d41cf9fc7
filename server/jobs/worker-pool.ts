// A pool of N workers over the persistent queue. Workers are async slots, not threads: the
// heavy work happens in child processes (terraform, kubectl, git), so one event loop suffices.

import type { Logger } from 'pino';
import type { Db } from '../store/db.js';
import { claimNext, finishJob, interruptRunning, type Job } from './queue.js';
import type { JobType } from './types.js';

export type JobHandlers = { [T in JobType]: (job: Job<T>) => Promise<void> };

export interface WorkerPoolOptions {
  db: Db;
  parallelism: number;
  handlers: JobHandlers;
  log: Logger;
  /** How often to look for runnable jobs when nobody calls notify(); default 1 s. */
  pollMs?: number;
}

export class WorkerPool {
  readonly #opts: WorkerPoolOptions;
  readonly #running = new Map<number, Promise<void>>();
  #accepting = false;
  #timer: NodeJS.Timeout | null = null;
  #idleWaiters: (() => void)[] = [];

  constructor(opts: WorkerPoolOptions) {
    this.#opts = opts;
  }

  get running(): number {
    return this.#running.size;
  }

  start(): void {
    this.#accepting = true;
    this.#timer = setInterval(() => this.notify(), this.#opts.pollMs ?? 1000);
    this.#timer.unref();
    this.notify();
  }

  /** Something was enqueued or finished: fill free slots. */
  notify(): void {
    while (this.#accepting && this.#running.size < this.#opts.parallelism) {
      const job = claimNext(this.#opts.db);
      if (job === null) break;
      const done = this.#run(job).finally(() => {
        this.#running.delete(job.id);
        this.notify();
        this.#wakeIdle();
      });
      this.#running.set(job.id, done);
    }
    this.#wakeIdle();
  }

  /** Resolves once no job is running and none is runnable (tests and the demo wait on this). */
  async idle(): Promise<void> {
    for (;;) {
      if (this.#running.size === 0) {
        this.notify();
        if (this.#running.size === 0) return;
      }
      await new Promise<void>((resolve) => this.#idleWaiters.push(resolve));
    }
  }

  /**
   * Stops taking jobs, waits up to `timeoutMs` for running ones, then marks what is still
   * running as interrupted so the next start tells its PR. Queued jobs stay queued.
   */
  async drain(timeoutMs: number): Promise<{ interrupted: Job[] }> {
    this.#accepting = false;
    if (this.#timer !== null) clearInterval(this.#timer);
    this.#timer = null;
    const all = Promise.allSettled([...this.#running.values()]);
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), timeoutMs);
    });
    const outcome = await Promise.race([all.then(() => 'done' as const), timeout]);
    clearTimeout(timer);
    if (outcome === 'done') return { interrupted: [] };
    return { interrupted: interruptRunning(this.#opts.db, 'server shut down while the job ran') };
  }

  async #run(job: Job): Promise<void> {
    const log = this.#opts.log.child({ job: job.id, type: job.type, repo: job.repo, pull: job.pull });
    const handler = this.#opts.handlers[job.type] as (j: Job) => Promise<void>;
    const started = Date.now();
    try {
      await handler(job);
      finishJob(this.#opts.db, job.id, 'succeeded');
      log.info({ ms: Date.now() - started }, 'job succeeded');
    } catch (err: unknown) {
      const message = err instanceof Error ? err.message : String(err);
      log.error({ err, ms: Date.now() - started }, 'job failed');
      try {
        finishJob(this.#opts.db, job.id, 'failed', message);
      } catch (dbErr: unknown) {
        log.error({ err: dbErr }, 'could not record job failure');
      }
    }
  }

  #wakeIdle(): void {
    const waiters = this.#idleWaiters;
    this.#idleWaiters = [];
    for (const w of waiters) w();
  }
}
