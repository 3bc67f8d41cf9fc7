// Jobs of one pull request of acme/infra, queued as the intake would: for the queue's tests.

import { enqueue } from '../../server/jobs/queue.js';
import type { RepoInfo } from '../../server/jobs/types.js';
import type { Db } from '../../server/store/db.js';

export const repo: RepoInfo = { owner: 'acme', name: 'infra', fullName: 'acme/infra', cloneUrl: 'file:///x', defaultBranch: 'main' };

export function reply(db: Db, pull: number, body: string): number {
  return enqueue(db, { type: 'reply', repo: repo.fullName, pull, serialKey: `acme/infra#${pull}`, payload: { repo, pull, body } });
}

export function plan(db: Db, pull: number): number {
  const payload = { repo, pull, command: { name: 'plan' as const, selector: {}, extraArgs: [] }, actor: 'octocat', commentUrl: '', deliveryId: `d${pull}` };
  return enqueue(db, { type: 'command', repo: repo.fullName, pull, serialKey: `acme/infra#${pull}`, payload });
}
