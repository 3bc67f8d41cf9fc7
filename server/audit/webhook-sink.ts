// The optional audit webhook: streams each record, as it is committed, to a SIEM. Each POST body
// is the record as canonical JSON, signed like GitHub signs webhooks:
//   X-Tideline-Signature-256: sha256=<hex HMAC-SHA256 of the body with the shared secret>
//   X-Tideline-Audit-Seq: <seq>
// Records go out one at a time, in seq order. `send` only queues, so append() never waits on the
// network. A failed POST (network error, timeout, 408, 429, 5xx) is retried with exponential
// backoff; other 4xx answers are not retried. When the queue is full, new records are dropped
// (logged with their seq); the receiver sees the gap in X-Tideline-Audit-Seq and can fill it
// from `GET /api/audit` or `tideline audit export`.

import type { Logger } from 'pino';
import { retryableStatus, signBody, SIGNATURE_HEADER } from '../outgoing-webhook.js';
import { canonicalJson } from './canonical-json.js';
import type { AuditRecord } from './types.js';

export interface AuditWebhookSinkOptions {
  url: string;
  secret: string;
  log: Logger;
  fetchImpl?: typeof fetch;
  /** Records held while the receiver is slow or down; default 10,000. */
  maxQueue?: number;
  /** Tries per record before it is given up; default 8. */
  maxAttempts?: number;
  /** First retry delay; doubles each try up to 30 s; default 500 ms. */
  retryBaseMs?: number;
  /** Per-request timeout; default 10 s. */
  timeoutMs?: number;
}

export interface AuditWebhookSink {
  send(record: AuditRecord): void;
  /** Resolves once every queued record was delivered or given up (shutdown, tests). */
  flush(): Promise<void>;
}

export { SIGNATURE_HEADER };
export const SEQ_HEADER = 'x-tideline-audit-seq';

/** `sha256=<hex>` over the exact body bytes. */
export const auditSignature = signBody;

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}

export function auditWebhookSink(opts: AuditWebhookSinkOptions): AuditWebhookSink {
  const fetchImpl = opts.fetchImpl ?? fetch;
  const maxQueue = opts.maxQueue ?? 10_000;
  const maxAttempts = opts.maxAttempts ?? 8;
  const retryBaseMs = opts.retryBaseMs ?? 500;
  const timeoutMs = opts.timeoutMs ?? 10_000;
  const log = opts.log.child({ component: 'audit-webhook' });
  const queue: AuditRecord[] = [];
  const idle: (() => void)[] = [];
  let running = false;
  let dropped = 0;

  async function post(record: AuditRecord, body: string): Promise<'done' | 'retry'> {
    try {
      const res = await fetchImpl(opts.url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'user-agent': 'tideline-audit',
          [SIGNATURE_HEADER]: auditSignature(opts.secret, body),
          [SEQ_HEADER]: String(record.seq),
        },
        body,
        signal: AbortSignal.timeout(timeoutMs),
      });
      await res.body?.cancel();
      if (res.ok) return 'done';
      if (!retryableStatus(res.status)) {
        log.error({ seq: record.seq, status: res.status }, 'audit webhook refused the record: not retried');
        return 'done';
      }
      log.warn({ seq: record.seq, status: res.status }, 'audit webhook failed: will retry');
    } catch (err: unknown) {
      log.warn({ seq: record.seq, err: err instanceof Error ? err.message : String(err) }, 'audit webhook unreachable: will retry');
    }
    return 'retry';
  }

  async function deliver(record: AuditRecord): Promise<void> {
    const body = canonicalJson(record);
    for (let attempt = 1; attempt <= maxAttempts; attempt += 1) {
      if ((await post(record, body)) === 'done') return;
      if (attempt < maxAttempts) {
        const delay = Math.min(30_000, retryBaseMs * 2 ** (attempt - 1));
        await sleep(delay * (0.8 + Math.random() * 0.4));
      }
    }
    log.error({ seq: record.seq, attempts: maxAttempts }, 'audit webhook gave up on a record: export it from /api/audit');
  }

  async function drain(): Promise<void> {
    running = true;
    try {
      for (let record = queue[0]; record !== undefined; record = queue[0]) {
        await deliver(record);
        queue.shift();
      }
    } catch (err: unknown) {
      log.error({ err }, 'audit webhook sink stopped unexpectedly');
      queue.length = 0;
    } finally {
      running = false;
      for (const resolve of idle.splice(0)) resolve();
    }
  }

  return {
    send(record: AuditRecord): void {
      if (queue.length >= maxQueue) {
        dropped += 1;
        log.error({ seq: record.seq, dropped }, 'audit webhook queue full: record dropped');
        return;
      }
      queue.push(record);
      if (!running) void drain();
    },
    flush(): Promise<void> {
      if (!running && queue.length === 0) return Promise.resolve();
      return new Promise((resolve) => idle.push(resolve));
    },
  };
}
