// Audit export benchmark: appends 100,000 records through AuditLog.append (batched
// transactions, the real on-disk WAL database), then exports them all through iterateAudit +
// writeExport into a discarding stream that acknowledges writes asynchronously, like a socket.
// Reports records per second for append, export and verify, and the peak RSS growth during the
// export (target < 50 MB). `npm run bench` calls benchAuditExport(); `tsx bench/audit-export.ts`
// runs it alone and prints the JSON.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Writable } from 'node:stream';
import { SecretMasker } from '../runners/secrets.js';
import { AuditLog } from '../server/audit/audit-log.js';
import { iterateAudit, writeExport, type ExportFormat } from '../server/audit/export.js';
import { verifyAudit } from '../server/audit/verify.js';
import { openDb } from '../server/store/db.js';

const RECORDS = Number(process.env['BENCH_AUDIT_RECORDS'] ?? 100_000);
const BATCH = 1_000;
const RSS_TARGET_MB = 50;
const MB = 1024 * 1024;

interface ExportFigures {
  recordsPerSecond: number;
  seconds: number;
  megabytes: number;
  peakRssGrowthMB: number;
  rssTargetMet: boolean;
}

/** A sink that drops what it gets, acknowledging each chunk on a later tick. */
function discard(): { out: Writable; bytes: () => number } {
  let bytes = 0;
  const out = new Writable({
    highWaterMark: 64 * 1024,
    write(chunk: Buffer, _enc, done): void {
      bytes += chunk.length;
      setImmediate(done);
    },
  });
  return { out, bytes: () => bytes };
}

function round(n: number, digits = 1): number {
  const f = 10 ** digits;
  return Math.round(n * f) / f;
}

async function measureExport(run: () => Promise<{ count: number; bytes: number }>): Promise<ExportFigures> {
  (globalThis as { gc?: () => void }).gc?.();
  const baseline = process.memoryUsage.rss();
  let peak = baseline;
  const sampler = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage.rss());
  }, 2);
  const started = performance.now();
  let result: { count: number; bytes: number };
  try {
    result = await run();
  } finally {
    clearInterval(sampler);
  }
  const seconds = (performance.now() - started) / 1000;
  peak = Math.max(peak, process.memoryUsage.rss());
  const growth = (peak - baseline) / MB;
  return {
    recordsPerSecond: Math.round(result.count / seconds),
    seconds: round(seconds, 2),
    megabytes: round(result.bytes / MB),
    peakRssGrowthMB: round(growth),
    rssTargetMet: growth < RSS_TARGET_MB,
  };
}

export async function benchAuditExport(): Promise<object> {
  const dir = mkdtempSync(join(tmpdir(), 'tideline-bench-audit-'));
  const db = openDb({ dataDir: join(dir, 'data') });
  try {
    const masker = new SecretMasker();
    masker.add('bench-canary-secret');
    const log = new AuditLog({ db, configDigest: 'c'.repeat(64), masker });
    const appendBatch = db.transaction((from: number, to: number) => {
      for (let i = from; i < to; i += 1) {
        log.append({
          type: i % 3 === 0 ? 'plan' : i % 3 === 1 ? 'lock.taken' : 'apply',
          actor: `user${i % 50}`,
          repo: `acme/repo-${i % 20}`,
          pull: (i % 500) + 1,
          project: `project-${i % 7}`,
          fields: { dir: `stacks/app-${i % 7}`, workspace: 'default', headSha: 'a1b2c3d4e5f60718293a4b5c6d7e8f9012345678', add: i % 5, change: i % 3, destroy: 0, planSha256: 'f'.repeat(64) },
        });
      }
    });
    const appendStart = performance.now();
    for (let from = 0; from < RECORDS; from += BATCH) appendBatch(from, Math.min(RECORDS, from + BATCH));
    const appendSeconds = (performance.now() - appendStart) / 1000;

    const exportAs = (format: ExportFormat) => async (): Promise<{ count: number; bytes: number }> => {
      const sink = discard();
      const count = await writeExport(iterateAudit(db, {}), format, sink.out);
      return { count, bytes: sink.bytes() };
    };
    const jsonl = await measureExport(exportAs('jsonl'));
    const csv = await measureExport(exportAs('csv'));

    const verifyStart = performance.now();
    const verified = verifyAudit(db);
    const verifySeconds = (performance.now() - verifyStart) / 1000;
    return {
      records: RECORDS,
      append: { recordsPerSecond: Math.round(RECORDS / appendSeconds), seconds: round(appendSeconds, 2), batch: BATCH },
      exportJsonl: jsonl,
      exportCsv: csv,
      verify: { ok: verified.ok, recordsPerSecond: Math.round(verified.count / verifySeconds), seconds: round(verifySeconds, 2) },
      rssTargetMB: RSS_TARGET_MB,
    };
  } finally {
    db.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

process.stdout.write(`${JSON.stringify(await benchAuditExport(), null, 2)}\n`);
