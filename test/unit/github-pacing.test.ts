import { performance } from 'node:perf_hooks';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createOctokitForge } from '../../server/github/octokit-forge.js';
import { WRITE_PACING, type WritePacing } from '../../server/github/write-pacing.js';
import type { Forge } from '../../server/github/forge.js';
import { startGitHubFixture, type GitHubFixture } from '../support/github-fixture.js';

// The forge with plugin-throttling on, as main.ts runs it, against the double: the writes of one
// plan go at once, and a burst of many is paced.
const REPO = 'acme/paced';
const ref = { owner: 'acme', name: 'paced' };

describe('GitHub write pacing', () => {
  let fx: GitHubFixture;
  let sha: string;
  let pull: number;

  beforeAll(async () => {
    fx = await startGitHubFixture();
    await fx.double.createRepo(REPO, { 'main.tf': '\n' });
    const pr = await fx.double.openPull(REPO, { branch: 'feature', files: { 'a.tf': '\n' } });
    sha = pr.headSha;
    pull = pr.number;
    // The double checks its first request of each operation slowly; keep that out of the timings.
    const warm = createOctokitForge({ apiUrl: fx.double.url, auth: { kind: 'token', token: fx.double.token }, log: pino({ level: 'silent' }), retries: 0, throttle: false });
    await warm.setStatus(ref, sha, { context: 'warm-up', state: 'success', description: 'warm-up' });
    await warm.createComment(ref, pull, 'warm-up');
  });

  afterAll(async () => {
    await fx.close();
  });

  const forgeWith = (writePacing?: WritePacing): Forge =>
    createOctokitForge({
      apiUrl: fx.double.url,
      auth: { kind: 'token', token: fx.double.token },
      log: pino({ level: 'silent' }),
      retries: 0,
      ...(writePacing === undefined ? {} : { writePacing }),
    });

  /** Milliseconds from `started` until each call settled, in the order the calls were made. */
  async function settleTimes(started: number, calls: Promise<unknown>[]): Promise<number[]> {
    return Promise.all(calls.map((call) => call.then(() => performance.now() - started)));
  }

  it('sends one plan pending status, reply and final status one after another, without a pause between them', async () => {
    const forge = forgeWith();
    const started = performance.now();
    await forge.setStatus(ref, sha, { context: 'tideline/plan', state: 'pending', description: 'planning 1 project(s)…' });
    await forge.createComment(ref, pull, 'Ran Plan for dir: `.` workspace: `default`');
    await forge.setStatus(ref, sha, { context: 'tideline/plan', state: 'success', description: '1/1 projects planned successfully.' });
    // plugin-throttling's own pacer launches writes at least 1 s apart: this took over 2 s with it.
    expect(performance.now() - started).toBeLessThan(900);
    expect(fx.double.statuses(REPO, sha).map((s) => s.state)).toEqual(expect.arrayContaining(['pending', 'success']));
    expect(fx.double.comments(REPO, pull).some((c) => c.body.startsWith('Ran Plan'))).toBe(true);
  });

  it('paces a burst of writes beyond the bucket at one an interval, without losing any', async () => {
    const forge = forgeWith({ ...WRITE_PACING, burst: 2, intervalMs: 400, notifyBurst: 1, notifyIntervalMs: 400 });
    const started = performance.now();
    const times = await settleTimes(
      started,
      ['a', 'b', 'c', 'd', 'e'].map((name) => forge.setStatus(ref, sha, { context: `burst/${name}`, state: 'success', description: name })),
    );
    const sorted = [...times].sort((a, b) => a - b);
    expect(sorted[1]).toBeLessThan(350); // the bucket's two go at once
    // Three more need three refills, the first as soon as the next heartbeat: at least two intervals.
    expect(sorted[4]).toBeGreaterThan(700);
    expect(fx.double.statuses(REPO, sha).filter((s) => s.context.startsWith('burst/')).map((s) => s.context).sort()).toEqual(['burst/a', 'burst/b', 'burst/c', 'burst/d', 'burst/e']);
  });

  it('paces comments by their own bucket as well', async () => {
    const forge = forgeWith({ ...WRITE_PACING, burst: 5, intervalMs: 400, notifyBurst: 1, notifyIntervalMs: 400 });
    const started = performance.now();
    const [first = 0, second = 0] = await settleTimes(started, [forge.createComment(ref, pull, 'one'), forge.createComment(ref, pull, 'two')]);
    expect(Math.min(first, second)).toBeLessThan(300);
    expect(Math.max(first, second)).toBeGreaterThan(350);
  });

  it('holds a write beyond the content window until the oldest write in it has aged out; reads pass', async () => {
    // Wide margins: the timings only need to tell "waited for the window" from "did not".
    const windowMs = 2_500;
    const forge = forgeWith({ ...WRITE_PACING, burst: 10, intervalMs: 10, notifyBurst: 10, notifyIntervalMs: 10, contentPerWindow: 2, contentWindowMs: windowMs });
    const started = performance.now();
    await forge.setStatus(ref, sha, { context: 'window/a', state: 'success', description: 'a' });
    await forge.createComment(ref, pull, 'window b');
    for (let i = 0; i < 3; i++) await forge.getPull(ref, pull); // reads are not content
    expect(performance.now() - started).toBeLessThan(windowMs - 500);
    await forge.setStatus(ref, sha, { context: 'window/c', state: 'success', description: 'c' });
    expect(performance.now() - started).toBeGreaterThan(windowMs - 50);
    expect(fx.double.statuses(REPO, sha).filter((s) => s.context.startsWith('window/')).map((s) => s.context).sort()).toEqual(['window/a', 'window/c']);
  });

  it('waits out a secondary rate limit once, for the retry-after GitHub gives, then posts', async () => {
    const forge = forgeWith();
    const message = 'You have exceeded a secondary rate limit. Please wait a few minutes before you try again.';
    fx.double.failNext('issues/create-comment', { status: 403, message, headers: { 'retry-after': '1' } });
    const started = performance.now();
    await forge.createComment(ref, pull, 'late, not lost');
    expect(performance.now() - started).toBeGreaterThan(950);
    expect(fx.double.comments(REPO, pull).filter((c) => c.body === 'late, not lost')).toHaveLength(1);
    // A second refusal in a row is not waited out again: the caller sees GitHub's answer.
    fx.double.failNext('issues/create-comment', { status: 403, message, headers: { 'retry-after': '1' }, times: 2 });
    await expect(forge.createComment(ref, pull, 'refused twice')).rejects.toMatchObject({ status: 403 });
    expect(fx.double.comments(REPO, pull).some((c) => c.body === 'refused twice')).toBe(false);
  });
});
