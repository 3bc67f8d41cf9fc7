// A job this version cannot read (a payload from another version, a damaged row) fails once
// with the reason and never blocks the jobs behind it, at claim time or at the next start.

import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { claimNext, enqueue, getJob, interruptRunning, listJobs, type UnreadableJob } from '../../server/jobs/queue.js';
import { WorkerPool } from '../../server/jobs/worker-pool.js';
import { openDb, type Db } from '../../server/store/db.js';
import { plan, reply, repo } from '../support/queue-jobs.js';

const DAMAGE = [
  { what: 'a payload that is not JSON', column: 'payload', value: '{"repo": {"owner": "acme"' },
  { what: 'an unknown job type', column: 'type', value: 'rebase' },
  { what: 'a payload of another shape', column: 'payload', value: '{"repository": "acme/infra", "pull": 1, "text": "x"}' },
] as const;

function state(db: Db, id: number): { state: string; error: string | null } {
  return db.prepare('SELECT state, error FROM jobs WHERE id = ?').get(id) as { state: string; error: string | null };
}

describe('a job this version cannot read', () => {
  it.each(DAMAGE)('with $what fails at claim, and the job behind it on the same pull runs', ({ column, value }) => {
    const db = openDb({ dataDir: ':memory:' });
    const bad = reply(db, 1, 'bad');
    db.prepare(`UPDATE jobs SET ${column} = ? WHERE id = ?`).run(value, bad);
    const good = reply(db, 1, 'good');
    const seen: UnreadableJob[] = [];
    expect(claimNext(db, (j) => seen.push(j))?.id).toBe(good);
    expect(seen.map((j) => [j.id, j.repo, j.pull])).toEqual([[bad, 'acme/infra', 1]]);
    expect(state(db, bad).state).toBe('failed');
    expect(state(db, bad).error).toMatch(/cannot read the job/);
    expect(getJob(db, bad)).toBeNull();
    expect(listJobs(db, ['failed', 'running']).map((j) => j.id)).toEqual([good]);
  });

  it('left running by a dead process, is marked interrupted at the next start without stopping it', () => {
    const db = openDb({ dataDir: ':memory:' });
    // Commands, unlike replies, are interrupted rather than run again.
    const bad = plan(db, 1);
    const ok = plan(db, 2);
    claimNext(db);
    claimNext(db);
    db.prepare('UPDATE jobs SET payload = ? WHERE id = ?').run('not json', bad);
    const seen: number[] = [];
    expect(interruptRunning(db, 'restart', (j) => seen.push(j.id)).map((j) => j.id)).toEqual([ok]);
    expect(seen).toEqual([bad]);
    expect(state(db, bad).state).toBe('interrupted');
  });

  it('does not wedge the worker pool', async () => {
    const db = openDb({ dataDir: ':memory:' });
    const bad = reply(db, 1, 'bad');
    db.prepare('UPDATE jobs SET payload = ? WHERE id = ?').run('not json', bad);
    reply(db, 1, 'after');
    const ran: string[] = [];
    const unreadable: number[] = [];
    const pool = new WorkerPool({
      db,
      parallelism: 1,
      log: pino({ level: 'silent' }),
      onUnreadable: (j) => unreadable.push(j.id),
      handlers: {
        command: async () => {},
        release: async () => {},
        drift: async () => {},
        reply: async (job) => {
          ran.push(job.payload.body ?? '');
        },
      },
    });
    pool.start();
    await pool.idle();
    expect(ran).toEqual(['after']);
    expect(unreadable).toEqual([bad]);
    await pool.drain(1000);
  });
});

describe('a reply or release that a shutdown stops', () => {
  it.each(['reply', 'release'] as const)('%s goes back to the queue, not to interrupted', async (type) => {
    const db = openDb({ dataDir: ':memory:' });
    const id =
      type === 'reply'
        ? reply(db, 1, 'notice')
        : enqueue(db, { type: 'release', repo: repo.fullName, pull: 1, serialKey: 'acme/infra#1', payload: { repo, pull: 1, merged: true, actor: 'octocat', deliveryId: 'd1' } });
    let started!: () => void;
    const running = new Promise<void>((resolve) => (started = resolve));
    // Stands for a GitHub call that a shutdown cuts short.
    const stoppable = async (_job: unknown, signal: AbortSignal): Promise<void> => {
      started();
      await new Promise<void>((_resolve, reject) => signal.addEventListener('abort', () => reject(new Error('aborted'))));
    };
    const pool = new WorkerPool({
      db,
      parallelism: 1,
      log: pino({ level: 'silent' }),
      handlers: { command: async () => {}, drift: async () => {}, reply: stoppable, release: stoppable },
    });
    pool.start();
    await running;
    const { interrupted } = await pool.drain(1000, () => false);
    expect(state(db, id).state).toBe('queued');
    expect(interrupted.map((j) => j.id)).not.toContain(id);
    expect(claimNext(db)?.id).toBe(id);
  });
});
