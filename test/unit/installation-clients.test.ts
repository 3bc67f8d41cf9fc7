import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { AppNotInstalledError } from '../../server/github/forge.js';
import { installationClients } from '../../server/github/installation-clients.js';

const REPO = { owner: 'acme', name: 'infra' };

/** A cache over fake lookups: installation ids are handed out in order; a client is its id. */
function rig(ids: (number | 'missing')[]) {
  const lookups: number[] = [];
  const clients = installationClients<number>({
    appId: '7',
    log: pino({ level: 'silent' }),
    lookup: async () => {
      const next = ids.shift();
      if (next === undefined || next === 'missing') throw Object.assign(new Error('Not Found'), { status: 404 });
      lookups.push(next);
      return next;
    },
    clientFor: (id) => id,
  });
  return { clients, lookups };
}

const failure = (status: number, url = 'http://x/repos/acme/infra/pulls/1'): Error => Object.assign(new Error(`HTTP ${status}`), { status, request: { url } });

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
        return id;
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
});
