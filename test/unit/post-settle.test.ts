import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import type { CommitStatus, Forge } from '../../server/github/forge.js';
import { postThenSettle, ReplyNotPostedError, settleIfThrown, settleInterrupted } from '../../server/jobs/post.js';
import type { RepoInfo } from '../../server/jobs/types.js';
import { SecretMasker } from '../../runners/secrets.js';
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

describe('settleInterrupted', () => {
  const repo: RepoInfo = { owner: 'acme', name: 'x', fullName: 'acme/x', cloneUrl: 'file:///x.git', defaultBranch: 'main' };
  const interrupted = { sha: 'a'.repeat(40), context: 'tideline/plan', description: 'plan interrupted: the Tideline server stopped while it ran. Plan again.' };

  function forgeWith(latest: CommitStatus | null | Error): { forge: Forge; written: CommitStatus[] } {
    const written: CommitStatus[] = [];
    const forge = {
      latestStatus: async () => {
        if (latest instanceof Error) throw latest;
        return latest;
      },
      setStatus: async (_repo: unknown, _sha: string, status: CommitStatus) => void written.push(status),
    } as unknown as Forge;
    return { forge, written };
  }
  const ctx = (forge: Forge) => ({ forge, log: pino({ level: 'silent' }), masker: new SecretMasker() });

  it('sets a status that is still pending to error', async () => {
    const { forge, written } = forgeWith({ context: 'tideline/plan', state: 'pending', description: 'planning 1 project(s)…' });
    await settleInterrupted(ctx(forge), repo, interrupted);
    expect(written).toEqual([{ context: 'tideline/plan', state: 'error', description: interrupted.description }]);
  });

  it('links the interrupted job\'s page from the status it settles', async () => {
    const { forge, written } = forgeWith({ context: 'tideline/plan', state: 'pending', description: 'planning 1 project(s)…' });
    await settleInterrupted(ctx(forge), repo, { ...interrupted, targetUrl: 'https://tideline.example.com/jobs/7' });
    expect(written).toEqual([{ context: 'tideline/plan', state: 'error', description: interrupted.description, targetUrl: 'https://tideline.example.com/jobs/7' }]);
  });

  it('leaves a newer result alone: a plan queued before the stop may have run since', async () => {
    for (const state of ['success', 'failure', 'error'] as const) {
      const { forge, written } = forgeWith({ context: 'tideline/plan', state, description: 'newer' });
      await settleInterrupted(ctx(forge), repo, interrupted);
      expect(written).toEqual([]);
    }
    const { forge, written } = forgeWith(null);
    await settleInterrupted(ctx(forge), repo, interrupted);
    expect(written).toEqual([]);
  });

  it('logs a GitHub failure instead of failing the notice that follows', async () => {
    const { forge, written } = forgeWith(new Error('GitHub: could not get the status'));
    await expect(settleInterrupted(ctx(forge), repo, interrupted)).resolves.toBeUndefined();
    expect(written).toEqual([]);
  });
});
