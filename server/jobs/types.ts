// What each job type carries. Payloads are JSON in the jobs table, so they hold plain data
// only: everything a worker needs to redo the work after a restart.

import type { Command } from '../commands/types.js';

/** The repository as the webhook described it. */
export interface RepoInfo {
  owner: string;
  name: string;
  fullName: string;
  cloneUrl: string;
  defaultBranch: string;
}

export interface CommandJob {
  repo: RepoInfo;
  pull: number;
  command: Command;
  actor: string;
  commentUrl: string;
  deliveryId: string;
  /** Set when a pull request event (opened, pushed to, …) asked for the plan, not a comment. */
  autoplan?: boolean;
}

export interface ReleaseJob {
  repo: RepoInfo;
  pull: number;
  merged: boolean;
  actor: string;
  deliveryId: string;
}

export interface ReplyJob {
  repo: RepoInfo;
  pull: number;
  /** Absent: nothing to post, only statuses to settle (the stopped job had posted its reply). */
  body?: string;
  /** Statuses an interrupted job left pending: settled before the reply, if still pending. */
  settle?: InterruptedStatus[];
}

/** A status an interrupted job left pending; `targetUrl` is that job's page, when the URL is known. */
export interface InterruptedStatus {
  sha: string;
  context: string;
  /** What it is set to; absent (notices queued before there was a choice) is `error`. */
  state?: 'success' | 'failure' | 'error';
  description: string;
  targetUrl?: string;
}

/** A drift sweep of one repository's default branch. */
export interface DriftJob {
  repo: RepoInfo;
  trigger: 'schedule' | 'api';
}

export interface JobPayloads {
  command: CommandJob;
  release: ReleaseJob;
  reply: ReplyJob;
  drift: DriftJob;
}

export type JobType = keyof JobPayloads;
export type JobPayload<T extends JobType = JobType> = JobPayloads[T];

/** What was done for a command before its pull request's head SHA was known. */
export interface Prepared {
  /** The commit the default workspace's tree was reset to (prepareCheckout), or null. */
  resetAt: string | null;
  /** The tree is at the head already and must be used as it is (pre workflow hooks wrote to it). */
  reuse?: boolean;
}
