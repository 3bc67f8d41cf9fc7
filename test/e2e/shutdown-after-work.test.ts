// A shutdown that begins once a run's terraform work is over cuts nothing short: the plan or
// apply is reported as it ran (its reply, its final status, its job's state), and nothing calls
// it interrupted, neither at the stop nor at the next start, even when its reply is still on its
// way when the stop gives up on it. The forge in front of the double starts the stop at the
// moment the run's reply goes out, so the timing is the test's own.

import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Forge } from '../../server/github/forge.js';
import { STOPPED_AFTER_WORK } from '../../server/jobs/queue.js';
import { terraformProject, type Harness } from '../support/harness.js';
import { restartable } from '../support/restartable.js';

const REPO = 'acme/late-stop';

/**
 * The stop, begun once by `begin()` at the moment a forge hook chooses: `begin` runs `stop` and
 * resolves once the running job's signal has aborted.
 */
function stopper(stop: () => Promise<void>): { begin: () => Promise<void>; stopped: () => Promise<void> | undefined } {
  let stopping: Promise<void> | undefined;
  return {
    stopped: () => stopping,
    begin: async () => {
      stopping = stop();
      // close(0) aborts a running apply or sweep from a 0 ms timer, set before this one: timers
      // fire in deadline order, so the abort has happened when this resolves. (A plan's abort is
      // synchronous inside close().)
      await new Promise((resolve) => setTimeout(resolve, 50));
    },
  };
}

/** A forge that begins the stop when the first comment containing `marker` is about to be sent. */
function stopWhenPosting(marker: string, stop: () => Promise<void>): { wrap: (inner: Forge) => Forge; stopped: () => Promise<void> | undefined } {
  const s = stopper(stop);
  return {
    stopped: s.stopped,
    wrap: (inner) => ({
      ...inner,
      createComment: async (repo, pull, body) => {
        if (s.stopped() === undefined && body.includes(marker)) await s.begin();
        return inner.createComment(repo, pull, body);
      },
    }),
  };
}

// The tests run in order on one data dir and one repository, each on a project of its own.
describe('a shutdown that begins after the work is done', () => {
  const env = restartable('tideline-late-stop-');
  // One project per test, so that the lock one pull request keeps does not stop the next.
  const project = (n: number, value: string): Record<string, string> => ({ [`app${n}/main.tf`]: terraformProject(join(env.dir, `app${n}.tfstate`), value) });
  let pull = 0;
  let headSha = '';

  const latest = async (context: string): Promise<{ state: string; description: string | null } | undefined> =>
    (await env.double()).statuses(REPO, headSha).find((s) => s.context === context);
  const notices = async (): Promise<string[]> =>
    (await env.double()).comments(REPO, pull).map((c) => c.body).filter((b) => b.includes('tideline:interrupted'));

  /** Starts again on the same data dir, runs what the stop queued, and returns the server. */
  async function restart(): Promise<Harness> {
    const h = await env.start();
    await h.server.pool.idle();
    return h;
  }

  it('reports a plan as planned when SIGTERM comes while its reply is being posted', async () => {
    const d = await env.double();
    await d.createRepo(REPO, { ...project(1, 'one'), ...project(2, 'one'), ...project(3, 'one') });
    ({ number: pull, headSha } = await d.openPull(REPO, { branch: 'change', files: project(1, 'two') }));
    let h: Harness | undefined;
    const hook = stopWhenPosting('Ran Plan', async () => h?.close());
    h = await env.start({ forge: hook.wrap });
    await d.sendComment(REPO, pull, 'tideline plan -d app1');
    await d.waitFor('the stop to begin', () => hook.stopped());
    await hook.stopped();

    // The reply went out and the check says the plan succeeded.
    expect((await d.comments(REPO, pull)).filter((c) => c.body.includes('Ran Plan'))).toHaveLength(1);
    expect(await latest('tideline/plan')).toMatchObject({ state: 'success', description: '1/1 projects planned successfully.' });

    const after = await restart();
    const db = after.server.db;
    expect(db.prepare("SELECT state FROM jobs WHERE type = 'command'").all()).toEqual([{ state: 'succeeded' }]);
    const stop = db.prepare("SELECT fields FROM audit WHERE type = 'server.stop'").get() as { fields: string };
    expect(JSON.parse(stop.fields)).toMatchObject({ interruptedJobs: [] });
    expect(await notices()).toEqual([]);
    expect(await latest('tideline/plan')).toMatchObject({ state: 'success' });
    // Shown, so appliable: the apply runs rather than asking for another plan.
    await d.sendComment(REPO, pull, 'tideline apply -d app1');
    await d.waitFor('the apply', () => d.comments(REPO, pull).find((c) => c.body.includes('Apply complete!')));
    await after.close();
  });

  it('reports an apply as applied when the shutdown timeout runs out while its reply is being posted', async () => {
    const d = await env.double();
    ({ number: pull, headSha } = await d.openPull(REPO, { branch: 'change-2', files: project(2, 'two') }));
    let h: Harness | undefined;
    const hook = stopWhenPosting('Apply complete!', async () => h?.close(0));
    h = await env.start({ forge: hook.wrap });
    await d.sendComment(REPO, pull, 'tideline plan -d app2');
    await d.waitFor('the plan', () => d.comments(REPO, pull).find((c) => c.body.includes('Ran Plan')));
    await d.sendComment(REPO, pull, 'tideline apply -d app2');
    await d.waitFor('the stop to begin', () => hook.stopped());
    await hook.stopped();

    expect(await latest('tideline/apply')).toMatchObject({ state: 'success', description: '1/1 projects applied successfully.' });
    const after = await restart();
    const applies = after.server.db.prepare("SELECT state FROM jobs WHERE type = 'command' ORDER BY id DESC LIMIT 1").all();
    expect(applies).toEqual([{ state: 'succeeded' }]);
    expect(await notices()).toEqual([]);
    expect(await latest('tideline/apply')).toMatchObject({ state: 'success' });
    await after.close();
  });

  it('fails an apply whose reply GitHub refuses as the timeout runs out, says that it ran, and does not call it interrupted', async () => {
    const d = await env.double();
    ({ number: pull, headSha } = await d.openPull(REPO, { branch: 'change-3', files: project(3, 'two') }));
    let h: Harness | undefined;
    const hook = stopWhenPosting('Apply complete!', async () => h?.close(0));
    h = await env.start({ forge: hook.wrap });
    await d.sendComment(REPO, pull, 'tideline plan -d app3');
    await d.waitFor('the plan', () => d.comments(REPO, pull).find((c) => c.body.includes('Ran Plan')));
    d.failNext('issues/create-comment', { status: 502, message: 'Server Error' });
    await d.sendComment(REPO, pull, 'tideline apply -d app3');
    await d.waitFor('the stop to begin', () => hook.stopped());
    await hook.stopped();

    expect(await latest('tideline/apply')).toMatchObject({ state: 'success', description: '1/1 projects applied successfully. The reply could not be posted.' });
    // The error comment that follows says the apply ran, and not to plan again.
    const told = d.comments(REPO, pull).at(-1)?.body ?? '';
    expect(told).toContain('The apply ran (1/1 projects applied successfully), but its reply could not be posted');
    const after = await restart();
    const applies = after.server.db.prepare("SELECT state, error FROM jobs WHERE type = 'command' ORDER BY id DESC LIMIT 1").all();
    expect(applies).toEqual([{ state: 'failed', error: expect.stringContaining('The apply ran (1/1 projects applied successfully)') }]);
    expect(await notices()).toEqual([]);
    expect(await latest('tideline/apply')).toMatchObject({ state: 'success' });
    expect(d.violations).toEqual([]);
    await after.close();
  });

  it('tells the PR an apply ran when its reply is still on its way as the timeout and its grace run out', async () => {
    const d = await env.double();
    ({ number: pull, headSha } = await d.openPull(REPO, { branch: 'change-4', files: project(4, 'two') }));
    let h: Harness | undefined;
    const s = stopper(async () => h?.close(0));
    h = await env.start({
      forge: (inner) => ({
        ...inner,
        createComment: async (repo, number, body) => {
          if (!body.includes('Apply complete!')) return inner.createComment(repo, number, body);
          await s.begin();
          // GitHub never answers (rate limiting, an outage): the reply outlives the stop.
          return new Promise<never>(() => {});
        },
      }),
    });
    await d.sendComment(REPO, pull, 'tideline plan -d app4');
    await d.waitFor('the plan', () => d.comments(REPO, pull).find((c) => c.body.includes('Ran Plan')));
    await d.sendComment(REPO, pull, 'tideline apply -d app4');
    await d.waitFor('the stop to begin', () => s.stopped());
    await s.stopped();
    expect(await latest('tideline/apply')).toMatchObject({ state: 'pending' });

    const after = await restart();
    const db = after.server.db;
    expect(db.prepare("SELECT state, error FROM jobs WHERE type = 'command' ORDER BY id DESC LIMIT 1").get()).toEqual({ state: 'failed', error: STOPPED_AFTER_WORK });
    const stop = db.prepare("SELECT fields FROM audit WHERE type = 'server.stop' ORDER BY seq DESC LIMIT 1").get() as { fields: string };
    expect(JSON.parse(stop.fields)).toMatchObject({ interruptedJobs: [] });
    const told = await notices();
    expect(told).toHaveLength(1);
    expect(told[0]).toContain('**Apply Ran**: the apply ran (1/1 projects applied successfully), but the server stopped before it finished posting the result');
    expect(told[0]).not.toContain('tideline plan');
    expect(await latest('tideline/apply')).toMatchObject({ state: 'success', description: '1/1 projects applied successfully. The server stopped before it finished reporting.' });
    expect(d.violations).toEqual([]);
    await after.close();
  });

  it('still calls a drift sweep interrupted when the shutdown kills the checkout it begins with', async () => {
    const d = await env.double();
    const s = stopper(async () => h?.close(0));
    let h: Harness | undefined;
    let armed = false;
    h = await env.start({
      env: { TIDELINE_API_SECRET: 'late-stop-api', TIDELINE_DRIFT_SCHEDULE: 'off' },
      // The sweep asks for the clone token right before its git checkout. It asks in the tick the
      // pool starts it in, before the pool records it as running: the stop begins a tick later.
      forge: (inner) => ({
        ...inner,
        cloneToken: async (repo) => {
          if (armed) {
            armed = false;
            await new Promise(setImmediate);
            await s.begin();
          }
          return inner.cloneToken(repo);
        },
      }),
    });
    armed = true;
    const res = await fetch(`${h.server.url}/api/drift/run`, { method: 'POST', headers: { authorization: 'Bearer late-stop-api' } });
    expect(res.status).toBeLessThan(300);
    await d.waitFor('the stop to begin', () => s.stopped());
    await s.stopped();

    const after = await restart();
    const db = after.server.db;
    expect(db.prepare("SELECT state FROM jobs WHERE type = 'drift'").all()).toEqual([{ state: 'interrupted' }]);
    // Cut short, it found nothing about the repository: no failed check is recorded.
    expect(db.prepare("SELECT COUNT(*) AS n FROM audit WHERE type = 'drift.check'").get()).toEqual({ n: 0 });
    await after.close();
  });
});
