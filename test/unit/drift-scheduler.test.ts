import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { startDriftScheduler, type DriftScheduler } from '../../server/drift/scheduler.js';
import { getDriftRepo, recordRepoDriftConfig, saveDriftRecord } from '../../server/drift/store.js';
import { openDb, type Db } from '../../server/store/db.js';
import { rememberRepo, type KnownRepo } from '../../server/store/repos.js';

const REPO: KnownRepo = { fullName: 'acme/infra', owner: 'acme', name: 'infra', cloneUrl: 'file:///x', defaultBranch: 'main' };
const HOURLY = '0 * * * *';
const log = pino({ level: 'silent' });

describe('drift scheduler', () => {
  let db: Db;
  let clock: Date;
  let enqueued: string[];
  let running: DriftScheduler[];

  function start(schedule: string, extra: { perRepo?: (repo: KnownRepo) => string | null; isAllowed?: (repo: string) => boolean } = {}): DriftScheduler {
    const scheduler = startDriftScheduler({ db, schedule, log, now: () => clock, enqueue: (repo) => enqueued.push(repo.fullName), maxSleepMs: 3_600_000, ...extra });
    running.push(scheduler);
    return scheduler;
  }

  beforeEach(() => {
    db = openDb({ dataDir: ':memory:' });
    rememberRepo(db, REPO);
    enqueued = [];
    running = [];
  });
  afterEach(() => {
    for (const s of running) s.stop();
    vi.useRealTimers();
    db.close();
  });

  it('runs the slots missed while the server was down once, not once per missed slot', () => {
    clock = new Date('2026-01-01T10:30:00Z');
    start(HOURLY).stop();
    expect(enqueued).toEqual([]); // first sight of the repository: nothing was missed

    // 26 hourly slots pass while nothing runs; then the server starts again.
    clock = new Date('2026-01-02T12:10:00Z');
    const scheduler = start(HOURLY);
    expect(enqueued).toEqual(['acme/infra']);
    expect(scheduler.tick()).toBe(0);
    expect(getDriftRepo(db, REPO.fullName)).toMatchObject({ lastTick: '2026-01-02T12:10:00.000Z', lastEnqueued: '2026-01-02T12:10:00.000Z', effectiveSchedule: HOURLY });

    clock = new Date('2026-01-02T12:59:59Z');
    expect(scheduler.tick()).toBe(0);
    clock = new Date('2026-01-02T13:00:00Z');
    expect(scheduler.tick()).toBe(1);
    expect(enqueued).toEqual(['acme/infra', 'acme/infra']);
  });

  it('no longer sweeps a repository taken off TIDELINE_REPO_ALLOWLIST, though the server still knows it', () => {
    clock = new Date('2026-01-01T10:30:00Z');
    start(HOURLY).stop();
    clock = new Date('2026-01-01T11:00:00Z');
    const allowed = start(HOURLY, { isAllowed: (repo) => repo.startsWith('acme/') });
    expect(enqueued).toEqual(['acme/infra']);
    allowed.stop();
    clock = new Date('2026-01-01T12:00:00Z');
    const removed = start(HOURLY, { isAllowed: (repo) => repo.startsWith('other/') });
    expect(removed.tick()).toBe(0);
    expect(enqueued).toEqual(['acme/infra']);
  });

  it('wakes itself at each slot', () => {
    vi.useFakeTimers({ now: new Date('2026-03-01T09:59:50Z') });
    clock = new Date();
    const scheduler = startDriftScheduler({ db, schedule: HOURLY, log, enqueue: (repo) => enqueued.push(repo.fullName) });
    running.push(scheduler);
    expect(enqueued).toEqual([]);
    vi.advanceTimersByTime(9_000);
    expect(enqueued).toEqual([]);
    vi.advanceTimersByTime(2_000);
    expect(enqueued).toEqual(['acme/infra']);
    vi.advanceTimersByTime(3 * 3_600_000);
    expect(enqueued).toHaveLength(4);
  });

  it('absorbs a slot while a sweep of the repository is still queued', () => {
    clock = new Date('2026-01-01T10:30:00Z');
    const scheduler = start(HOURLY);
    db.prepare("INSERT INTO jobs (type, repo, pull, serial_key, payload, state, created_at) VALUES ('drift', ?, NULL, ?, '{}', 'queued', ?)").run(REPO.fullName, 'drift:acme/infra', clock.toISOString());
    clock = new Date('2026-01-01T11:00:00Z');
    expect(scheduler.tick()).toBe(0);
    db.prepare("UPDATE jobs SET state = 'succeeded'").run();
    clock = new Date('2026-01-01T12:00:00Z');
    expect(scheduler.tick()).toBe(1);
  });

  it.each([
    ['the server default is off', 'off', undefined, null, 0],
    ['a server rule gives the repository its own schedule', 'off', '*/15 * * * *', null, 1],
    ['the repo config turns drift off', HOURLY, undefined, { schedule: null, enabled: false }, 0],
    ['the repo config gives its own schedule', 'off', undefined, { schedule: '*/15 * * * *', enabled: null }, 1],
  ] as const)('enqueues by the right schedule when %s', (_name, schedule, rule, repoConfig, expected) => {
    clock = new Date('2026-01-01T10:05:00Z');
    if (repoConfig !== null) recordRepoDriftConfig(db, REPO.fullName, repoConfig);
    const scheduler = start(schedule, rule === undefined ? {} : { perRepo: () => rule });
    clock = new Date('2026-01-01T10:20:00Z');
    expect(scheduler.tick()).toBe(expected);
  });

  it("enqueues on a project's own schedule too", () => {
    clock = new Date('2026-01-01T10:05:00Z');
    const now = clock.toISOString();
    saveDriftRecord(db, {
      key: 'acme/infra/app/default/',
      repo: REPO.fullName,
      dir: 'app',
      workspace: 'default',
      name: null,
      kind: 'terraform',
      state: 'clean',
      reason: null,
      summary: null,
      excerpt: null,
      headSha: null,
      schedule: '*/10 * * * *',
      fingerprint: null,
      firstSeen: null,
      lastSeen: null,
      issueNumber: null,
      issueUrl: null,
      remediatedAt: null,
      lastChecked: now,
      lastChanged: now,
    });
    const scheduler = start('0 0 * * *');
    clock = new Date('2026-01-01T10:09:00Z');
    expect(scheduler.tick()).toBe(0);
    clock = new Date('2026-01-01T10:10:00Z');
    expect(scheduler.tick()).toBe(1);
  });
});
