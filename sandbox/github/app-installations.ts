// What happens on "github.com" when someone registers the App, installs it on a repository,
// takes a repository out of an installation, or uninstalls it; and the installation tokens the
// App is given. Ids come from the double's one sequence, so a reinstall gets a new id.

import { createPublicKey, generateKeyPairSync, randomBytes } from 'node:crypto';
import { nextId, nowIso, repoKey, requireRepo } from './state.js';
import type { AppRecord, DoubleState, InstallationRecord } from './types.js';

/** GitHub's installation tokens last an hour. */
export const INSTALLATION_TOKEN_LIFETIME_MS = 60 * 60 * 1000;

export function createAppRecord(options: { id?: number; slug?: string }): AppRecord {
  const { privateKey } = generateKeyPairSync('rsa', {
    modulusLength: 2048,
    privateKeyEncoding: { type: 'pkcs1', format: 'pem' },
    publicKeyEncoding: { type: 'spki', format: 'pem' },
  });
  const slug = options.slug ?? 'tideline';
  return {
    id: options.id ?? 4242,
    slug,
    name: slug,
    clientId: `Iv1.${randomBytes(8).toString('hex')}`,
    privateKey,
    publicKey: createPublicKey(privateKey),
    createdAt: nowIso(),
  };
}

export function requireApp(state: DoubleState): AppRecord {
  if (state.app === null) throw new Error('GitHub double: no App (start the double with `app`)');
  return state.app;
}

/** The live installation that holds the repository, if any. */
export function liveInstallationOf(state: DoubleState, fullName: string): InstallationRecord | undefined {
  const key = repoKey(fullName);
  for (const installation of state.installations.values()) {
    if (installation.deletedAt === null && installation.repos.has(key)) return installation;
  }
  return undefined;
}

export function requireInstallation(state: DoubleState, id: number): InstallationRecord {
  const installation = state.installations.get(id);
  if (installation === undefined) throw new Error(`GitHub double: no installation ${id}`);
  return installation;
}

export function installApp(state: DoubleState, fullName: string): number {
  requireApp(state);
  const repo = requireRepo(state, fullName);
  const existing = liveInstallationOf(state, fullName);
  if (existing !== undefined) return existing.id;
  const account = [...state.installations.values()].find((i) => i.deletedAt === null && i.account.toLowerCase() === repo.owner.toLowerCase());
  if (account !== undefined) {
    account.repos.add(repoKey(fullName));
    account.updatedAt = nowIso();
    return account.id;
  }
  return createInstallation(state, repo.owner, [repoKey(fullName)]).id;
}

export function removeFromInstallation(state: DoubleState, fullName: string): number {
  const installation = requireLive(state, fullName);
  installation.repos.delete(repoKey(fullName));
  installation.updatedAt = nowIso();
  return installation.id;
}

export function uninstallApp(state: DoubleState, fullName: string): number {
  const installation = requireLive(state, fullName);
  installation.deletedAt = nowIso();
  // Revoked with it: GitHub refuses them from now on (authenticate checks deletedAt).
  return installation.id;
}

export function reinstallApp(state: DoubleState, fullName: string): { deleted: number; created: number } {
  const old = requireLive(state, fullName);
  old.deletedAt = nowIso();
  const created = createInstallation(state, old.account, [...old.repos]);
  return { deleted: old.id, created: created.id };
}

/** A new installation token; the caller has checked the installation is live. */
export function mintInstallationToken(state: DoubleState, installation: InstallationRecord, nowMs = Date.now()): { token: string; expiresAt: string } {
  const token = `ghs_${randomBytes(27).toString('base64url').replace(/[-_]/g, 'x')}`;
  const expiresAtMs = nowMs + INSTALLATION_TOKEN_LIFETIME_MS;
  state.installationTokens.set(token, { installationId: installation.id, expiresAtMs });
  return { token, expiresAt: new Date(expiresAtMs).toISOString().replace(/\.\d{3}Z$/, 'Z') };
}

export function expireInstallationTokens(state: DoubleState, installationId: number, nowMs = Date.now()): void {
  for (const token of state.installationTokens.values()) {
    if (token.installationId === installationId) token.expiresAtMs = Math.min(token.expiresAtMs, nowMs - 1);
  }
}

export function suspendInstallation(state: DoubleState, id: number, by?: string): void {
  const installation = requireInstallation(state, id);
  if (installation.deletedAt !== null) throw new Error(`GitHub double: installation ${id} is deleted; a deleted installation cannot be suspended`);
  installation.suspendedAt = nowIso();
  installation.suspendedBy = by ?? installation.account;
  installation.updatedAt = installation.suspendedAt;
}

export function unsuspendInstallation(state: DoubleState, id: number): void {
  const installation = requireInstallation(state, id);
  installation.suspendedAt = null;
  installation.suspendedBy = null;
  installation.updatedAt = nowIso();
}

function createInstallation(state: DoubleState, account: string, repos: string[]): InstallationRecord {
  const now = nowIso();
  const installation: InstallationRecord = {
    id: nextId(state),
    account,
    repos: new Set(repos),
    createdAt: now,
    updatedAt: now,
    deletedAt: null,
    suspendedAt: null,
    suspendedBy: null,
  };
  state.installations.set(installation.id, installation);
  return installation;
}

function requireLive(state: DoubleState, fullName: string): InstallationRecord {
  requireApp(state);
  requireRepo(state, fullName);
  const installation = liveInstallationOf(state, fullName);
  if (installation === undefined) throw new Error(`GitHub double: the App is not installed on ${fullName}`);
  return installation;
}
