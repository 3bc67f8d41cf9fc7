// Composition of the GitHub double: loads the OpenAPI description and the webhook examples once
// for this instance, starts the REST server, and exposes the test-facing API.

import { randomBytes } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import {
  createAppRecord,
  expireInstallationTokens,
  installApp,
  liveInstallationOf,
  reinstallApp,
  removeFromInstallation,
  requireApp,
  requireInstallation,
  suspendInstallation,
  unsuspendInstallation,
  uninstallApp,
} from './app-installations.js';
import { createRequestChecker } from './openapi-check.js';
import { loadOpenApiDocument } from './openapi-document.js';
import { closePull, createRepo, mergePull, openPull, pushToPull } from './repo-actions.js';
import { pullDiff, restHandlers, type HandlerContext } from './rest-handlers.js';
import { issueHandlers } from './rest-issues.js';
import { appHandlers } from './rest-app.js';
import { mergeHandlers } from './rest-merge.js';
import { commentHtmlUrl } from './rest-resources.js';
import { startRestServer } from './rest-server.js';
import { createState, nextId, nowIso, requirePull, requireRepo } from './state.js';
import type {
  CommentRecord,
  DeliverOptions,
  DeliveryResult,
  DoubleComment,
  GitHubDouble,
  GitHubDoubleOptions,
  PullEventAction,
  RepoRecord,
} from './types.js';
import { deliverWebhook } from './webhook-delivery.js';
import { installationPayload, installationRepos, installationRepositoriesPayload, reposNamed } from './webhook-installation.js';
import { issueCommentPayload, loadWebhookExamples, pullRequestPayload, type PayloadContext } from './webhook-payloads.js';

/** The double plus what it measured about itself. */
export interface StartedGitHubDouble extends GitHubDouble {
  /** Milliseconds this instance spent reading and indexing the OpenAPI description. */
  readonly openApiLoadMs: number;
}

export async function startGitHubDouble(opts: GitHubDoubleOptions): Promise<StartedGitHubDouble> {
  const token = opts.token ?? `ghp_${randomBytes(18).toString('hex')}`;
  const app = opts.app === undefined ? null : createAppRecord(opts.app);
  const state = createState(token, opts.botLogin ?? (app === null ? 'tideline-bot' : `${app.slug}[bot]`), app);
  await mkdir(opts.rootDir, { recursive: true });
  const [api, examples] = await Promise.all([loadOpenApiDocument(), loadWebhookExamples()]);
  const ctx: HandlerContext = { state, api, diffs: new Map() };
  const server = await startRestServer(ctx, createRequestChecker(api), new Map([...restHandlers(), ...issueHandlers(), ...mergeHandlers(), ...appHandlers()]));
  state.url = server.url;
  const payloads: PayloadContext = { url: server.url, examples, installationOf: (repo) => liveInstallationOf(state, repo.fullName)?.id ?? null };
  let webhookTarget: string | null = null;

  /** GitHub works out a pull request's diff when it is pushed, not when the API is asked. */
  async function diffNow(fullName: string, number: number): Promise<void> {
    const found = requirePull(state, fullName, number);
    await pullDiff(ctx, found.repo, found.pull);
  }

  function deliver(event: string, payload: unknown, options?: DeliverOptions): Promise<DeliveryResult> {
    return deliverWebhook(webhookTarget, opts.webhookSecret, event, payload, options);
  }


  return {
    url: server.url,
    token,
    botLogin: state.botLogin,
    violations: state.violations,
    unimplemented: state.unimplemented,
    openApiLoadMs: api.loadMs,

    async createRepo(fullName, files) {
      const { repo, headSha } = await createRepo(state, opts.rootDir, fullName, files);
      return { cloneUrl: repo.cloneUrl, defaultBranch: repo.defaultBranch, headSha };
    },
    async openPull(fullName, options) {
      const pull = await openPull(state, fullName, options);
      await diffNow(fullName, pull.number);
      return { number: pull.number, headSha: pull.headSha };
    },
    async pushToPull(fullName, pull, files) {
      const headSha = await pushToPull(state, fullName, pull, files);
      await diffNow(fullName, pull);
      return headSha;
    },
    mergePull: (fullName, pull) => mergePull(state, fullName, pull, requirePull(state, fullName, pull).pull.author),
    async closePull(fullName, pull) {
      closePull(state, fullName, pull);
    },
    headSha: (fullName, pull) => requirePull(state, fullName, pull).pull.headSha,
    pullState(fullName, pull) {
      const found = requirePull(state, fullName, pull).pull;
      return { state: found.state, merged: found.merged, mergeCommitSha: found.mergeCommitSha };
    },
    setWebhookTarget(url) {
      webhookTarget = url;
    },

    sendComment(fullName, pull, body, options) {
      const found = requirePull(state, fullName, pull);
      const comment = buildComment(nextId(state), body, options?.user ?? 'octocat');
      found.pull.comments.push(comment);
      return deliver('issue_comment', issueCommentPayload(payloads, found.repo, found.pull, comment));
    },
    sendPullRequestEvent(fullName, pull, action: PullEventAction) {
      const found = requirePull(state, fullName, pull);
      // The action describes a change of state; make the state agree before describing it.
      if (action === 'reopened' && found.pull.state === 'closed' && !found.pull.merged) {
        found.pull.state = 'open';
        found.pull.closedAt = null;
        found.pull.updatedAt = nowIso();
      }
      if (action === 'ready_for_review') found.pull.draft = false;
      const payload = pullRequestPayload(payloads, found.repo, found.pull, action, found.pull.author);
      return deliver('pull_request', payload);
    },
    deliver,
    commentPayload(fullName, pull, body, options) {
      const found = requirePull(state, fullName, pull);
      const comment = buildComment(state.nextId + 1, body, options?.user ?? 'octocat');
      return issueCommentPayload(payloads, found.repo, found.pull, comment);
    },

    comments(fullName, number) {
      const repo = requireRepo(state, fullName);
      const issue = repo.issues.get(number);
      if (issue !== undefined) return doubleComments(state.url, repo, number, issue.comments, 'issue');
      return doubleComments(state.url, repo, number, requirePull(state, fullName, number).pull.comments, 'pull');
    },
    issues(fullName) {
      const repo = requireRepo(state, fullName);
      return [...repo.issues.values()].map((issue) => ({
        number: issue.number,
        title: issue.title,
        body: issue.body,
        state: issue.state,
        stateReason: issue.stateReason,
        labels: [...issue.labels],
        author: issue.author,
        comments: doubleComments(state.url, repo, issue.number, issue.comments, 'issue'),
      }));
    },
    labels(fullName) {
      return [...requireRepo(state, fullName).labels.values()].map((label) => ({ name: label.name, color: label.color, description: label.description }));
    },
    statuses(fullName, sha) {
      const list = requireRepo(state, fullName).statuses.get(sha) ?? [];
      return [...list].reverse().map((status) => ({
        context: status.context,
        state: status.state,
        description: status.description,
        targetUrl: status.targetUrl,
      }));
    },
    setReview(fullName, pull, user, reviewState) {
      const { pull: record } = requirePull(state, fullName, pull);
      record.reviews.push({ id: nextId(state), user, state: reviewState, commitId: record.headSha, submittedAt: nowIso() });
    },
    setPermission(fullName, user, permission) {
      requireRepo(state, fullName).permissions.set(user, permission);
    },
    setMergeable(fullName, pull, mergeable) {
      requirePull(state, fullName, pull).pull.mergeable = mergeable;
    },
    app: app === null ? null : { id: app.id, slug: app.slug, clientId: app.clientId, privateKey: app.privateKey },
    installApp: (fullName) => installApp(state, fullName),
    removeFromInstallation: (fullName) => removeFromInstallation(state, fullName),
    uninstallApp: (fullName) => uninstallApp(state, fullName),
    reinstallApp: (fullName) => reinstallApp(state, fullName),
    installationOf: (fullName) => liveInstallationOf(state, fullName)?.id ?? null,
    expireInstallationTokens: (installationId) => expireInstallationTokens(state, requireInstallation(state, installationId).id),
    suspendInstallation: (installationId, options) => suspendInstallation(state, installationId, options?.by),
    unsuspendInstallation: (installationId) => unsuspendInstallation(state, installationId),
    sendInstallationEvent(installationId, action, options) {
      const installation = requireInstallation(state, installationId);
      const repos = installationRepos(state.repos, installation);
      return deliver('installation', installationPayload(payloads, requireApp(state), installation, repos, action), options);
    },
    sendInstallationRepositoriesEvent(installationId, action, repos) {
      const installation = requireInstallation(state, installationId);
      const records = reposNamed(state.repos, repos);
      return deliver('installation_repositories', installationRepositoriesPayload(payloads, requireApp(state), installation, records, action));
    },
    failNext(operationId, failure) {
      state.failures.push({ operationId, failure, remaining: failure.times ?? 1 });
    },
    holdNext(operationId, matches = () => true) {
      let take = (): void => {};
      const arrived = new Promise<void>((resolve) => (take = resolve));
      let finish = (_run: boolean): void => {};
      const done = new Promise<boolean>((resolve) => (finish = resolve));
      state.holds.push({ operationId, matches, take, done, drop: () => finish(false) });
      return { arrived, release: () => finish(true), drop: () => finish(false) };
    },
    waitFor: (what, predicate, timeoutMs) => waitFor(what, predicate, timeoutMs, state.answered),
    close: async () => {
      for (const hold of state.holds.splice(0)) hold.drop();
      await server.close();
    },
  };
}

function doubleComments(url: string, repo: RepoRecord, number: number, comments: readonly CommentRecord[], kind: 'pull' | 'issue'): DoubleComment[] {
  return comments.map((comment) => ({
    id: comment.id,
    body: comment.body,
    user: comment.user,
    createdAt: comment.createdAt,
    htmlUrl: commentHtmlUrl(url, repo, number, comment.id, kind),
  }));
}

function buildComment(id: number, body: string, user: string): CommentRecord {
  const now = nowIso();
  return { id, body, user, createdAt: now, updatedAt: now };
}

export async function waitFor<T>(
  what: string,
  predicate: () => T | undefined | null | false,
  timeoutMs = 30_000,
  answered?: Set<() => void>,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = predicate();
    if (value !== undefined && value !== null && value !== false && Boolean(value)) return value;
    if (Date.now() >= deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    // Woken by the next answered request (the usual way state changes), or after 25 ms.
    await new Promise<void>((resolve) => {
      const wake = (): void => {
        clearTimeout(timer);
        answered?.delete(wake);
        resolve();
      };
      const timer = setTimeout(wake, 25);
      answered?.add(wake);
    });
  }
}
