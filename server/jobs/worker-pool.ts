// A pool of N workers over the persistent queue. Workers are async slots, not threads: the
// heavy work happens in child processes (terraform, kubectl, git), so one event loop suffices.

import type { Logger } from 'pino';
import type { Db } from '../store/db.js';
import { claimNext, finishJob, getJob, interruptJob, interruptRunning, redoneAfterStop, requeueJob, type Job, type UnreadableJob } from './queue.js';
import type { JobType } from './types.js';

/** `signal` aborts when the server shuts down and will not wait for the job. */
export type JobHandlers = { [T in JobType]: (job: Job<T>, signal: AbortSignal) => Promise<void> };

/** A handler saw its signal abort and stopped: the job is interrupted, not failed. */
export class JobInterruptedError extends Error {
  override readonly name = 'JobInterruptedError';
}

/**
 * What went wrong once a job's work had run to its end (its reply refused, say): a shutdown
 * that began meanwhile cut nothing short, so the job failed; it was not interrupted. Carries
 * the message of the error it wraps.
 */
export class AfterWorkError extends Error {
  override readonly name = 'AfterWorkError';
  constructor(cause: unknown) {
    super(cause instanceof Error ? cause.message : String(cause), { cause });
  }
}

/** Runs what a job does after its work ran to its end; what it throws is an AfterWorkError. */
export async function afterWork<T>(tell: () => Promise<T>): Promise<T> {
  try {
    return await tell();
  } catch (err: unknown) {
    throw err instanceof AfterWorkError ? err : new AfterWorkError(err);
  }
}

/**
 * A job that threw was stopped by the shutdown when it says so, or when it threw after its
 * signal aborted, unless the work had already run to its end (AfterWorkError).
 */
export function stoppedByShutdown(err: unknown, signal: AbortSignal): boolean {
  return err instanceof JobInterruptedError || (signal.aborted && !(err instanceof AfterWorkError));
}

export interface WorkerPoolOptions {
  db: Db;
  parallelism: number;
  handlers: JobHandlers;
  log: Logger;
  /** How often to look for runnable jobs when nobody calls notify(); default 1 s. */
  pollMs?: number;
  /** Called for each job stopped by shutdown, after it is marked interrupted. */
  onInterrupted?: (job: Job) => void;
  /** Called for each job this version cannot read, after it is marked failed (never run). */
  onUnreadable?: (job: UnreadableJob) => void;
}

export class WorkerPool {
  readonly #opts: WorkerPoolOptions;
  readonly #running = new Map<number, { job: Job; done: Promise<void>; abort: AbortController }>();
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
      const job = claimNext(this.#opts.db, (bad) => this.#unreadable(bad));
      if (job === null) break;
      const abort = new AbortController();
      const done = this.#run(job, abort.signal).finally(() => {
        this.#running.delete(job.id);
        this.notify();
        this.#wakeIdle();
      });
      this.#running.set(job.id, { job, done, abort });
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
   * Stops taking jobs. Jobs `keepRunning` accepts (applies: stopping one half-way is worse
   * than waiting) get up to `timeoutMs` to finish; every other running job is stopped at once
   * (its children killed) and marked interrupted, as are those still running at the timeout,
   * except a job whose work had run to its end: it finishes telling its pull request, and is
   * recorded as it ended. Queued jobs stay queued and resume at the next start. Returns the
   * jobs that were interrupted.
   */
  async drain(timeoutMs: number, keepRunning: (job: Job) => boolean = () => true): Promise<{ interrupted: Job[] }> {
    this.#accepting = false;
    if (this.#timer !== null) clearInterval(this.#timer);
    this.#timer = null;
    const signalled: Job[] = [];
    for (const entry of this.#running.values()) {
      if (keepRunning(entry.job)) continue;
      signalled.push(entry.job);
      entry.abort.abort();
    }
    const settle = async (ms: number): Promise<boolean> => {
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<false>((resolve) => {
        timer = setTimeout(() => resolve(false), ms);
      });
      const all = Promise.allSettled([...this.#running.values()].map((e) => e.done)).then(() => true);
      const done = await Promise.race([all, timeout]);
      clearTimeout(timer);
      return done;
    };
    if (!(await settle(timeoutMs))) {
      for (const entry of this.#running.values()) {
        signalled.push(entry.job);
        entry.abort.abort();
      }
      // Aborted children die within exec's kill grace; give the handlers that long to record it.
      await settle(10_000);
    }
    // Anything still running did not react to its signal: record it as interrupted anyway, or as
    // failed if its work had ended (a reply GitHub never answered); its PR is told either way.
    const stuck = this.tellLeftRunning('server shut down while the job ran');
    // Only what the stop cut short: a signalled job that had done its work finished anyway, and
    // replies and releases stopped here went back to the queue (queue.ts redoneAfterStop).
    const stopped = [...signalled, ...stuck].filter((j) => getJob(this.#opts.db, j.id)?.state === 'interrupted');
    return { interrupted: [...new Map(stopped.map((j) => [j.id, j])).values()] };
  }

  async #run(job: Job, signal: AbortSignal): Promise<void> {
    const log = this.#opts.log.child({ job: job.id, type: job.type, repo: job.repo, pull: job.pull });
    const handler = this.#opts.handlers[job.type] as (j: Job, s: AbortSignal) => Promise<void>;
    const started = Date.now();
    try {
      await handler(job, signal);
      // A job that finished is done, whether or not a shutdown began meanwhile: a handler the
      // shutdown cut short throws (JobInterruptedError), so its work is not reported as done.
      finishJob(this.#opts.db, job.id, 'succeeded');
      log.info({ ms: Date.now() - started, stopping: signal.aborted }, 'job succeeded');
    } catch (err: unknown) {
      const stopped = stoppedByShutdown(err, signal);
      if (stopped && redoneAfterStop(job.type)) {
        requeueJob(this.#opts.db, job.id);
        log.warn({ err, ms: Date.now() - started }, 'job stopped by shutdown: it runs again at the next start');
        return;
      }
      if (stopped) {
        // Marked and told in one transaction, as at start-up: a notice that cannot be queued
        // leaves the job running, for the next start to tell. A job the stop had given up on
        // and already told (drain's last pass) is not told twice.
        try {
          const marked = this.#opts.db.transaction(() => {
            const now = interruptJob(this.#opts.db, job.id, 'server shut down while the job ran');
            if (now) this.#opts.onInterrupted?.(job);
            return now;
          })();
          if (marked) log.warn({ ms: Date.now() - started }, 'job interrupted by shutdown');
          else log.info({ ms: Date.now() - started }, 'job ended after the stop had recorded it');
        } catch (dbErr: unknown) {
          log.error({ err: dbErr }, 'could not record the interruption: the next start tells it');
        }
        return;
      }
      const message = err instanceof Error ? err.message : String(err);
      log.error({ err, ms: Date.now() - started }, 'job failed');
      try {
        finishJob(this.#opts.db, job.id, 'failed', message);
      } catch (dbErr: unknown) {
        log.error({ err: dbErr }, 'could not record job failure');
      }
    }
  }

  /**
   * Every job still `running` (a dead process's, at start-up; one that ignored its signal, at a
   * stop) is marked, and its pull request told (onInterrupted), in one transaction: a notice
   * that cannot be queued leaves the job running for the next start, never marked and untold.
   */
  tellLeftRunning(reason: string): Job[] {
    return this.#opts.db.transaction(() => {
      const jobs = interruptRunning(this.#opts.db, reason, (bad) => this.#unreadable(bad));
      for (const job of jobs) this.#opts.onInterrupted?.(job);
      return jobs;
    })();
  }

  #unreadable(job: UnreadableJob): void {
    this.#opts.log.error({ job: job.id, type: job.type, repo: job.repo, pull: job.pull, reason: job.error }, 'job cannot be read: failed without running');
    this.#opts.onUnreadable?.(job);
  }

  #wakeIdle(): void {
    const waiters = this.#idleWaiters;
    this.#idleWaiters = [];
    for (const w of waiters) w();
  }
}
