import { describe, expect, it } from 'vitest';
import { postThenSettle, ReplyNotPostedError, settleIfThrown } from '../../server/jobs/post.js';
import { JobInterruptedError } from '../../server/jobs/worker-pool.js';

describe('settleIfThrown', () => {
  it('settles nothing when the run finishes, and returns its value', async () => {
    const settled: string[] = [];
    await expect(settleIfThrown(Promise.resolve(), async (why) => void settled.push(why), async () => 42)).resolves.toBe(42);
    expect(settled).toEqual([]);
  });

  it('settles with the first line of a failure, after the pending status, then rethrows it', async () => {
    const order: string[] = [];
    const pending = new Promise<void>((resolve) => setTimeout(() => (order.push('pending sent'), resolve()), 20));
    const failure = new Error('git checkout of acme/x#3 at abc1234 failed: fatal: bad object\nmore detail');
    await expect(settleIfThrown(pending, async (why) => void order.push(`settled: ${why}`), () => Promise.reject(failure))).rejects.toBe(failure);
    expect(order).toEqual(['pending sent', 'settled: failed: git checkout of acme/x#3 at abc1234 failed: fatal: bad object']);
  });

  it('says a shutdown stopped the run', async () => {
    const settled: string[] = [];
    await expect(settleIfThrown(Promise.resolve(), async (why) => void settled.push(why), () => Promise.reject(new JobInterruptedError('plan stopped by shutdown')))).rejects.toBeInstanceOf(JobInterruptedError);
    expect(settled).toEqual(['stopped by a server shutdown: plan again']);
  });
});

describe('postThenSettle', () => {
  it('settles after the replies went', async () => {
    const order: string[] = [];
    await postThenSettle({ ran: 'The plan ran (1/1 projects planned successfully)', next: 'Plan again to see its output.' }, async () => void order.push('posted'), async (failed) => void order.push(`settled ${failed}`));
    expect(order).toEqual(['posted', 'settled false']);
  });

  it('settles when a reply fails, then says what ran and why the reply did not go', async () => {
    const order: string[] = [];
    const run = postThenSettle(
      { ran: 'The plan ran (1/1 projects planned successfully)', next: 'Plan again to see its output.' },
      () => Promise.reject(new Error('GitHub: could not comment on acme/x#3: You have exceeded a secondary rate limit')),
      async (failed) => void order.push(`settled ${failed}`),
    );
    await expect(run).rejects.toThrow(ReplyNotPostedError);
    await expect(run).rejects.toThrow('The plan ran (1/1 projects planned successfully), but its reply could not be posted: GitHub: could not comment on acme/x#3: You have exceeded a secondary rate limit\nPlan again to see its output.');
    expect(order).toEqual(['settled true']);
  });
});
