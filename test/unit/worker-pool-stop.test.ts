// A job a shutdown stops is marked interrupted and its pull request's notice queued together,
// once: never marked and left untold, never told twice.

import { pino } from 'pino';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { getJob, interruptRunning } from '../../server/jobs/queue.js';
import { JobInterruptedError, WorkerPool, type JobHandlers } from '../../server/jobs/worker-pool.js';
import { openDb, type Db } from '../../server/store/db.js';
import { plan } from '../support/queue-jobs.js';

function pool(db: Db, command: JobHandlers['command'], onInterrupted: () => void, logs: string[] = []): WorkerPool {
  const nothing = async (): Promise<void> => {};
  const log = pino({ level: 'info' }, { write: (line: string) => void logs.push(line) });
  return new WorkerPool({ db, parallelism: 1, log, handlers: { command, release: nothing, reply: nothing, drift: nothing }, onInterrupted });
}

function messages(logs: readonly string[]): string[] {
  return logs.map((line) => (JSON.parse(line) as { msg: string }).msg);
}

describe('a job a shutdown stops', () => {
  afterEach(() => vi.useRealTimers());

  it('is told once when its handler returns after the stop gave up on it and told it', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval'] });
    const db = openDb({ dataDir: ':memory:' });
    const id = plan(db, 1);
    let release = (): void => {};
    const gate = new Promise<void>((resolve) => (release = resolve));
    let told = 0;
    const logs: string[] = [];
    // A handler that does not react to its signal (a GitHub call that never answers), then stops.
    const p = pool(db, async () => {
      await gate;
      throw new JobInterruptedError('stopped');
    }, () => (told += 1), logs);
    p.start();
    const drained = p.drain(0, () => false);
    await vi.advanceTimersByTimeAsync(10_001);
    expect((await drained).interrupted.map((j) => j.id)).toEqual([id]);
    expect(told).toBe(1);

    release();
    await new Promise((resolve) => setImmediate(resolve));
    expect(told).toBe(1);
    expect(getJob(db, id)?.state).toBe('interrupted');
    // Logged once as interrupted too: the handler's late end is not a second interruption.
    expect(messages(logs)).not.toContain('job interrupted by shutdown');
    expect(messages(logs)).toContain('job ended after the stop had recorded it');
  });

  it('stays running for the next start to tell when its notice cannot be queued', async () => {
    const db = openDb({ dataDir: ':memory:' });
    const id = plan(db, 1);
    const p = pool(db, async (_job, signal) => {
      await new Promise((resolve) => signal.addEventListener('abort', resolve, { once: true }));
      throw new JobInterruptedError('stopped');
    }, () => {
      // What server.ts's tellInterrupted does when the reply's INSERT is refused.
      throw new Error('injected: no reply now');
    });
    p.start();
    await p.drain(0, () => false).catch(() => {});
    expect(getJob(db, id)?.state).toBe('running');
    // The next start finds it, to tell it.
    expect(interruptRunning(db, 'restart').map((j) => j.id)).toEqual([id]);
  });
});
