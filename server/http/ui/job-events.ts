// GET /jobs/:id/events: a job's output as server-sent events. First the lines printed so far,
// then each new line as it comes, then one `end` event with the job's final state. Each line
// event has an id (its line number), so a reconnecting EventSource resumes after the last line
// it saw (Last-Event-ID), and the page starts after the lines it already shows (`?after=`).
// Lines are already masked by the exec door; they travel as JSON strings, so no character in
// them can break the event framing.

import type { Request, RequestHandler, Response } from 'express';
import type { Logger } from 'pino';
import type { LiveOutput } from '../../jobs/live-output.js';
import { getJob, type JobState } from '../../jobs/queue.js';
import type { Db } from '../../store/db.js';
import { isFinished } from './read-model.js';

export interface JobEventsContext {
  db: Db;
  live: LiveOutput;
  log: Logger;
  /** Ends every open stream when it aborts (server shutdown). */
  signal?: AbortSignal;
  /** How often the job's state is re-read and a keep-alive comment sent; default 15 s. */
  pollMs?: number;
}

/** A client this far behind is cut off; its EventSource reconnects and resumes. */
const MAX_BUFFERED_BYTES = 4 * 1024 * 1024;

export function parseJobId(text: string | undefined): number | null {
  return text !== undefined && /^[1-9][0-9]{0,15}$/.test(text) ? Number(text) : null;
}

/** The line number the client already has: Last-Event-ID wins over `?after=`. */
function resumeAfter(req: Request): number {
  for (const candidate of [req.header('last-event-id'), req.query['after']]) {
    if (typeof candidate === 'string' && /^[0-9]{1,15}$/.test(candidate)) return Number(candidate);
  }
  return 0;
}

function event(name: string, data: unknown, id?: number): string {
  return `${id === undefined ? '' : `id: ${id}\n`}event: ${name}\ndata: ${JSON.stringify(data)}\n\n`;
}

export function jobEvents(ctx: JobEventsContext): RequestHandler {
  const pollMs = ctx.pollMs ?? 15_000;
  return function streamJob(req: Request, res: Response): void {
    const id = parseJobId(req.params['id'] as string | undefined);
    const job = id === null ? null : getJob(ctx.db, id);
    if (id === null || job === null) {
      res.status(404).type('text/plain').send('no such job\n');
      return;
    }
    const after = resumeAfter(req);
    res.status(200);
    res.setHeader('Content-Type', 'text/event-stream; charset=utf-8');
    res.setHeader('Cache-Control', 'no-store, no-transform');
    res.setHeader('X-Accel-Buffering', 'no');
    res.flushHeaders();
    res.write('retry: 3000\n\n');

    // snapshot() and subscribe() run in the same tick: no line can fall between them.
    const snap = ctx.live.snapshot(id);
    if (after < snap.dropped) res.write(event('dropped', snap.dropped - after));
    let seq = snap.dropped;
    for (const text of snap.lines) {
      seq += 1;
      if (seq > after) res.write(event('line', text, seq));
    }

    let closed = false;
    let unsubscribe = (): void => {};
    let timer: NodeJS.Timeout | undefined;
    const close = (final: { state: string } | null): void => {
      if (closed) return;
      closed = true;
      unsubscribe();
      clearInterval(timer);
      ctx.signal?.removeEventListener('abort', onAbort);
      if (final !== null && !res.writableEnded) res.write(event('end', final));
      res.end();
    };
    const onAbort = (): void => close(null);

    if (snap.ended !== null) {
      close({ state: snap.ended });
      return;
    }
    if (isFinished(job.state)) {
      // Finished before this server kept its output (a restart), or a job that prints nothing.
      close({ state: job.state });
      return;
    }
    unsubscribe = ctx.live.subscribe(id, (e) => {
      if (e.kind === 'end') {
        close({ state: e.state });
        return;
      }
      seq += 1;
      if (seq <= after || closed) return;
      res.write(event('line', e.text, seq));
      if (res.writableLength > MAX_BUFFERED_BYTES) {
        ctx.log.warn({ job: id }, 'live output client too slow: stream cut, it will resume');
        close(null);
      }
    });
    if (closed) return;
    // Jobs that print nothing (replies, releases) never end their live output; the store says
    // when they are done. The same tick keeps proxies from closing an idle stream.
    timer = setInterval(() => {
      let state: JobState | null = null;
      try {
        state = getJob(ctx.db, id)?.state ?? null;
      } catch {
        close(null); // the store is closing: the server is going away
        return;
      }
      if (state === null || isFinished(state)) {
        close({ state: state ?? 'gone' });
        return;
      }
      res.write(': keep-alive\n\n');
    }, pollMs);
    timer.unref();
    if (ctx.signal?.aborted === true) {
      close(null);
      return;
    }
    ctx.signal?.addEventListener('abort', onAbort);
    res.on('close', () => close(null));
  };
}
