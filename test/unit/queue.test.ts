import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { claimNext, enqueue, finishJob, getJob, interruptRunning, jobCounts } from '../../server/jobs/queue.js';
import { WorkerPool } from '../../server/jobs/worker-pool.js';
import { openDb, type Db } from '../../server/store/db.js';
import { plan, reply, repo } from '../support/queue-jobs.js';

describe('job queue', () => {
  it('claims in order and never two jobs of one serial key at once', () => {
    const db = openDb({ dataDir: ':memory:' });
    const a1 = reply(db, 1, 'a1');
    const a2 = reply(db, 1, 'a2');
    const b1 = reply(db, 2, 'b1');
    expect(claimNext(db)?.id).toBe(a1);
    expect(claimNext(db)?.id).toBe(b1); // a2 waits behind a1
    expect(claimNext(db)).toBeNull();
    finishJob(db, a1, 'succeeded');
    expect(claimNext(db)?.id).toBe(a2);
    expect(jobCounts(db)).toMatchObject({ running: 2, succeeded: 1, queued: 0 });
  });

  it('marks commands left running by a dead process as interrupted, keeping queued ones', () => {
    const db = openDb({ dataDir: ':memory:' });
    const running = plan(db, 1);
    const queued = reply(db, 2, 'y');
    claimNext(db);
    const interrupted = interruptRunning(db, 'restart');
    expect(interrupted.map((j) => j.id)).toEqual([running]);
    expect(getJob(db, running)?.state).toBe('interrupted');
    expect(getJob(db, queued)?.state).toBe('queued');
  });

  it('puts a reply left running by a dead process back in the queue, in its place', () => {
    const db = openDb({ dataDir: ':memory:' });
    const running = reply(db, 1, 'x');
    const later = reply(db, 1, 'y');
    claimNext(db);
    expect(interruptRunning(db, 'restart')).toEqual([]);
    expect(getJob(db, running)?.state).toBe('queued');
    expect(claimNext(db)?.id).toBe(running);
    expect(getJob(db, later)?.state).toBe('queued');
  });

  it('runs up to `parallelism` jobs at once and records failures', async () => {
    const db = openDb({ dataDir: ':memory:' });
    for (let pull = 1; pull <= 6; pull += 1) reply(db, pull, pull === 3 ? 'boom' : 'ok');
    let live = 0;
    let peak = 0;
    const pool = new WorkerPool({
      db,
      parallelism: 2,
      log: pino({ level: 'silent' }),
      handlers: {
        command: async () => {},
        release: async () => {},
        drift: async () => {},
        reply: async (job) => {
          live += 1;
          peak = Math.max(peak, live);
          await new Promise((r) => setTimeout(r, 20));
          live -= 1;
          if (job.payload.body === 'boom') throw new Error('boom');
        },
      },
    });
    pool.start();
    await pool.idle();
    expect(peak).toBe(2);
    expect(jobCounts(db)).toMatchObject({ succeeded: 5, failed: 1, queued: 0, running: 0 });
    await pool.drain(1000);
  });
});
