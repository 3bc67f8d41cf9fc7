// The narrow view of GitHub the server needs. The Octokit implementation lives beside this
// file; tests and the sandbox can stand behind the same interface.

export interface RepoRef {
  owner: string;
  name: string;
}

export interface PullInfo {
  number: number;
  state: 'open' | 'closed';
  merged: boolean;
  draft: boolean;
  title: string;
  author: string;
  headSha: string;
  headRef: string;
  baseRef: string;
  baseSha: string;
  /** `owner/name` of the repository the head branch is in; another than the base's for a fork, null when that fork was deleted. */
  headRepo: string | null;
  /** `mergeable` as GitHub reports it; null while GitHub is still computing it. */
  mergeable: boolean | null;
  htmlUrl: string;
}

/** A pull request's head is in another repository than its base: a fork (or a deleted one, null). */
export function isFork(baseRepo: string, headRepo: string | null): boolean {
  return headRepo === null || headRepo.toLowerCase() !== baseRepo.toLowerCase();
}

/** GitHub lists at most this many files of a pull request (pulls/list-files); the rest are left off. */
export const MAX_LISTED_PULL_FILES = 3_000;

export interface PullFiles {
  /** Changed paths; a rename gives its old and its new path. */
  paths: string[];
  /** False when GitHub may have left files off (it listed MAX_LISTED_PULL_FILES): ask git instead. */
  complete: boolean;
}

export type StatusState = 'pending' | 'success' | 'failure' | 'error';

export interface CommitStatus {
  context: string;
  state: StatusState;
  description: string;
  targetUrl?: string;
}

export interface Review {
  user: string;
  state: string;
  commitId: string | null;
}

/** How a pull request is merged, as GitHub's merge API names it. */
export type MergeMethod = 'merge' | 'squash' | 'rebase';

export type RepoPermission = 'admin' | 'maintain' | 'write' | 'triage' | 'read' | 'none';

/** An issue (not a pull request) as the server reads it back. */
export interface IssueInfo {
  number: number;
  title: string;
  state: 'open' | 'closed';
  body: string;
  labels: string[];
  htmlUrl: string;
}

export interface NewIssue {
  title: string;
  body: string;
  labels?: string[];
}

export interface IssueUpdate {
  title?: string;
  body?: string;
  state?: 'open' | 'closed';
  /** Why it was closed or reopened; GitHub ignores it unless `state` changes. */
  stateReason?: 'completed' | 'not_planned' | 'reopened';
}

export interface LabelSpec {
  name: string;
  /** Six hex digits, no `#`. */
  color: string;
  description: string;
}

export interface Forge {
  getPull(repo: RepoRef, pull: number): Promise<PullInfo>;
  /** The changed file paths GitHub lists for the pull request, across all pages (at most 3,000 files). */
  listPullFiles(repo: RepoRef, pull: number): Promise<PullFiles>;
  listReviews(repo: RepoRef, pull: number): Promise<Review[]>;
  /** A comment on a pull request or an issue (they share GitHub's issue numbers). */
  createComment(repo: RepoRef, pull: number, body: string): Promise<{ id: number; url: string }>;
  setStatus(repo: RepoRef, sha: string, status: CommitStatus): Promise<void>;
  /** The newest status of `context` on commit `sha` (GitHub's combined status), or null. */
  latestStatus(repo: RepoRef, sha: string, context: string): Promise<CommitStatus | null>;
  getPermission(repo: RepoRef, login: string): Promise<RepoPermission>;
  /** Merges the pull request only while its head is still `sha` (GitHub answers 409 otherwise). */
  mergePull(repo: RepoRef, pull: number, merge: { sha: string; method: MergeMethod }): Promise<{ sha: string }>;
  /** The login the server acts as; its own comments are ignored. */
  whoami(): Promise<string>;
  /** Token for cloning `repo` over https, or null when auth is not token-based. */
  cloneToken(repo: RepoRef): Promise<string | null>;
  /** Opens an issue; labels that do not exist yet are created by GitHub. */
  createIssue(repo: RepoRef, issue: NewIssue): Promise<IssueInfo>;
  updateIssue(repo: RepoRef, number: number, update: IssueUpdate): Promise<IssueInfo>;
  /** Issues (never pull requests) carrying `label`, across all pages. */
  listIssues(repo: RepoRef, filter: { label: string; state: 'open' | 'closed' | 'all' }): Promise<IssueInfo[]>;
  /** Creates the label when the repository lacks it; an existing label is left as it is. */
  ensureLabel(repo: RepoRef, label: LabelSpec): Promise<void>;
  /** GitHub App auth: drop the cached installations `change` touches; they are looked up again on next use. */
  forgetInstallations?(change: InstallationChange): void;
}

/** The HTTP status an Octokit (or forge) error carries, or null. */
export function statusOf(err: unknown): number | null {
  if (typeof err === 'object' && err !== null && 'status' in err && typeof err.status === 'number') return err.status;
  return null;
}

/** A GitHub call failed after retries; carries the HTTP status where there was one. */
export class ForgeError extends Error {
  override readonly name = 'ForgeError';
  constructor(
    message: string,
    readonly status: number | null,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/**
 * GitHub told the App its installations changed (the `installation` and
 * `installation_repositories` webhooks): what a cache of installation clients must let go of.
 */
export interface InstallationChange {
  /** The installation the delivery is about. */
  installationId: number | null;
  /** Login of the account it is installed on, when the whole installation changed. */
  account: string | null;
  /** `owner/name` of the repositories the delivery names. */
  repos: string[];
}

/** GitHub App auth: the App has no installation that holds the repository. */
export class AppNotInstalledError extends ForgeError {
  constructor(
    readonly repo: string,
    readonly appId: string,
    options?: { cause?: unknown },
  ) {
    super(
      `GitHub: the GitHub App (ID ${appId}) is not installed on ${repo} (GET /repos/${repo}/installation answered 404): ` +
        `install the App on ${repo}, or add ${repo} to the App's installation under Settings → GitHub Apps → Configure → Repository access, then run the command again`,
      404,
      options,
    );
  }
}

/** What GitHub says of a suspended installation: `suspended_at`, `suspended_by` of the installation object. */
export interface InstallationSuspension {
  installationId: number;
  /** Login of the account the App is installed on (whose owners can unsuspend it). */
  account: string | null;
  suspendedAt: string | null;
  /** Login of who suspended it. */
  suspendedBy: string | null;
}

/**
 * GitHub App auth: an owner of the account (or the App's owner) suspended the installation that
 * holds the repository. GitHub refuses its token requests and its tokens with 403 until it is
 * unsuspended, so nothing the server retries can help; the message says who must act.
 */
export class InstallationSuspendedError extends ForgeError {
  constructor(
    readonly repo: string,
    readonly appId: string,
    readonly suspension: InstallationSuspension,
    options?: { cause?: unknown },
  ) {
    const s = suspension;
    const account = s.account ?? repo.slice(0, repo.indexOf('/'));
    const when = [s.suspendedAt === null ? '' : ` at ${s.suspendedAt}`, s.suspendedBy === null ? '' : ` by ${s.suspendedBy}`].join('');
    super(
      `GitHub: the GitHub App (ID ${appId}) is suspended on ${account} (installation ${s.installationId}, suspended${when}), so GitHub refuses every request it makes for ${repo}: ` +
        `an owner of ${account} can unsuspend it under Settings → GitHub Apps → Configure → Unsuspend (if the App's owner suspended it, only the App's owner can, from the App's settings), then run the command again`,
      403,
      options,
    );
  }
}
