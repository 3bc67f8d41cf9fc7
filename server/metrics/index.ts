// Prometheus metrics (prom-client), on a registry of their own per server: never the global
// default registry, so two servers in one process (tests, the demo) never mix their counts.
//
// Counters and the histogram are fed by the code that sees the event (webhook intake, the job
// handlers). Gauges are read from the store when Prometheus scrapes, so they are always the
// store's truth, also right after a restart.

import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { jobCounts } from '../jobs/queue.js';
import type { Db } from '../store/db.js';

export type DeliveryResult = 'accepted' | 'refused' | 'ignored' | 'duplicate';
export type CommandResult = 'succeeded' | 'failed';
/** The git work a plan or a drift sweep waits on (see server/workspace/git.ts). */
export type GitRequest = 'fetch' | 'worktree_add' | 'checkout' | 'maintenance';

export interface MetricsOptions {
  db: Db;
  version: string;
  /**
   * Each project's drift state, as the web UI reads it. Without it the store is asked: the first
   * of `drift_projects`, `drift_states`, `drift_state`, `drift` that exists and has a `state`
   * column; with none, the gauge reports nothing.
   */
  driftStates?: () => readonly { state: string }[];
  /** Collect prom-client's default process metrics; default true. */
  defaultMetrics?: boolean;
}

/** Seconds: a fetch of a small repository over loopback to a large one over the internet. */
export const GIT_BUCKETS: readonly number[] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300];

/** Seconds: a quick `help` to a long apply. */
export const COMMAND_BUCKETS: readonly number[] = [0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1200, 1800, 3600];

/**
 * Event names kept as label values. The event header of a refused delivery is whatever the
 * sender wrote, so anything else counts as `other`: no sender can grow the label set.
 */
export const KNOWN_EVENTS: readonly string[] = [
  'issue_comment',
  'pull_request',
  'pull_request_review',
  'pull_request_review_comment',
  'push',
  'ping',
  'installation',
  'installation_repositories',
  'check_run',
  'check_suite',
  'status',
  'repository',
];

/** The label an event header is counted under. */
export function eventLabel(event: string): string {
  return KNOWN_EVENTS.includes(event) ? event : 'other';
}

/** Where the drift module keeps each project's state (`drift_projects`), then older guesses. */
const DRIFT_TABLES = ['drift_projects', 'drift_states', 'drift_state', 'drift'] as const;
const KINDS = ['terraform', 'kubernetes'] as const;

/** Counts of projects per drift state, from the store's drift table if there is one. */
export function driftCountsFromStore(db: Db): Map<string, number> {
  const counts = new Map<string, number>();
  const tables = new Set((db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").pluck().all() as string[]));
  const hasState = (t: string): boolean => (db.prepare(`PRAGMA table_info("${t}")`).all() as { name: string }[]).some((c) => c.name === 'state');
  const table = DRIFT_TABLES.find((t) => tables.has(t) && hasState(t));
  if (table === undefined) return counts;
  for (const row of db.prepare(`SELECT state, COUNT(*) AS n FROM "${table}" GROUP BY state`).all() as { state: unknown; n: number }[]) {
    counts.set(String(row.state), row.n);
  }
  return counts;
}

function countStates(rows: readonly { state: string }[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const row of rows) counts.set(row.state, (counts.get(row.state) ?? 0) + 1);
  return counts;
}

export class Metrics {
  readonly registry: Registry;
  readonly #deliveries: Counter<'event' | 'result'>;
  readonly #commands: Histogram<'command' | 'kind' | 'result'>;
  readonly #planFailures: Counter<'kind'>;
  readonly #applyFailures: Counter<'kind'>;
  readonly #git: Histogram<'request' | 'result'>;

  constructor(opts: MetricsOptions) {
    const registry = new Registry();
    this.registry = registry;
    const registers = [registry];
    const { db } = opts;
    /** Gauges read the store at scrape time; a closed store (shutting down) reports nothing new. */
    const readable = (): boolean => db.open;

    this.#deliveries = new Counter({
      name: 'tideline_webhook_deliveries_total',
      help: 'GitHub webhook deliveries received, by event and result (accepted, refused, ignored, duplicate).',
      labelNames: ['event', 'result'] as const,
      registers,
    });
    this.#commands = new Histogram({
      name: 'tideline_command_duration_seconds',
      help: 'Duration of commands (plan, apply, unlock, drift …) by command, project kind and result.',
      labelNames: ['command', 'kind', 'result'] as const,
      buckets: [...COMMAND_BUCKETS],
      registers,
    });
    this.#git = new Histogram({
      name: 'tideline_git_request_duration_seconds',
      help: 'Duration of git work: fetch, worktree_add and checkout (before terraform or kubectl can start), and the cache upkeep (maintenance); by result.',
      labelNames: ['request', 'result'] as const,
      buckets: [...GIT_BUCKETS],
      registers,
    });
    this.#planFailures = new Counter({ name: 'tideline_plan_failures_total', help: 'Project plans that failed, by project kind.', labelNames: ['kind'] as const, registers });
    this.#applyFailures = new Counter({ name: 'tideline_apply_failures_total', help: 'Project applies that failed, by project kind.', labelNames: ['kind'] as const, registers });
    // Zero series for the known kinds, so rate() and alerts work before the first failure.
    for (const kind of KINDS) {
      this.#planFailures.inc({ kind }, 0);
      this.#applyFailures.inc({ kind }, 0);
    }

    const queueDepth: Gauge = new Gauge({
      name: 'tideline_queue_depth',
      help: 'Jobs waiting in the queue.',
      registers,
      collect: (): void => {
        if (readable()) queueDepth.set(jobCounts(db).queued);
      },
    });
    const running: Gauge = new Gauge({
      name: 'tideline_jobs_running',
      help: 'Jobs running now.',
      registers,
      collect: (): void => {
        if (readable()) running.set(jobCounts(db).running);
      },
    });
    const locks: Gauge = new Gauge({
      name: 'tideline_locks_held',
      help: 'Project locks held by pull requests.',
      registers,
      collect: (): void => {
        if (readable()) locks.set((db.prepare('SELECT COUNT(*) AS n FROM locks').get() as { n: number }).n);
      },
    });
    const drift: Gauge<'state'> = new Gauge({
      name: 'tideline_projects_by_drift_state',
      help: 'Projects of the default branch by drift state (clean, drifted, error, skipped).',
      labelNames: ['state'] as const,
      registers,
      collect: (): void => {
        if (!readable()) return;
        const counts = opts.driftStates === undefined ? driftCountsFromStore(db) : countStates(opts.driftStates());
        drift.reset();
        for (const [state, n] of counts) drift.set({ state }, n);
      },
    });
    const info = new Gauge({ name: 'tideline_build_info', help: 'Always 1; the version label says which Tideline runs.', labelNames: ['version'] as const, registers });
    info.set({ version: opts.version }, 1);

    if (opts.defaultMetrics !== false) collectDefaultMetrics({ register: registry });
  }

  deliveryReceived(event: string, result: DeliveryResult): void {
    this.#deliveries.inc({ event: eventLabel(event), result });
  }

  commandFinished(command: string, kind: string, result: CommandResult, seconds: number): void {
    this.#commands.observe({ command, kind, result }, seconds);
  }

  gitRequest(request: GitRequest, result: CommandResult, seconds: number): void {
    this.#git.observe({ request, result }, seconds);
  }

  planFailed(kind: string): void {
    this.#planFailures.inc({ kind });
  }

  applyFailed(kind: string): void {
    this.#applyFailures.inc({ kind });
  }

  /** The exposition text Prometheus scrapes. */
  async text(): Promise<string> {
    return this.registry.metrics();
  }
}
