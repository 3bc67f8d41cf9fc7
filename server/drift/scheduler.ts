// The drift scheduler: for each repository the server serves, enqueue a sweep when one of its
// schedules has a slot — the repository's (repo config `drift.schedule` where the server allows
// it, else the server rule's, else TIDELINE_DRIFT_SCHEDULE) or one of its projects' own.
// What has been handled is stored per repository (`drift_repos.last_tick`), so after a restart
// the slots missed while the server was down cause ONE sweep, not one per missed slot. A
// repository seen for the first time starts counting from then (nothing was missed). A sweep
// already queued for a repository absorbs the next slot instead of queueing another.

import type { Logger } from 'pino';
import { effectiveRules, type ServerRepoConfig } from '../projects/index.js';
import type { Db } from '../store/db.js';
import { knownRepos, type KnownRepo } from '../store/repos.js';
import { nextSlot, SCHEDULE_OFF, slotBetween } from './schedule-math.js';
import { getDriftRepo, projectSchedules, recordTick, type DriftRepoRow } from './store.js';
import { driftJobKey } from './sweep.js';

export interface DriftSchedulerOptions {
  db: Db;
  /** TIDELINE_DRIFT_SCHEDULE: the default for repositories without a schedule of their own. */
  schedule: string | 'off';
  /** The server rules' schedule for a repository (`repos[].drift`); null: none. See `serverRuleSchedule`. */
  perRepo?: (repo: KnownRepo) => string | null;
  /** Must enqueue synchronously (one INSERT): it runs in the transaction that records the slot. */
  enqueue: (repo: KnownRepo, trigger: 'schedule') => void;
  /** TIDELINE_REPO_ALLOWLIST: repositories taken off it are not swept; absent: every known one is. */
  isAllowed?: (repoFullName: string) => boolean;
  log: Logger;
  now?: () => Date;
  /** Longest sleep between looks, so new repositories and clock changes are noticed; default 60 s. */
  maxSleepMs?: number;
}

export interface DriftScheduler {
  stop(): void;
  /** Looks now; returns how many sweeps it enqueued. Runs at start and on every wake-up. */
  tick(): number;
}

/** The repositories learned from webhooks that the allowlist still admits. */
function servedRepos(opts: DriftSchedulerOptions): KnownRepo[] {
  const allowed = opts.isAllowed;
  return allowed === undefined ? knownRepos(opts.db) : knownRepos(opts.db).filter((repo) => allowed(repo.fullName));
}

export function startDriftScheduler(opts: DriftSchedulerOptions): DriftScheduler {
  const now = opts.now ?? ((): Date => new Date());
  const log = opts.log.child({ component: 'drift-scheduler' });
  const maxSleepMs = opts.maxSleepMs ?? 60_000;
  let timer: NodeJS.Timeout | null = null;
  let stopped = false;

  function tick(): number {
    const at = now();
    let enqueued = 0;
    for (const repo of servedRepos(opts)) {
      const row = getDriftRepo(opts.db, repo.fullName);
      const main = repoSchedule(opts, repo, row);
      const last = row?.lastTick === null || row?.lastTick === undefined ? null : new Date(row.lastTick);
      if (last === null) {
        recordTick(opts.db, repo.fullName, main, at.toISOString(), false);
        continue;
      }
      const handledUntil = at.getTime() > last.getTime() ? at : last;
      const due = schedulesOf(opts.db, repo, row, main).some((s) => slotBetween(s, last, at));
      const queue = due && !sweepQueued(opts.db, repo.fullName);
      opts.db.transaction(() => {
        if (queue) opts.enqueue(repo, 'schedule');
        recordTick(opts.db, repo.fullName, main, handledUntil.toISOString(), queue);
      })();
      if (queue) {
        enqueued += 1;
        log.info({ repo: repo.fullName, schedule: main, since: last.toISOString() }, 'drift sweep enqueued');
      } else if (due) {
        log.info({ repo: repo.fullName }, 'drift sweep already queued: slot absorbed');
      }
    }
    return enqueued;
  }

  function wakeIn(): number {
    const at = now();
    let earliest = at.getTime() + maxSleepMs;
    for (const repo of servedRepos(opts)) {
      const row = getDriftRepo(opts.db, repo.fullName);
      for (const s of schedulesOf(opts.db, repo, row, repoSchedule(opts, repo, row))) {
        const next = nextSlot(s, at);
        if (next !== null) earliest = Math.min(earliest, next.getTime());
      }
    }
    // A few ms past the slot, so `now()` is at or after it when the tick runs.
    return Math.max(0, earliest - at.getTime()) + 5;
  }

  function wake(): void {
    try {
      tick();
    } catch (err: unknown) {
      log.error({ err }, 'drift scheduler tick failed');
    }
    arm();
  }

  function arm(): void {
    if (stopped) return;
    let delay = maxSleepMs;
    try {
      delay = wakeIn();
    } catch (err: unknown) {
      log.error({ err }, 'drift scheduler could not compute its next slot');
    }
    timer = setTimeout(wake, delay);
    timer.unref();
  }

  wake();
  log.info({ schedule: opts.schedule }, 'drift scheduler started');
  return {
    tick,
    stop(): void {
      stopped = true;
      if (timer !== null) clearTimeout(timer);
      timer = null;
    },
  };
}

/** The repository's schedule: its repo config's (when allowed), else the server rule's, else the default. */
export function repoSchedule(opts: Pick<DriftSchedulerOptions, 'schedule' | 'perRepo'>, repo: KnownRepo, row: DriftRepoRow | null): string {
  if (row?.configEnabled === false) return SCHEDULE_OFF;
  return row?.configSchedule ?? opts.perRepo?.(repo) ?? opts.schedule;
}

/** `perRepo` from the server config's `repos[].drift`: its schedule, `off` where it disables drift. */
export function serverRuleSchedule(repoRules: ServerRepoConfig, host: string): (repo: KnownRepo) => string | null {
  return (repo) => {
    const drift = effectiveRules(repoRules, repo.fullName, { baseBranch: repo.defaultBranch, host }).drift;
    if (drift.enabled === false) return SCHEDULE_OFF;
    return drift.schedule ?? null;
  };
}

function schedulesOf(db: Db, repo: KnownRepo, row: DriftRepoRow | null, main: string): string[] {
  if (row?.configEnabled === false) return [];
  return [...new Set([main, ...projectSchedules(db, repo.fullName)])].filter((s) => s !== SCHEDULE_OFF);
}

function sweepQueued(db: Db, repo: string): boolean {
  return db.prepare("SELECT 1 FROM jobs WHERE serial_key = ? AND state = 'queued' LIMIT 1").get(driftJobKey(repo)) !== undefined;
}
