// Lookups and id allocation over one double's state. Repository names are matched
// case-insensitively, as GitHub does.

import type { AppRecord, DoubleState, PullRecord, RepoRecord } from './types.js';

export function createState(token: string, botLogin: string, app: AppRecord | null = null): DoubleState {
  return {
    url: '',
    token,
    app,
    installations: new Map(),
    installationTokens: new Map(),
    botLogin,
    repos: new Map(),
    nextId: 1000,
    violations: [],
    unimplemented: [],
    answered: new Set(),
    failures: [],
    holds: [],
  };
}

export function nextId(state: DoubleState): number {
  state.nextId += 1;
  return state.nextId;
}

export function repoKey(fullName: string): string {
  return fullName.toLowerCase();
}

export function findRepo(state: DoubleState, owner: string, name: string): RepoRecord | undefined {
  return state.repos.get(repoKey(`${owner}/${name}`));
}

/** For the test-facing API: a missing repository is a mistake in the test, so it throws. */
export function requireRepo(state: DoubleState, fullName: string): RepoRecord {
  const repo = state.repos.get(repoKey(fullName));
  if (repo === undefined) throw new Error(`GitHub double: no repository ${fullName} (call createRepo first)`);
  return repo;
}

export function requirePull(state: DoubleState, fullName: string, number: number): { repo: RepoRecord; pull: PullRecord } {
  const repo = requireRepo(state, fullName);
  const pull = repo.pulls.get(number);
  if (pull === undefined) throw new Error(`GitHub double: no pull request ${fullName}#${number}`);
  return { repo, pull };
}

export function splitFullName(fullName: string): { owner: string; name: string } {
  const match = /^([A-Za-z0-9-]+)\/([A-Za-z0-9._-]+)$/.exec(fullName);
  if (match === null || match[1] === undefined || match[2] === undefined || match[2].endsWith('.git')) {
    throw new Error(`GitHub double: ${JSON.stringify(fullName)} is not an owner/repo name`);
  }
  return { owner: match[1], name: match[2] };
}

export function nowIso(): string {
  return new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
}
