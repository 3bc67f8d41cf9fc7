// GitHub App auth: one installation client per repository, found with
// GET /repos/{owner}/{repo}/installation and kept until GitHub says it changed. It changes when
// an operator reinstalls the App (a new installation id; the old one's tokens are revoked) or
// takes the repository out of the installation. Two ways to notice: the installation webhooks
// (forget), and GitHub refusing what the cached installation asks (run looks again, once).

import type { Logger } from 'pino';
import { AppNotInstalledError, statusOf, type InstallationChange, type RepoRef } from './forge.js';

export interface InstallationClientsOptions<C> {
  appId: string;
  /** GET /repos/{owner}/{repo}/installation with the App's JWT: the installation id. */
  lookup: (repo: RepoRef) => Promise<number>;
  /** A client that authenticates as installation `id`. */
  clientFor: (id: number) => C;
  log: Logger;
}

export interface InstallationClients<C> {
  /**
   * Runs `fn` with the repository's installation client. When the client came from the cache
   * and GitHub refuses its credentials (a 401, or 404 to its token request), looks the
   * installation up again and runs `fn` once more, with a new client; never more than that. A
   * 404 of the call itself is looked into the same way, and `fn` runs again only if the
   * installation changed. Both are safe to repeat: GitHub acted on neither request. So `fn` may
   * make at most one write, as its last request: a retry would repeat any write before it.
   */
  run<T>(repo: RepoRef, fn: (client: C) => Promise<T>): Promise<T>;
  /** Drops what `change` touches, and lets go of every lookup under way; returns the repositories dropped. */
  forget(change: InstallationChange): string[];
}

interface Entry<C> {
  installationId: number;
  client: C;
}

export function installationClients<C>(opts: InstallationClientsOptions<C>): InstallationClients<C> {
  const cache = new Map<string, Entry<C>>();
  // One lookup at a time per repository: jobs that start together share it.
  const pending = new Map<string, Promise<Entry<C>>>();
  // Bumped by forget: a lookup begun before it may have been answered before the change, so its
  // answer serves the call that asked but is not kept, and later calls do not wait on it.
  let generation = 0;

  function lookUp(repo: RepoRef): Promise<Entry<C>> {
    const key = keyOf(repo);
    const running = pending.get(key);
    if (running !== undefined) return running;
    const startedIn = generation;
    const started: Promise<Entry<C>> = (async (): Promise<Entry<C>> => {
      let installationId: number;
      try {
        installationId = await opts.lookup(repo);
      } catch (err: unknown) {
        if (statusOf(err) === 404) throw new AppNotInstalledError(`${repo.owner}/${repo.name}`, opts.appId, { cause: err });
        throw err;
      }
      const entry = { installationId, client: opts.clientFor(installationId) };
      if (generation === startedIn) cache.set(key, entry);
      return entry;
    })().finally(() => {
      if (pending.get(key) === started) pending.delete(key);
    });
    pending.set(key, started);
    return started;
  }

  return {
    async run<T>(repo: RepoRef, fn: (client: C) => Promise<T>): Promise<T> {
      const key = keyOf(repo);
      const cached = cache.get(key);
      const entry = cached ?? (await lookUp(repo));
      try {
        return await fn(entry.client);
      } catch (err: unknown) {
        const refusal = refusalOf(err);
        if (cached === undefined || refusal === null) throw err;
        // Another call may have looked it up again meanwhile; drop only the entry that failed.
        if (cache.get(key) === cached) cache.delete(key);
        opts.log.warn({ repo: key, installationId: cached.installationId, status: statusOf(err), refusal }, 'looking the GitHub App installation up again');
        const fresh = cache.get(key) ?? (await lookUp(repo));
        // Still the same installation: the 404 was about what was asked for, not about access.
        if (refusal === 'not found' && fresh.installationId === cached.installationId) throw err;
        return await fn(fresh.client);
      }
    },
    forget(change: InstallationChange): string[] {
      const repos = new Set(change.repos.map((r) => r.toLowerCase()));
      const account = change.account?.toLowerCase() ?? null;
      const dropped: string[] = [];
      generation += 1;
      pending.clear();
      for (const [key, entry] of cache) {
        const owner = key.slice(0, key.indexOf('/'));
        if (entry.installationId === change.installationId || repos.has(key) || owner === account) {
          cache.delete(key);
          dropped.push(key);
        }
      }
      if (dropped.length > 0) opts.log.info({ repos: dropped, installationId: change.installationId }, 'dropped cached GitHub App installations');
      return dropped;
    },
  };
}

function keyOf(repo: RepoRef): string {
  return `${repo.owner}/${repo.name}`.toLowerCase();
}

/**
 * Why a failure of a cached installation's call may mean the installation changed: GitHub
 * refused its token (401) or its token request (404: no such installation), or did not find
 * the repository (404: it may have left the installation). GitHub acted on none of them.
 */
function refusalOf(err: unknown): 'credentials' | 'not found' | null {
  const status = statusOf(err);
  if (status === 401) return 'credentials';
  if (status !== 404) return null;
  const url = typeof err === 'object' && err !== null && 'request' in err ? (err.request as { url?: unknown } | undefined)?.url : undefined;
  return typeof url === 'string' && /\/app\/installations\/\d+\/access_tokens(?:\?|$)/.test(url) ? 'credentials' : 'not found';
}
