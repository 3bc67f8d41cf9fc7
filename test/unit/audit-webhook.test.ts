import { createHmac, timingSafeEqual } from 'node:crypto';
import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { SecretMasker } from '../../runners/secrets.js';
import { AuditLog } from '../../server/audit/audit-log.js';
import { auditWebhookSink } from '../../server/audit/webhook-sink.js';
import type { AuditRecord } from '../../server/audit/types.js';
import { openDb } from '../../server/store/db.js';

const SECRET = 'siem-secret-91b2';

interface Delivery {
  seq: number;
  valid: boolean;
  record: AuditRecord;
}

interface Receiver {
  url: string;
  deliveries: Delivery[];
  attempts: number;
  close: () => Promise<void>;
}

function body(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

const servers: Server[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) {
    s.closeAllConnections();
    await new Promise((resolve) => s.close(resolve));
  }
});

/** A SIEM stand-in: checks the HMAC like a receiver would; `answer` picks the status per attempt. */
async function receiver(answer: (attempt: number, seq: number) => number = () => 204): Promise<Receiver> {
  const r: Receiver = { url: '', deliveries: [], attempts: 0, close: async () => undefined };
  const server = createServer((req, res) => {
    void body(req).then((raw) => {
      r.attempts += 1;
      const status = answer(r.attempts, Number(req.headers['x-tideline-audit-seq']));
      if (status < 300) {
        const expected = Buffer.from(`sha256=${createHmac('sha256', SECRET).update(raw).digest('hex')}`);
        const given = Buffer.from(String(req.headers['x-tideline-signature-256'] ?? ''));
        const valid = given.length === expected.length && timingSafeEqual(given, expected);
        const record = JSON.parse(raw.toString('utf8')) as AuditRecord;
        r.deliveries.push({ seq: Number(req.headers['x-tideline-audit-seq']), valid: valid && req.headers['content-type'] === 'application/json', record });
      }
      res.statusCode = status;
      res.end();
    });
  });
  servers.push(server);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  r.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/audit`;
  return r;
}

function logWith(send: (r: AuditRecord) => void): AuditLog {
  const db = openDb({ dataDir: ':memory:' });
  return new AuditLog({ db, configDigest: 'c'.repeat(64), masker: new SecretMasker(), onAppend: send });
}

const quiet = pino({ level: 'silent' });

describe('auditWebhookSink', () => {
  it('POSTs each committed record, signed with HMAC-SHA256 of the body, in order', async () => {
    const siem = await receiver();
    const sink = auditWebhookSink({ url: siem.url, secret: SECRET, log: quiet });
    const log = logWith((r) => sink.send(r));
    const appended = Array.from({ length: 25 }, (_, i) => log.append({ type: 'plan', actor: 'octocat', repo: 'acme/infra', pull: i + 1, fields: { i } }));
    await sink.flush();
    expect(siem.deliveries.map((d) => d.seq)).toEqual(appended.map((r) => r.seq));
    expect(siem.deliveries.every((d) => d.valid)).toBe(true);
    expect(siem.deliveries.map((d) => d.record)).toEqual(appended);
  });

  it('a receiver with another secret sees invalid signatures', async () => {
    const siem = await receiver();
    const sink = auditWebhookSink({ url: siem.url, secret: 'another-secret', log: quiet });
    logWith((r) => sink.send(r)).append({ type: 'plan', actor: 'octocat', fields: {} });
    await sink.flush();
    expect(siem.deliveries.map((d) => d.valid)).toEqual([false]);
  });

  it('retries failures with backoff and keeps the order', async () => {
    // Seq 2 fails twice (503, then 429) before it is taken; nothing overtakes it.
    const failures = new Map([[2, 2]]);
    const siem = await receiver((_attempt, seq) => {
      const left = failures.get(seq) ?? 0;
      if (left === 0) return 200;
      failures.set(seq, left - 1);
      return left === 2 ? 503 : 429;
    });
    const sink = auditWebhookSink({ url: siem.url, secret: SECRET, log: quiet, retryBaseMs: 5 });
    const log = logWith((r) => sink.send(r));
    for (let i = 0; i < 5; i += 1) log.append({ type: 'apply', actor: 'octocat', fields: { i } });
    await sink.flush();
    expect(siem.deliveries.map((d) => d.seq)).toEqual([1, 2, 3, 4, 5]);
    expect(siem.attempts).toBe(7);
  });

  it('does not retry a 4xx refusal, and moves on', async () => {
    const siem = await receiver((_attempt, seq) => (seq === 1 ? 400 : 200));
    const sink = auditWebhookSink({ url: siem.url, secret: SECRET, log: quiet, retryBaseMs: 5 });
    const log = logWith((r) => sink.send(r));
    log.append({ type: 'plan', actor: 'a', fields: {} });
    log.append({ type: 'plan', actor: 'a', fields: {} });
    await sink.flush();
    expect(siem.attempts).toBe(2);
    expect(siem.deliveries.map((d) => d.seq)).toEqual([2]);
  });

  it('gives a record up after maxAttempts against an unreachable receiver, then moves on', async () => {
    const seqs: string[] = [];
    const fetchImpl: typeof fetch = async (_url, init) => {
      seqs.push(String((init?.headers as Record<string, string>)['x-tideline-audit-seq']));
      throw new TypeError('fetch failed: ECONNREFUSED');
    };
    const sink = auditWebhookSink({ url: 'http://127.0.0.1:9/x', secret: SECRET, log: quiet, fetchImpl, retryBaseMs: 1, maxAttempts: 3 });
    const log = logWith((r) => sink.send(r));
    log.append({ type: 'plan', actor: 'a', fields: {} });
    log.append({ type: 'plan', actor: 'a', fields: {} });
    await sink.flush();
    expect(seqs).toEqual(['1', '1', '1', '2', '2', '2']);
  });

  it('never blocks append: send returns before the POST, and a full queue drops new records', async () => {
    let calls = 0;
    let release: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const fetchImpl: typeof fetch = async () => {
      calls += 1;
      await gate;
      return new Response(null, { status: 204 });
    };
    const sink = auditWebhookSink({ url: 'http://127.0.0.1:9/x', secret: SECRET, log: quiet, fetchImpl, maxQueue: 3 });
    const log = logWith((r) => sink.send(r));
    const started = performance.now();
    for (let i = 0; i < 10; i += 1) log.append({ type: 'plan', actor: 'a', fields: {} });
    expect(performance.now() - started).toBeLessThan(500);
    release();
    await sink.flush();
    expect(calls).toBe(3);
  });

  it('flush resolves at once when idle', async () => {
    const sink = auditWebhookSink({ url: 'http://127.0.0.1:9/x', secret: SECRET, log: quiet });
    await sink.flush();
  });
});
