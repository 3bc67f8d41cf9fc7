// GET /metrics: Prometheus text that parses, counters and the histogram that move with the
// calls, gauges read from the store at scrape time, one registry per server.

import { once } from 'node:events';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { register as globalRegistry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SecretMasker } from '../../runners/secrets.js';
import { AuditLog } from '../../server/audit/audit-log.js';
import { metricsRoute } from '../../server/http/metrics-route.js';
import { claimNext, enqueue } from '../../server/jobs/queue.js';
import { tryLock } from '../../server/locks/locks.js';
import { Metrics } from '../../server/metrics/index.js';
import { openDb, type Db } from '../../server/store/db.js';
import { MIGRATIONS } from '../../server/store/migrations.js';

/**
 * Exposition text → series (`name{labels}`) → value. Throws on any line that is not valid.
 * Values are read as Prometheus reads them (Go's ParseFloat: `NaN`, `Nan`, `+Inf` in any case).
 */
function parseExposition(text: string): Map<string, number> {
  const series = new Map<string, number>();
  const typed = new Set<string>();
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const meta = /^# (HELP|TYPE) ([a-zA-Z_:][a-zA-Z0-9_:]*) (.+)$/.exec(line);
    if (meta !== null) {
      if (meta[1] === 'TYPE') {
        expect(['counter', 'gauge', 'histogram', 'summary', 'untyped']).toContain(meta[3]);
        typed.add(meta[2] as string);
      }
      continue;
    }
    const sample = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(?:[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\]|\\.)*",?)*\})? (-?[0-9.e+-]+|[+-]?(?:nan|inf))( \d+)?$/i.exec(line);
    if (sample === null) throw new Error(`not a valid exposition line: ${JSON.stringify(line)}`);
    const name = sample[1] as string;
    const family = name.replace(/_(bucket|sum|count)$/, '');
    if (!typed.has(name) && !typed.has(family)) throw new Error(`sample before its TYPE line: ${line}`);
    series.set(`${name}${sample[2] ?? ''}`, Number(sample[3]));
  }
  return series;
}

interface Rig {
  db: Db;
  metrics: Metrics;
  url: string;
  server: Server;
}

async function start(opts: { driftStates?: () => { state: string }[] } = {}): Promise<Rig> {
  const db = openDb({ dataDir: ':memory:' });
  const metrics = new Metrics({ db, version: '1.2.3', ...opts });
  const app = express();
  app.get('/metrics', metricsRoute(metrics));
  const server = app.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { db, metrics, server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/metrics` };
}

async function scrape(rig: Rig): Promise<Map<string, number>> {
  const res = await fetch(rig.url);
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
  return parseExposition(await res.text());
}

const rigs: Rig[] = [];
let rig: Rig;
beforeAll(async () => {
  rig = await start();
  rigs.push(rig);
});
afterAll(async () => {
  for (const r of rigs) {
    r.server.closeAllConnections();
    await new Promise((done) => r.server.close(done));
    if (r.db.open) r.db.close();
  }
});

describe('GET /metrics', () => {
  it('serves parseable Prometheus text with the default process metrics and the build info', async () => {
    const s = await scrape(rig);
    expect(s.get('process_cpu_user_seconds_total')).toBeGreaterThanOrEqual(0);
    expect(s.get('nodejs_heap_size_total_bytes')).toBeGreaterThan(0);
    expect(s.get('tideline_build_info{version="1.2.3"}')).toBe(1);
    expect(s.get('tideline_queue_depth')).toBe(0);
    expect(s.get('tideline_jobs_running')).toBe(0);
    expect(s.get('tideline_locks_held')).toBe(0);
    expect(s.get('tideline_plan_failures_total{kind="terraform"}')).toBe(0);
    expect(s.get('tideline_apply_failures_total{kind="kubernetes"}')).toBe(0);
  });

  it('counts webhook deliveries by event and result, folding unknown events into `other`', async () => {
    rig.metrics.deliveryReceived('issue_comment', 'accepted');
    rig.metrics.deliveryReceived('issue_comment', 'accepted');
    rig.metrics.deliveryReceived('pull_request', 'duplicate');
    rig.metrics.deliveryReceived('x"}evil{', 'refused');
    rig.metrics.deliveryReceived('', 'refused');
    const s = await scrape(rig);
    expect(s.get('tideline_webhook_deliveries_total{event="issue_comment",result="accepted"}')).toBe(2);
    expect(s.get('tideline_webhook_deliveries_total{event="pull_request",result="duplicate"}')).toBe(1);
    expect(s.get('tideline_webhook_deliveries_total{event="other",result="refused"}')).toBe(2);
  });

  it('observes command durations in a histogram by command, kind and result', async () => {
    rig.metrics.commandFinished('plan', 'terraform', 'succeeded', 3.2);
    rig.metrics.commandFinished('plan', 'terraform', 'succeeded', 42);
    rig.metrics.commandFinished('apply', 'kubernetes', 'failed', 0.1);
    const s = await scrape(rig);
    const plan = 'command="plan",kind="terraform",result="succeeded"';
    expect(s.get(`tideline_command_duration_seconds_count{${plan}}`)).toBe(2);
    expect(s.get(`tideline_command_duration_seconds_sum{${plan}}`)).toBeCloseTo(45.2);
    expect(s.get(`tideline_command_duration_seconds_bucket{le="5",${plan}}`)).toBe(1);
    expect(s.get(`tideline_command_duration_seconds_bucket{le="60",${plan}}`)).toBe(2);
    expect(s.get('tideline_command_duration_seconds_count{command="apply",kind="kubernetes",result="failed"}')).toBe(1);
  });

  it('observes git work in a histogram by request and result', async () => {
    rig.metrics.gitRequest('fetch', 'succeeded', 0.02);
    rig.metrics.gitRequest('fetch', 'succeeded', 3);
    rig.metrics.gitRequest('worktree_add', 'failed', 0.004);
    const s = await scrape(rig);
    expect(s.get('tideline_git_request_duration_seconds_count{request="fetch",result="succeeded"}')).toBe(2);
    expect(s.get('tideline_git_request_duration_seconds_bucket{le="0.025",request="fetch",result="succeeded"}')).toBe(1);
    expect(s.get('tideline_git_request_duration_seconds_bucket{le="5",request="fetch",result="succeeded"}')).toBe(2);
    expect(s.get('tideline_git_request_duration_seconds_bucket{le="0.005",request="worktree_add",result="failed"}')).toBe(1);
  });

  it('counts plan and apply failures by kind', async () => {
    rig.metrics.planFailed('terraform');
    rig.metrics.applyFailed('kubernetes');
    rig.metrics.applyFailed('kubernetes');
    const s = await scrape(rig);
    expect(s.get('tideline_plan_failures_total{kind="terraform"}')).toBe(1);
    expect(s.get('tideline_apply_failures_total{kind="kubernetes"}')).toBe(2);
  });

  it('reads queue depth, running jobs and locks from the store at each scrape', async () => {
    const repo = { owner: 'acme', name: 'infra', fullName: 'acme/infra', cloneUrl: 'file:///x', defaultBranch: 'main' };
    for (const key of ['a', 'b', 'c']) enqueue(rig.db, { type: 'reply', repo: 'acme/infra', pull: 1, serialKey: key, payload: { repo, pull: 1, body: 'x' } });
    claimNext(rig.db);
    const audit = new AuditLog({ db: rig.db, configDigest: 'c'.repeat(64), masker: new SecretMasker() });
    for (const dir of ['app', 'db']) tryLock(rig.db, audit, { repo: 'acme/infra', project: { dir, workspace: 'default', kind: 'terraform' }, pull: 1, pullUrl: '', user: 'alice' });
    const s = await scrape(rig);
    expect(s.get('tideline_queue_depth')).toBe(2);
    expect(s.get('tideline_jobs_running')).toBe(1);
    expect(s.get('tideline_locks_held')).toBe(2);
  });

  it('reports projects by drift state only once a drift table exists', async () => {
    // A store from before drift detection: migrations up to 3, no drift table.
    const db = openDb({ dataDir: ':memory:', migrations: MIGRATIONS.filter((m) => m.version <= 3) });
    const metrics = new Metrics({ db, version: '1', defaultMetrics: false });
    const drift = async (): Promise<[string, number][]> =>
      [...parseExposition(await metrics.text())].filter(([k]) => k.startsWith('tideline_projects_by_drift_state{')).sort();
    expect(await drift()).toEqual([]);
    db.exec("CREATE TABLE drift_projects (project_key TEXT PRIMARY KEY, state TEXT NOT NULL); INSERT INTO drift_projects VALUES ('a/x','clean'),('a/y','drifted'),('a/z','drifted')");
    expect(await drift()).toEqual([
      ['tideline_projects_by_drift_state{state="clean"}', 1],
      ['tideline_projects_by_drift_state{state="drifted"}', 2],
    ]);
    db.exec("UPDATE drift_projects SET state = 'clean'");
    // A state nobody is in any more disappears rather than staying at its last count.
    expect(await drift()).toEqual([['tideline_projects_by_drift_state{state="clean"}', 3]]);
    db.close();
  });

  it('takes drift states from the callback when one is given', async () => {
    const other = await start({ driftStates: () => [{ state: 'error' }, { state: 'skipped' }, { state: 'error' }] });
    rigs.push(other);
    const s = await scrape(other);
    expect(s.get('tideline_projects_by_drift_state{state="error"}')).toBe(2);
    expect(s.get('tideline_projects_by_drift_state{state="skipped"}')).toBe(1);
  });

  it('keeps each server on its own registry, never the global default one', async () => {
    const other = await start();
    rigs.push(other);
    other.metrics.deliveryReceived('ping', 'ignored');
    const mine = await scrape(rig);
    const theirs = await scrape(other);
    expect(mine.has('tideline_webhook_deliveries_total{event="ping",result="ignored"}')).toBe(false);
    expect(theirs.get('tideline_webhook_deliveries_total{event="ping",result="ignored"}')).toBe(1);
    expect(globalRegistry.getMetricsAsArray().filter((m) => m.name.startsWith('tideline_'))).toEqual([]);
  });

  it('still answers while the store is closing (shutdown), with the gauges left out of date', async () => {
    const other = await start();
    rigs.push(other);
    other.db.close();
    const s = await scrape(other);
    expect(s.get('tideline_build_info{version="1.2.3"}')).toBe(1);
  });
});
