// GitHub's 500 content-creating requests an hour, kept over any sliding window: writes below the
// limit go at once, the next waits until the oldest of the window ages out, in arrival order.

import { performance } from 'node:perf_hooks';
import { describe, expect, it } from 'vitest';
import { ContentWindow } from '../../server/github/content-limit.js';

describe('ContentWindow', () => {
  it('admits the limit at once, then one more each time the oldest ages out, in order', async () => {
    const waits: number[] = [];
    const window = new ContentWindow({ limit: 3, windowMs: 400, onWait: (ms) => waits.push(ms) });
    const started = performance.now();
    const order: string[] = [];
    const settled = ['a', 'b', 'c', 'd', 'e'].map((name) => window.take().then(() => { order.push(name); return performance.now() - started; }));
    const [a = 0, b = 0, c = 0, d = 0, e = 0] = await Promise.all(settled);
    expect(Math.max(a, b, c)).toBeLessThan(200);
    expect(d).toBeGreaterThan(390);
    expect(e).toBeGreaterThan(390);
    expect(order).toEqual(['a', 'b', 'c', 'd', 'e']);
    expect(waits.length).toBeGreaterThanOrEqual(1);
    expect(waits.every((ms) => ms > 0 && ms <= 400)).toBe(true);
  });

  it('never lets more than the limit start within one window', async () => {
    const window = new ContentWindow({ limit: 4, windowMs: 300, onWait: () => {} });
    const starts: number[] = [];
    await Promise.all(Array.from({ length: 10 }, () => window.take().then(() => starts.push(performance.now()))));
    for (let i = 4; i < starts.length; i++) expect((starts[i] ?? 0) - (starts[i - 4] ?? 0)).toBeGreaterThanOrEqual(295);
  });
});
