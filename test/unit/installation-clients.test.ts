import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { AppNotInstalledError, InstallationSuspendedError, type InstallationSuspension } from '../../server/github/forge.js';
import { installationClients } from '../../server/github/installation-clients.js';

const REPO = { owner: 'acme', name: 'infra' };

type Answer = number | 'missing' | { suspended: number };

/**
 * A cache over fake lookups: installation ids are handed out in order (`{ suspended: id }`:
 * GitHub says it is suspended); a client is its id. The clock moves only when a test moves it.
 */
function rig(ids: Answer[]) {
  const lookups: Answer[] = [];
  const reported: InstallationSuspension[] = [];
  const clock = { ms: 1_000_000 };
  const clients = installationClients<number>({
    appId: '7',
    log: pino({ level: 'silent' }),
    lookup: async () => {
      const next = ids.shift();
      if (next === undefined || next === 'missing') throw Object.assign(new Error('Not Found'), { status: 404 });
      lookups.push(next);
      if (typeof next === 'number') return { id: next, suspension: null };
      return { id: next.suspended, suspension: { installationId: next.suspended, account: 'acme', suspendedAt: '2025-01-02T03:04:05Z', suspendedBy: 'octocat' } };
    },
    clientFor: (id) => id,
    onSuspended: (_repo, suspension) => void reported.push(suspension),
    suspensionHoldMs: 60_000,
    now: () => clock.ms,
  });
  return { clients, lookups, reported, clock };
}

const failure = (status: number, url = 'http://x/repos/acme/infra/pulls/1', message = `HTTP ${status}`): Error =>
  Object.assign(new Error(message), { status, request: { url }, response: { data: { message } } });
const TOKEN_URL = 'http://x/app/installations/1/access_tokens';
const suspendedToken = (): Error => failure(403, TOKEN_URL, 'This installation has been suspended');
const suspendedUse = (): Error => failure(403, undefined, 'Sorry. This installation owned by acme suspended your access at 2025-01-02T03:04:05Z.');

describe('installation clients', () => {
  it('looks an installation up once and keeps it', async () => {
    const { clients, lookups } = rig([1]);
    expect(await clients.run(REPO, async (c) => c)).toBe(1);
    expect(await clients.run({ owner: 'ACME', name: 'Infra' }, async (c) => c)).toBe(1);
    expect(lookups).toEqual([1]);
  });

  it.each([
    ['a 401', failure(401)],
    ['a 404 to the token request', failure(404, 'http://x/app/installations/1/access_tokens')],
  ])('after %s of the cached installation, looks again and retries the call once', async (_name, error) => {
    const { clients, lookups } = rig([1, 2, 3]);
    await clients.run(REPO, async (c) => c);
    const used: number[] = [];
    await expect(
      clients.run(REPO, async (c) => {
        used.push(c);
        throw error;
      }),
    ).rejects.toBe(error);
    expect(used).toEqual([1, 2]);
    expect(lookups).toEqual([1, 2]);
  });

  it('retries a 404 of the call only when the installation changed', async () => {
    const { clients } = rig([1, 1, 2]);
    await clients.run(REPO, async (c) => c);
    const used: number[] = [];
    const notFound = failure(404);
    await expect(clients.run(REPO, async (c) => (used.push(c), Promise.reject(notFound)))).rejects.toBe(notFound);
    expect(used).toEqual([1]);
    await expect(clients.run(REPO, async (c) => (used.push(c), c === 1 ? Promise.reject(notFound) : c))).resolves.toBe(2);
    expect(used).toEqual([1, 1, 2]);
  });

  it.each([403, 409, 422, 500])('does not retry a %i', async (status) => {
    const { clients, lookups } = rig([1, 2]);
    await clients.run(REPO, async (c) => c);
    let calls = 0;
    const fail = async (): Promise<never> => {
      calls += 1;
      throw failure(status);
    };
    await expect(clients.run(REPO, fail)).rejects.toMatchObject({ status });
    expect(calls).toBe(1);
    expect(lookups).toEqual([1]);
  });

  it('does not retry a call on an installation it has just looked up', async () => {
    const { clients, lookups } = rig([1, 2]);
    let calls = 0;
    const fail = async (): Promise<never> => {
      calls += 1;
      throw failure(401);
    };
    await expect(clients.run(REPO, fail)).rejects.toMatchObject({ status: 401 });
    expect(calls).toBe(1);
    expect(lookups).toEqual([1]);
  });

  it('says the App is not installed when the look-up answers 404', async () => {
    const { clients } = rig([1, 'missing']);
    await clients.run(REPO, async (c) => c);
    await expect(clients.run(REPO, async () => Promise.reject(failure(401)))).rejects.toBeInstanceOf(AppNotInstalledError);
  });

  it('forgets by installation id, account and repository name', async () => {
    const { clients } = rig([1, 2, 3]);
    await clients.run({ owner: 'acme', name: 'a' }, async (c) => c);
    await clients.run({ owner: 'other', name: 'b' }, async (c) => c);
    await clients.run({ owner: 'third', name: 'c' }, async (c) => c);
    expect(clients.forget({ installationId: 1, account: null, repos: [] })).toEqual(['acme/a']);
    expect(clients.forget({ installationId: 99, account: 'Other', repos: [] })).toEqual(['other/b']);
    expect(clients.forget({ installationId: null, account: null, repos: ['Third/C'] })).toEqual(['third/c']);
  });

  it('does not keep what a look-up found when a forget came while it ran', async () => {
    // The reinstall's webhook arrives while a look-up GitHub answered before it is on its way back.
    let answerFirst: (id: number) => void = () => {};
    const answers = [new Promise<number>((resolve) => (answerFirst = resolve)), Promise.resolve(2)];
    const lookups: number[] = [];
    const clients = installationClients<number>({
      appId: '7',
      log: pino({ level: 'silent' }),
      lookup: async () => {
        const id = await (answers.shift() ?? Promise.reject(new Error('no more look-ups')));
        lookups.push(id);
        return { id, suspension: null };
      },
      clientFor: (id) => id,
    });
    const first = clients.run(REPO, async (c) => c);
    clients.forget({ installationId: 2, account: 'acme', repos: [] });
    answerFirst(1);
    expect(await first).toBe(1);
    expect(await clients.run(REPO, async (c) => c)).toBe(2);
    expect(lookups).toEqual([1, 2]);
  });

  describe('a suspended installation', () => {
    it('is refused at once when the look-up says so: no call, so no token request', async () => {
      const { clients, reported } = rig([{ suspended: 1 }]);
      let calls = 0;
      const error = await clients.run(REPO, async () => ++calls).catch((err: unknown) => err);
      expect(error).toBeInstanceOf(InstallationSuspendedError);
      expect((error as Error).message).toContain('is suspended on acme (installation 1, suspended at 2025-01-02T03:04:05Z by octocat)');
      expect((error as Error).message).toContain('an owner of acme can unsuspend it');
      expect(calls).toBe(0);
      expect(reported).toEqual([expect.objectContaining({ installationId: 1, suspendedBy: 'octocat' })]);
    });

    it.each([
      ['its token request', suspendedToken],
      ['a token issued before', suspendedUse],
    ])('found by the 403 to %s: looks up once for who and when, and does not retry', async (_name, refusal) => {
      const { clients, lookups } = rig([1, { suspended: 1 }]);
      await clients.run(REPO, async (c) => c);
      let calls = 0;
      const error = await clients.run(REPO, async () => (calls++, Promise.reject(refusal()))).catch((err: unknown) => err);
      expect(error).toBeInstanceOf(InstallationSuspendedError);
      expect(error).toMatchObject({ status: 403, suspension: { installationId: 1, suspendedBy: 'octocat' } });
      expect(calls).toBe(1);
      expect(lookups).toEqual([1, { suspended: 1 }]);
    });

    it('asks GitHub nothing more until the hold ends, then one look-up', async () => {
      const { clients, lookups, reported, clock } = rig([{ suspended: 1 }, { suspended: 1 }, 1]);
      let calls = 0;
      const call = (): Promise<unknown> => clients.run(REPO, async () => ++calls).catch((err: unknown) => err);
      for (let i = 0; i < 5; i++) expect(await call()).toBeInstanceOf(InstallationSuspendedError);
      expect(lookups).toHaveLength(1);
      clock.ms += 60_001;
      expect(await call()).toBeInstanceOf(InstallationSuspendedError);
      expect(lookups).toHaveLength(2);
      // Told once, not at every call or hold.
      expect(reported).toHaveLength(1);
      clock.ms += 60_001;
      expect(await call()).toBe(1);
      expect(calls).toBe(1);
    });

    it('is looked up again at once after an installation webhook (unsuspend) names it', async () => {
      const { clients, lookups } = rig([{ suspended: 1 }, 1]);
      await expect(clients.run(REPO, async (c) => c)).rejects.toBeInstanceOf(InstallationSuspendedError);
      expect(clients.forget({ installationId: 1, account: 'acme', repos: [] })).toEqual(['acme/infra']);
      expect(await clients.run(REPO, async (c) => c)).toBe(1);
      expect(lookups).toEqual([{ suspended: 1 }, 1]);
    });

    it('believes the 403 when the look-up lags: refused, and held like any suspension', async () => {
      const { clients, lookups } = rig([1, 1]);
      await clients.run(REPO, async (c) => c);
      let calls = 0;
      const error = await clients.run(REPO, async () => (calls++, Promise.reject(suspendedUse()))).catch((err: unknown) => err);
      expect(error).toBeInstanceOf(InstallationSuspendedError);
      expect(error).toMatchObject({ suspension: { installationId: 1, account: 'acme', suspendedAt: '2025-01-02T03:04:05Z' } });
      // Once more with the fresh client (GitHub acted on neither), then no more.
      expect(calls).toBe(2);
      await expect(clients.run(REPO, async () => ++calls)).rejects.toBeInstanceOf(InstallationSuspendedError);
      expect(calls).toBe(2);
      expect(lookups).toEqual([1, 1]);
    });
  });
});
