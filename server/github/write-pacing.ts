// How the forge paces its writes to GitHub: plugin-throttling's buckets for the per-second and
// per-minute pace, and content-limit.ts's window for the hourly limit.

import Bottleneck from 'bottleneck';
import type { Logger } from 'pino';
import { CONTENT_PER_HOUR, ContentWindow, HOUR_MS } from './content-limit.js';

/**
 * A bucket of writes: `burst` may go at once, then one each `intervalMs`, one at a time.
 * `notifyBurst` and `notifyIntervalMs` make a second bucket for the writes that notify people
 * (comments, issues), which pass the first bucket too.
 */
export interface WritePacing {
  burst: number;
  intervalMs: number;
  notifyBurst: number;
  notifyIntervalMs: number;
  /** At most this many writes in any `contentWindowMs` (content-limit.ts). */
  contentPerWindow: number;
  contentWindowMs: number;
}

/**
 * GitHub asks integrations that make many writes to wait a second between them, and to create
 * notifying content (comments, issues) at a reasonable pace; it documents at most 80
 * content-generating requests a minute. plugin-throttling's default pacers put that gap before
 * every write, so a plan that finished within a second of its pending status waited for the
 * pacer before its reply could go (1,092 ms against 219 for one resource, measured by the
 * bench's `shippedWritePacing`). These buckets keep the plugin's sustained rates, a write a
 * second and a comment every 3 s, but let the few writes of one plan (pending status, reply,
 * final status) go as soon as they are ready. A burst of many waits as before.
 */
export const WRITE_PACING: Readonly<WritePacing> = {
  burst: 5,
  intervalMs: 1_000,
  notifyBurst: 2,
  notifyIntervalMs: 3_000,
  contentPerWindow: CONTENT_PER_HOUR,
  contentWindowMs: HOUR_MS,
};

/** plugin-throttling's groups for `pacing` (a reservoir that refills one write per interval), and the hour's window. */
export function writePacers(pacing: WritePacing, log: Logger): { write: Bottleneck.Group; notifications: Bottleneck.Group; content: ContentWindow } {
  const bucket = (burst: number, intervalMs: number): Bottleneck.Group =>
    new Bottleneck.Group({
      maxConcurrent: 1,
      reservoir: burst,
      reservoirIncreaseAmount: 1,
      reservoirIncreaseInterval: intervalMs,
      reservoirIncreaseMaximum: burst,
    });
  const content = new ContentWindow({
    limit: pacing.contentPerWindow,
    windowMs: pacing.contentWindowMs,
    onWait: (waitMs) => log.warn({ waitMs, limit: pacing.contentPerWindow, windowMs: pacing.contentWindowMs }, 'GitHub allows 500 content-creating requests an hour: the next write waits'),
  });
  return { write: bucket(pacing.burst, pacing.intervalMs), notifications: bucket(pacing.notifyBurst, pacing.notifyIntervalMs), content };
}
