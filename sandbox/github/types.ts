// Public contract of the GitHub double, plus the state records it keeps. Other code (the
// end-to-end tests, the demo, benchmarks) depends on these exact names.

import type { KeyObject } from 'node:crypto';

export interface GitHubDoubleOptions {
  webhookSecret: string;
  rootDir: string;
  /** Login of the account the token belongs to; default 'tideline-bot'. */
  botLogin?: string;
  /** Token the REST API accepts; default random. */
  token?: string;
  /**
   * Also act as a GitHub App (an RSA key pair, JWTs, installations, installation tokens). The
   * token above keeps working; the bot login defaults to `<slug>[bot]`.
   */
  app?: { id?: number; slug?: string };
}

/** The App the double registered: what an operator copies from the App's settings page. */
export interface DoubleApp {
  readonly id: number;
  readonly slug: string;
  readonly clientId: string;
  /** PEM, PKCS#1 ("BEGIN RSA PRIVATE KEY"), as GitHub's "Generate a private key" downloads it. */
  readonly privateKey: string;
}

export type InstallationAction = 'created' | 'deleted' | 'suspend' | 'unsuspend' | 'new_permissions_accepted';
export type InstallationRepositoriesAction = 'added' | 'removed';

export interface DeliveryResult {
  status: number;
  body: string;
  deliveryId: string;
  durationMs: number;
}

export interface DoubleComment {
  id: number;
  body: string;
  user: string;
  createdAt: string;
  htmlUrl: string;
}

export interface DoubleStatus {
  context: string;
  state: string;
  description: string | null;
  targetUrl: string | null;
}

export type PullEventAction = 'opened' | 'synchronize' | 'reopened' | 'closed' | 'ready_for_review';
export type ReviewState = 'APPROVED' | 'CHANGES_REQUESTED' | 'COMMENTED';
export type DoublePermission = 'admin' | 'write' | 'read' | 'none';
export type FileChanges = Record<string, string | null>;

export interface DoubleIssue {
  number: number;
  title: string;
  body: string;
  state: 'open' | 'closed';
  stateReason: string | null;
  labels: string[];
  author: string;
  comments: DoubleComment[];
}

export interface DoubleLabel {
  name: string;
  color: string;
  description: string | null;
}

export interface DeliverOptions {
  deliveryId?: string;
  /** Sign with this secret instead of the double's. */
  secret?: string;
  /** Send exactly this signature header; null sends none. */
  signature?: string | null;
}

/** A request holdNext is holding: `arrived` resolves once one is held. */
export interface HeldRequest {
  arrived: Promise<void>;
  release(): void;
  drop(): void;
}

/** An error GitHub may answer an operation with, given instead of running it (failNext). */
export interface InjectedFailure {
  status: number;
  /** GitHub's `message`, e.g. "You have exceeded a secondary rate limit…". */
  message: string;
  headers?: Record<string, string>;
  /** How many of the next requests fail; default 1. */
  times?: number;
}

export interface GitHubDouble {
  /** http://127.0.0.1:PORT — the REST base URL. */
  readonly url: string;
  readonly token: string;
  readonly botLogin: string;
  readonly violations: string[];
  readonly unimplemented: string[];
  createRepo(
    fullName: string,
    files: Record<string, string>,
  ): Promise<{ cloneUrl: string; defaultBranch: string; headSha: string }>;
  openPull(
    fullName: string,
    opts: { branch: string; files: FileChanges; title?: string; author?: string; fork?: string },
  ): Promise<{ number: number; headSha: string }>;
  /** Adds a commit on top of the PR head; resolves to the new head sha. */
  pushToPull(fullName: string, pull: number, files: FileChanges): Promise<string>;
  /** Merges the PR into the default branch; resolves to the new default-branch sha. */
  mergePull(fullName: string, pull: number): Promise<string>;
  closePull(fullName: string, pull: number): Promise<void>;
  headSha(fullName: string, pull: number): string;
  /** Whether the pull request is open, and whether (and into which commit) it was merged. */
  pullState(fullName: string, pull: number): { state: 'open' | 'closed'; merged: boolean; mergeCommitSha: string | null };
  setWebhookTarget(url: string): void;
  /** Creates the comment in state (as `user`, default 'octocat') and delivers issue_comment.created. */
  sendComment(
    fullName: string,
    pull: number,
    body: string,
    opts?: { user?: string },
  ): Promise<DeliveryResult>;
  /** Delivers pull_request.<action> for the current state of the PR (call mergePull/closePull first for 'closed'). */
  sendPullRequestEvent(fullName: string, pull: number, action: PullEventAction): Promise<DeliveryResult>;
  /**
   * Low level: deliver any body; for bad-signature and duplicate-delivery tests. A string payload
   * is sent as-is (malformed-JSON tests); anything else is sent as JSON.stringify(payload).
   */
  deliver(event: string, payload: unknown, opts?: DeliverOptions): Promise<DeliveryResult>;
  /** Build (without sending, and without storing the comment) the payload sendComment would send. */
  commentPayload(fullName: string, pull: number, body: string, opts?: { user?: string }): unknown;
  /** Comments of a pull request or of an issue (they share numbers, as on GitHub). */
  comments(fullName: string, pull: number): DoubleComment[];
  /** Issues (not pull requests) of the repository, oldest first, with their comments. */
  issues(fullName: string): DoubleIssue[];
  labels(fullName: string): DoubleLabel[];
  /** Newest first. */
  statuses(fullName: string, sha: string): DoubleStatus[];
  setReview(fullName: string, pull: number, user: string, state: ReviewState): void;
  /** Default for users never set: 'write'. */
  setPermission(fullName: string, user: string, permission: DoublePermission): void;
  setMergeable(fullName: string, pull: number, mergeable: boolean | null): void;
  /**
   * The next requests for `operationId` (GitHub's name, e.g. `issues/create-comment`) that pass
   * the OpenAPI check get `failure` instead of running. Its status must be one GitHub documents
   * for the operation, or a 5xx; any other is a violation.
   */
  failNext(operationId: string, failure: InjectedFailure): void;
  /** The App, when started with `app`; null in token-only mode. */
  readonly app: DoubleApp | null;
  /**
   * Installs the App on the repository: adds it to the live installation of its owner, or
   * creates one (a new installation id). Resolves to the installation id. No webhook is sent.
   */
  installApp(fullName: string): number;
  /** Takes the repository out of its installation, which stays; its tokens lose the repository. */
  removeFromInstallation(fullName: string): number;
  /** Uninstalls the App from the repository's account: the installation is deleted, its tokens revoked. */
  uninstallApp(fullName: string): number;
  /** Uninstall, then install again on the same repositories: a new installation id. */
  reinstallApp(fullName: string): { deleted: number; created: number };
  /** The live installation holding the repository, or null. */
  installationOf(fullName: string): number | null;
  /** Makes every token of the installation expired (GitHub's last an hour). */
  expireInstallationTokens(installationId: number): void;
  /**
   * An owner of the account suspends the App there (Settings → GitHub Apps → Configure →
   * Suspend; `by` defaults to the account): token requests get 403 "This installation has been
   * suspended", tokens already issued get 403 too, and the installation objects carry
   * `suspended_at`/`suspended_by`. No webhook is sent: sendInstallationEvent(id, 'suspend').
   */
  suspendInstallation(installationId: number, opts?: { by?: string }): void;
  /** Lifts the suspension; tokens issued before it work again until they expire. No webhook is sent. */
  unsuspendInstallation(installationId: number): void;
  /** Delivers `installation.<action>` for the installation (deleted ones included) as it stands. */
  sendInstallationEvent(installationId: number, action: InstallationAction, opts?: DeliverOptions): Promise<DeliveryResult>;
  /** Delivers `installation_repositories.<action>` naming `repos` as added or removed. */
  sendInstallationRepositoriesEvent(installationId: number, action: InstallationRepositoriesAction, repos: string[]): Promise<DeliveryResult>;
  /**
   * Holds the next request for `operationId` whose JSON body `matches` (all, without it) once it
   * has passed the OpenAPI check, before it runs: the client waits, as on a slow GitHub, until the
   * test releases it (it then runs) or drops it (it never runs and gets no answer, as if it never
   * reached GitHub; close() drops what is still held).
   */
  holdNext(operationId: string, matches?: (body: unknown) => boolean): HeldRequest;
  /**
   * Resolves when predicate() is truthy: checked at once, after every request the double answers
   * and every 25 ms (for state it does not own); rejects naming `what` after timeoutMs (default 30 s).
   */
  waitFor<T>(what: string, predicate: () => T | undefined | null | false, timeoutMs?: number): Promise<T>;
  close(): Promise<void>;
}

// ---- state kept by one double instance ----

export interface CommentRecord {
  id: number;
  body: string;
  user: string;
  createdAt: string;
  updatedAt: string;
}

export interface ReviewRecord {
  id: number;
  user: string;
  state: ReviewState;
  commitId: string;
  submittedAt: string;
}

export interface StatusRecord {
  id: number;
  sha: string;
  context: string;
  state: string;
  description: string | null;
  targetUrl: string | null;
  creator: string;
  createdAt: string;
}

export interface PullRecord {
  number: number;
  id: number;
  title: string;
  author: string;
  branch: string;
  /** `owner/name` of the fork the head branch is in; absent when it is in the base repository. */
  headRepo?: string;
  baseRef: string;
  /** Default-branch tip when the PR was opened or last pushed to. */
  baseSha: string;
  headSha: string;
  /** Head before the last push, for pull_request.synchronize's `before`. */
  previousHeadSha: string | null;
  state: 'open' | 'closed';
  merged: boolean;
  draft: boolean;
  mergeable: boolean | null;
  mergeCommitSha: string | null;
  createdAt: string;
  updatedAt: string;
  closedAt: string | null;
  mergedAt: string | null;
  comments: CommentRecord[];
  reviews: ReviewRecord[];
}

export interface IssueRecord {
  number: number;
  id: number;
  title: string;
  body: string;
  author: string;
  state: 'open' | 'closed';
  stateReason: 'completed' | 'not_planned' | 'duplicate' | 'reopened' | null;
  /** Label names, as created (case kept). */
  labels: string[];
  createdAt: string;
  updatedAt: string;
  closedAt: string | null;
  comments: CommentRecord[];
}

export interface LabelRecord {
  id: number;
  name: string;
  color: string;
  description: string | null;
}

export interface RepoRecord {
  id: number;
  owner: string;
  name: string;
  fullName: string;
  gitDir: string;
  cloneUrl: string;
  defaultBranch: string;
  createdAt: string;
  /** Next number for a pull request or an issue: GitHub numbers both from one sequence. */
  nextNumber: number;
  pulls: Map<number, PullRecord>;
  issues: Map<number, IssueRecord>;
  /** Keyed by lower-cased name (GitHub label names are case-insensitive). */
  labels: Map<string, LabelRecord>;
  permissions: Map<string, DoublePermission>;
  /** Keyed by commit sha; oldest first. */
  statuses: Map<string, StatusRecord[]>;
  /**
   * Full SHAs known to name commits here: those the double wrote, and those git confirmed once.
   * A commit never leaves the repository, so a status on one needs no git process: the double
   * shares the cores of the server it measures, and GitHub's own work happens elsewhere.
   */
  commits: Set<string>;
}

export interface AppRecord extends DoubleApp {
  name: string;
  publicKey: KeyObject;
  createdAt: string;
}

export interface InstallationRecord {
  id: number;
  /** Login of the account the App is installed on. */
  account: string;
  /** Repository keys (repoKey) the installation may reach. */
  repos: Set<string>;
  createdAt: string;
  updatedAt: string;
  /** Set by an uninstall: its tokens are refused and its id is unknown to token requests. */
  deletedAt: string | null;
  /** Set while an owner of the account has the App suspended: GitHub refuses its tokens and token requests (403). */
  suspendedAt: string | null;
  /** Login of who suspended it; null when not suspended. */
  suspendedBy: string | null;
}

export interface InstallationTokenRecord {
  installationId: number;
  expiresAtMs: number;
}

/** Everything one double instance owns; passed to the parts instead of module state. */
export interface DoubleState {
  url: string;
  token: string;
  app: AppRecord | null;
  installations: Map<number, InstallationRecord>;
  /** Installation tokens by their text. */
  installationTokens: Map<string, InstallationTokenRecord>;
  botLogin: string;
  repos: Map<string, RepoRecord>;
  nextId: number;
  violations: string[];
  unimplemented: string[];
  /** Called after every answered REST request (waitFor wakes on them). */
  answered: Set<() => void>;
  /** Queued by failNext, first come first used. */
  failures: { operationId: string; failure: InjectedFailure; remaining: number }[];
  /** Queued by holdNext; `take` is called with the request held, `done` says whether it runs. */
  holds: { operationId: string; matches: (body: unknown) => boolean; take: () => void; done: Promise<boolean>; drop: () => void }[];
}
