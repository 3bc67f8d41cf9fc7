// GitHub App auth: one installation client per repository, found with
// GET /repos/{owner}/{repo}/installation and kept until GitHub says it changed. It changes when
// an operator reinstalls the App (a new installation id; the old one's tokens are revoked) or
// takes the repository out of the installation. Two ways to notice: the installation webhooks
// (forget), and GitHub refusing what the cached installation asks (run looks again, once).
// An installation an owner suspended is kept too, as suspended: GitHub refuses it until someone
// acts, so calls fail at once, without asking GitHub, until the hold ends or a webhook comes.

import type { Logger } from 'pino';
import { AppNotInstalledError, InstallationSuspendedError, statusOf, type InstallationChange, type InstallationSuspension, type RepoRef } from './forge.js';

/** What GET /repos/{owner}/{repo}/installation says: the id, and the suspension if there is one. */
export interface FoundInstallation {
  id: number;
  suspension: InstallationSuspension | null;
}

/**
 * How long a suspension is believed before GitHub is asked again (one lookup, never a token
 * request). The `installation.unsuspend` webhook ends it at once; this bounds a lost delivery.
 */
export const SUSPENSION_HOLD_MS = 10 * 60_000;

export interface InstallationClientsOptions<C> {
  appId: string;
  /** GET /repos/{owner}/{repo}/installation with the App's JWT. */
  lookup: (repo: RepoRef) => Promise<FoundInstallation>;
  /** A client that authenticates as installation `id`. */
  clientFor: (id: number) => C;
  log: Logger;
  /** Called once when an installation is found suspended (again after it was found lifted). */
  onSuspended?: (repo: string, suspension: InstallationSuspension) => void;
  /** Default SUSPENSION_HOLD_MS. */
  suspensionHoldMs?: number;
  now?: () => number;
}

export interface InstallationClients<C> {
  /**
   * Runs `fn` with the repository's installation client. When the client came from the cache
   * and GitHub refuses its credentials (a 401, or 404 to its token request), looks the
   * installation up again and runs `fn` once more, with a new client; never more than that. A
   * 404 of the call itself is looked into the same way, and `fn` runs again only if the
   * installation changed. Both are safe to repeat: GitHub acted on neither request. So `fn` may
   * make at most one write, as its last request: a retry would repeat any write before it.
   * A suspended installation throws InstallationSuspendedError: found so by the lookup (no
   * token is asked for), or by GitHub's 403 to the call (looked up once more, for who and when).
   */
  run<T>(repo: RepoRef, fn: (client: C) => Promise<T>): Promise<T>;
  /** Drops what `change` touches, and lets go of every lookup under way; returns the repositories dropped. */
  forget(change: InstallationChange): string[];
}

interface Entry<C> {
  installationId: number;
  client: C;
  /** Set while GitHub says the installation is suspended; believed until `untilMs`. */
  suspended: { suspension: InstallationSuspension; untilMs: number } | null;
}

export function installationClients<C>(opts: InstallationClientsOptions<C>): InstallationClients<C> {
  const cache = new Map<string, Entry<C>>();
  // One lookup at a time per repository: jobs that start together share it.
  const pending = new Map<string, Promise<Entry<C>>>();
  // Bumped by forget: a lookup begun before it may have been answered before the change, so its
  // answer serves the call that asked but is not kept, and later calls do not wait on it.
  let generation = 0;
  // Installations already reported suspended: reported once, not at every call or hold.
  const reported = new Set<number>();
  const now = opts.now ?? ((): number => Date.now());
  const holdMs = opts.suspensionHoldMs ?? SUSPENSION_HOLD_MS;

  function suspendedEntry(installationId: number, client: C, suspension: InstallationSuspension | null): Entry<C> {
    return { installationId, client, suspended: suspension === null ? null : { suspension, untilMs: now() + holdMs } };
  }

  /** Notes what GitHub said of the installation's suspension, for the log and the operator. */
  function learn(key: string, installationId: number, suspension: InstallationSuspension | null): void {
    if (suspension === null) {
      if (reported.delete(installationId)) opts.log.info({ repo: key, installationId }, 'GitHub App installation is no longer suspended');
      return;
    }
    if (reported.has(installationId)) return;
    reported.add(installationId);
    opts.log.error({ repo: key, ...suspension }, 'GitHub App installation is suspended: its repositories get no plans, applies or replies until it is unsuspended');
    try {
      opts.onSuspended?.(key, suspension);
    } catch (err: unknown) {
      // Telling the operator must not turn the refusal into another error.
      opts.log.warn({ err }, 'could not record the suspended GitHub App installation');
    }
  }

  function lookUp(repo: RepoRef): Promise<Entry<C>> {
    const key = keyOf(repo);
    const running = pending.get(key);
    if (running !== undefined) return running;
    const startedIn = generation;
    const started: Promise<Entry<C>> = (async (): Promise<Entry<C>> => {
      let found: FoundInstallation;
      try {
        found = await opts.lookup(repo);
      } catch (err: unknown) {
        if (statusOf(err) === 404) throw new AppNotInstalledError(`${repo.owner}/${repo.name}`, opts.appId, { cause: err });
        throw err;
      }
      learn(key, found.id, found.suspension);
      const entry = suspendedEntry(found.id, opts.clientFor(found.id), found.suspension);
      if (generation === startedIn) cache.set(key, entry);
      return entry;
    })().finally(() => {
      if (pending.get(key) === started) pending.delete(key);
    });
    pending.set(key, started);
    return started;
  }

  /** The cached entry, unless it holds a suspension whose hold has ended (then GitHub is asked again). */
  function cachedEntry(key: string): Entry<C> | undefined {
    const entry = cache.get(key);
    if (entry?.suspended === null || entry === undefined) return entry;
    if (now() < entry.suspended.untilMs) return entry;
    cache.delete(key);
    return undefined;
  }

  function refuseIfSuspended(repo: RepoRef, entry: Entry<C>, cause?: unknown): void {
    if (entry.suspended === null) return;
    throw new InstallationSuspendedError(`${repo.owner}/${repo.name}`, opts.appId, entry.suspended.suspension, cause === undefined ? {} : { cause });
  }

  /** GitHub refused the call as suspended although the lookup did not say so: believe the refusal. */
  function suspendFromRefusal(repo: RepoRef, entry: Entry<C>, err: unknown): never {
    const key = keyOf(repo);
    const suspension = suspensionOfRefusal(err, entry.installationId);
    learn(key, entry.installationId, suspension);
    const held = suspendedEntry(entry.installationId, entry.client, suspension);
    if (cache.get(key) === entry || !cache.has(key)) cache.set(key, held);
    refuseIfSuspended(repo, held, err);
    throw err;
  }

  return {
    async run<T>(repo: RepoRef, fn: (client: C) => Promise<T>): Promise<T> {
      const key = keyOf(repo);
      const cached = cachedEntry(key);
      const entry = cached ?? (await lookUp(repo));
      refuseIfSuspended(repo, entry);
      try {
        return await fn(entry.client);
      } catch (err: unknown) {
        const refusal = isSuspensionRefusal(err) ? 'suspended' : refusalOf(err);
        // A suspension is looked into even on an installation just looked up: the lookup may
        // have come before the suspension, and it says who suspended it and when.
        if (refusal === null || (cached === undefined && refusal !== 'suspended')) throw err;
        // Another call may have looked it up again meanwhile; drop only the entry that failed.
        if (cache.get(key) === entry) cache.delete(key);
        opts.log.warn({ repo: key, installationId: entry.installationId, status: statusOf(err), refusal }, 'looking the GitHub App installation up again');
        const fresh = cachedEntry(key) ?? (await lookUp(repo));
        refuseIfSuspended(repo, fresh, err);
        // Still the same installation: the 404 was about what was asked for, not about access.
        if (refusal === 'not found' && fresh.installationId === entry.installationId) throw err;
        try {
          return await fn(fresh.client);
        } catch (again: unknown) {
          if (isSuspensionRefusal(again)) suspendFromRefusal(repo, fresh, again);
          throw again;
        }
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

/**
 * GitHub's 403 for a suspended installation: "This installation has been suspended" to a token
 * request, "… suspended your access at …" to a token issued before; octokit.rb's
 * InstallationSuspended matches the same two.
 */
function isSuspensionRefusal(err: unknown): boolean {
  return statusOf(err) === 403 && /suspended your access|This installation has been suspended/i.test(messageOf(err));
}

/** What a refusal says: "Sorry. This installation owned by acme suspended your access at 2025-…Z." */
function suspensionOfRefusal(err: unknown, installationId: number): InstallationSuspension {
  const match = /owned by (\S+) suspended your access at (\S+?)\.?$/i.exec(messageOf(err));
  return { installationId, account: match?.[1] ?? null, suspendedAt: match?.[2] ?? null, suspendedBy: null };
}

function messageOf(err: unknown): string {
  const data = typeof err === 'object' && err !== null && 'response' in err ? (err.response as { data?: unknown } | undefined)?.data : undefined;
  const message = typeof data === 'object' && data !== null && 'message' in data ? data.message : undefined;
  if (typeof message === 'string') return message;
  return err instanceof Error ? err.message : '';
}
