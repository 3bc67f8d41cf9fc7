// GET /jobs/:id/events: the lines printed so far, then new lines as they come, then `end`;
// resumable by line number; ended by the store when the live output never ends, and by the
// server's shutdown signal.

import { once } from 'node:events';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { pino } from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { jobEvents } from '../../server/http/ui/job-events.js';
import { LiveOutput } from '../../server/jobs/live-output.js';
import { claimNext, enqueue, finishJob } from '../../server/jobs/queue.js';
import { openDb, type Db } from '../../server/store/db.js';

interface SseEvent {
  event: string;
  id: string | null;
  data: unknown;
}

/** Reads server-sent events off a fetch body, one at a time. */
class EventReader {
  readonly #reader: ReadableStreamDefaultReader<Uint8Array>;
  readonly #decoder = new TextDecoder();
  #buffer = '';
  done = false;

  constructor(res: Response) {
    if (res.body === null) throw new Error('no body');
    this.#reader = res.body.getReader();
  }

  /** The next event with data, or null when the stream ended. */
  async next(timeoutMs = 3000): Promise<SseEvent | null> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const cut = this.#buffer.indexOf('\n\n');
      if (cut >= 0) {
        const block = this.#buffer.slice(0, cut);
        this.#buffer = this.#buffer.slice(cut + 2);
        const fields = new Map<string, string>();
        for (const line of block.split('\n')) {
          if (line.startsWith(':')) continue;
          const colon = line.indexOf(':');
          fields.set(line.slice(0, colon), line.slice(colon + 1).replace(/^ /, ''));
        }
        const data = fields.get('data');
        if (data === undefined) continue; // retry: and keep-alive comments
        return { event: fields.get('event') ?? 'message', id: fields.get('id') ?? null, data: JSON.parse(data) as unknown };
      }
      if (this.done) return null;
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no event within ${timeoutMs} ms; buffered: ${JSON.stringify(this.#buffer)}`);
      const chunk = await Promise.race([this.#reader.read(), new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), left))]);
      if (chunk === 'timeout') continue;
      if (chunk.done) this.done = true;
      else this.#buffer += this.#decoder.decode(chunk.value, { stream: true });
    }
  }

  async cancel(): Promise<void> {
    await this.#reader.cancel();
  }
}

const db: Db = openDb({ dataDir: ':memory:' });
const live = new LiveOutput({ maxLines: 4 });
const shutdown = new AbortController();
let server: Server;
let base = '';
const readers: EventReader[] = [];

function newJob(type: 'command' | 'reply' = 'command'): number {
  const repo = { owner: 'acme', name: 'infra', fullName: 'acme/infra', cloneUrl: 'file:///dev/null', defaultBranch: 'main' };
  const id =
    type === 'reply'
      ? enqueue(db, { type: 'reply', repo: 'acme/infra', pull: 1, serialKey: `k${Math.random()}`, payload: { repo, pull: 1, body: 'x' } })
      : enqueue(db, {
          type: 'command',
          repo: 'acme/infra',
          pull: 1,
          serialKey: `k${Math.random()}`,
          payload: { repo, pull: 1, command: { name: 'apply', selector: {}, extraArgs: [] }, actor: 'alice', commentUrl: '', deliveryId: 'd' },
        });
  expect(claimNext(db)?.id).toBe(id); // running
  return id;
}

async function open(id: number, headers: Record<string, string> = {}, query = ''): Promise<EventReader> {
  const res = await fetch(`${base}/jobs/${id}/events${query}`, { headers });
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
  const reader = new EventReader(res);
  readers.push(reader);
  return reader;
}

beforeAll(async () => {
  const app = express();
  app.get('/jobs/:id/events', jobEvents({ db, live, log: pino({ level: 'silent' }), pollMs: 50, signal: shutdown.signal }));
  server = app.listen(0, '127.0.0.1');
  await once(server, 'listening');
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterEach(async () => {
  for (const r of readers.splice(0)) if (!r.done) await r.cancel().catch(() => {});
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
  db.close();
});

describe('job events', () => {
  it('sends the snapshot, then live lines as they are printed, then end', async () => {
    const id = newJob();
    live.append(id, 'Initializing...\nPlan: 1 to add\n');
    const reader = await open(id);
    expect(await reader.next()).toEqual({ event: 'line', id: '1', data: 'Initializing...' });
    expect(await reader.next()).toEqual({ event: 'line', id: '2', data: 'Plan: 1 to add' });
    setTimeout(() => live.append(id, 'terraform_data.x: Creating...'), 50);
    expect(await reader.next()).toEqual({ event: 'line', id: '3', data: 'terraform_data.x: Creating...' });
    setTimeout(() => {
      live.append(id, 'Apply complete!\n');
      live.end(id, 'succeeded');
    }, 50);
    expect(await reader.next()).toEqual({ event: 'line', id: '4', data: 'Apply complete!' });
    expect(await reader.next()).toEqual({ event: 'end', id: null, data: { state: 'succeeded' } });
    expect(await reader.next()).toBeNull();
  });

  it('resumes after ?after= and prefers Last-Event-ID', async () => {
    const id = newJob();
    live.append(id, 'a\nb\nc\n');
    const after = await open(id, {}, '?after=2');
    expect(await after.next()).toMatchObject({ id: '3', data: 'c' });
    const resumed = await open(id, { 'last-event-id': '1' }, '?after=2');
    expect(await resumed.next()).toMatchObject({ id: '2', data: 'b' });
    live.end(id, 'failed');
    expect(await after.next()).toEqual({ event: 'end', id: null, data: { state: 'failed' } });
  });

  it('says how many lines the bounded buffer dropped', async () => {
    const id = newJob();
    live.append(id, '1\n2\n3\n4\n5\n6\n');
    const reader = await open(id);
    expect(await reader.next()).toEqual({ event: 'dropped', id: null, data: 2 });
    expect(await reader.next()).toEqual({ event: 'line', id: '3', data: '3' });
    live.end(id, 'succeeded');
  });

  it('keeps characters that would break the framing inside the data', async () => {
    const id = newJob();
    live.append(id, 'progress\r50%\u2028 <script>\n');
    const reader = await open(id);
    expect(await reader.next()).toEqual({ event: 'line', id: '1', data: 'progress\r50%\u2028 <script>' });
    live.end(id, 'succeeded');
  });

  it('ends at once for a job that finished before its output was kept', async () => {
    const id = newJob();
    finishJob(db, id, 'failed', 'boom');
    const reader = await open(id);
    expect(await reader.next()).toEqual({ event: 'end', id: null, data: { state: 'failed' } });
    expect(await reader.next()).toBeNull();
  });

  it('ends when the store says the job is done, for jobs that print nothing', async () => {
    const id = newJob('reply');
    const reader = await open(id);
    setTimeout(() => finishJob(db, id, 'succeeded'), 100);
    expect(await reader.next()).toEqual({ event: 'end', id: null, data: { state: 'succeeded' } });
  });

  it('answers 404 for an unknown job', async () => {
    expect((await fetch(`${base}/jobs/424242/events`)).status).toBe(404);
  });

  // Last: it aborts the shared signal.
  it('closes every open stream when the server shuts down', async () => {
    const id = newJob();
    const reader = await open(id);
    shutdown.abort();
    expect(await reader.next()).toBeNull();
    // A stream opened after shutdown began ends at once, too.
    const late = await open(newJob());
    expect(await late.next()).toBeNull();
  });
});

describe('LiveOutput', () => {
  it('lets go of a job that printed nothing once its last watcher leaves, and keeps one that printed', () => {
    const output = new LiveOutput();
    const leaveQuiet = [output.subscribe(1, () => {}), output.subscribe(1, () => {})];
    output.append(2, 'a line\n');
    const leaveLoud = output.subscribe(2, () => {});
    expect(output.size).toBe(2);
    leaveQuiet[0]?.();
    expect(output.size).toBe(2); // a watcher is still there
    leaveQuiet[1]?.();
    leaveLoud();
    expect(output.size).toBe(1);
    expect(output.snapshot(2).lines).toEqual(['a line']);
    // A job that starts printing after its first watcher left is kept as usual.
    output.subscribe(1, () => {})();
    output.append(1, 'late\n');
    expect(output.snapshot(1).lines).toEqual(['late']);
  });
});
