// The Forge over Octokit: the only code that talks to GitHub. Retries transient failures and
// respects rate limits (plugin-retry, plugin-throttling); every error becomes a ForgeError.

import { createAppAuth } from '@octokit/auth-app';
import { retry } from '@octokit/plugin-retry';
import { throttling } from '@octokit/plugin-throttling';
import { Octokit } from '@octokit/rest';
import type { Logger } from 'pino';
import {
  AppNotInstalledError,
  ForgeError,
  MAX_LISTED_PULL_FILES,
  statusOf,
  type CommitStatus,
  type Forge,
  type InstallationSuspension,
  type IssueInfo,
  type PullFiles,
  type PullInfo,
  type RepoPermission,
  type RepoRef,
  type Review,
} from './forge.js';
import { contentLimit } from './content-limit.js';
import { installationClients } from './installation-clients.js';
import { WRITE_PACING, writePacers, type WritePacing } from './write-pacing.js';

// contentLimit last: its hook then runs first, so a write waits for the hour's window before
// plugin-throttling's buckets start timing it.
const ForgeOctokit = Octokit.plugin(retry, throttling, contentLimit);
type ForgeOctokitClient = InstanceType<typeof ForgeOctokit>;

export type GitHubAuth =
  | { kind: 'token'; token: string }
  | { kind: 'app'; appId: string; privateKey: string };

export interface OctokitForgeOptions {
  apiUrl: string;
  auth: GitHubAuth;
  log: Logger;
  userAgent?: string;
  /** Retries of a failed request (5xx, 429); default 3. Tests lower it. */
  retries?: number;
  /**
   * Client-side pacing of writes through plugin-throttling (WRITE_PACING). Default on; the
   * sandbox double needs none, so tests and the bench's ratios turn it off.
   */
  throttle?: boolean;
  /** How writes are paced when `throttle` is on; default WRITE_PACING. Tests shorten it. */
  writePacing?: WritePacing;
  /** GitHub App auth: an installation was found suspended (once per suspension): tell the operator. */
  onSuspended?: (repo: string, suspension: InstallationSuspension) => void;
}

/** The longest retry-after of a secondary rate limit that a request waits out (GitHub's default wait). */
const SECONDARY_LIMIT_MAX_WAIT_S = 60;

/** GitHub answers 422 to a longer commit status description. */
const MAX_STATUS_DESCRIPTION_CHARS = 140;

export function createOctokitForge(options: OctokitForgeOptions): Forge {
  // One pair of pacers for every client of this forge: app, installations and token alike.
  const opts: ForgeClientOptions = { ...options, pacers: writePacers(options.writePacing ?? WRITE_PACING, options.log) };
  const base = newClient(opts, opts.auth.kind === 'token' ? opts.auth.token : undefined);
  const auth = opts.auth;
  const installations =
    auth.kind === 'app'
      ? installationClients<ForgeOctokitClient>({
          appId: auth.appId,
          log: opts.log,
          ...(opts.onSuspended === undefined ? {} : { onSuspended: opts.onSuspended }),
          lookup: async (repo) => {
            const { data } = await appClient(opts, auth).rest.apps.getRepoInstallation({ owner: repo.owner, repo: repo.name });
            // GitHub still answers the App's JWT here for a suspended installation, and says so.
            const account = data.account !== null && 'login' in data.account ? data.account.login : null;
            // GitHub's description requires the field; a response without it is read as not
            // suspended, not as suspended (which would refuse every call): a real suspension
            // still shows in the 403s, which run() reads too.
            const suspendedAt = data.suspended_at ?? null;
            const suspension = suspendedAt === null ? null : { installationId: data.id, account, suspendedAt, suspendedBy: data.suspended_by?.login ?? null };
            return { id: data.id, suspension };
          },
          clientFor: (installationId) =>
            new ForgeOctokit({ ...clientOptions(opts), authStrategy: createAppAuth, auth: { appId: auth.appId, privateKey: auth.privateKey, installationId } }),
        })
      : null;

  /** Runs `fn` with the client for `repo`: the token's, or the repository's installation's. */
  function withClient<T>(repo: RepoRef, fn: (octo: ForgeOctokitClient) => Promise<T>): Promise<T> {
    return installations === null ? fn(base) : installations.run(repo, fn);
  }

  return {
    async getPull(repo, pull): Promise<PullInfo> {
      return call(`get pull ${repo.owner}/${repo.name}#${pull}`, () => withClient(repo, async (octo) => {
        const { data } = await octo.rest.pulls.get({ owner: repo.owner, repo: repo.name, pull_number: pull });
        return {
          number: data.number,
          state: data.state === 'open' ? 'open' : 'closed',
          merged: data.merged,
          draft: data.draft ?? false,
          title: data.title,
          author: data.user.login,
          headSha: data.head.sha,
          headRef: data.head.ref,
          baseRef: data.base.ref,
          baseSha: data.base.sha,
          headRepo: data.head.repo?.full_name ?? null,
          mergeable: data.mergeable,
          htmlUrl: data.html_url,
        };
      }));
    },
    async listPullFiles(repo, pull): Promise<PullFiles> {
      return call(`list files of ${repo.owner}/${repo.name}#${pull}`, () => withClient(repo, async (octo) => {
        const files = await octo.paginate(octo.rest.pulls.listFiles, {
          owner: repo.owner,
          repo: repo.name,
          pull_number: pull,
          per_page: 100,
        });
        const paths = new Set<string>();
        for (const f of files) {
          paths.add(f.filename);
          if (f.previous_filename !== undefined) paths.add(f.previous_filename);
        }
        // GitHub's pages end at the cap without saying so: a full list may be a cut one.
        return { paths: [...paths], complete: files.length < MAX_LISTED_PULL_FILES };
      }));
    },
    async listReviews(repo, pull): Promise<Review[]> {
      return call(`list reviews of ${repo.owner}/${repo.name}#${pull}`, () => withClient(repo, async (octo) => {
        const reviews = await octo.paginate(octo.rest.pulls.listReviews, {
          owner: repo.owner,
          repo: repo.name,
          pull_number: pull,
          per_page: 100,
        });
        return reviews.map((r) => ({ user: r.user?.login ?? '', state: r.state, commitId: r.commit_id ?? null }));
      }));
    },
    async createComment(repo, pull, body): Promise<{ id: number; url: string }> {
      return call(`comment on ${repo.owner}/${repo.name}#${pull}`, () => withClient(repo, async (octo) => {
        const { data } = await octo.rest.issues.createComment({
          owner: repo.owner,
          repo: repo.name,
          issue_number: pull,
          body,
        });
        return { id: data.id, url: data.html_url };
      }));
    },
    async setStatus(repo, sha, status: CommitStatus): Promise<void> {
      await call(`set status ${status.context} on ${repo.owner}/${repo.name}@${sha.slice(0, 7)}`, () => withClient(repo, async (octo) => {
        await octo.rest.repos.createCommitStatus({
          owner: repo.owner,
          repo: repo.name,
          sha,
          state: status.state,
          context: status.context,
          // GitHub refuses descriptions over 140 characters; cut between code points, as a
          // UTF-16 slice could keep half of a surrogate pair, which is no character.
          description: Array.from(status.description).slice(0, MAX_STATUS_DESCRIPTION_CHARS).join(''),
          ...(status.targetUrl === undefined ? {} : { target_url: status.targetUrl }),
        });
      }));
    },
    async latestStatus(repo, sha, context): Promise<CommitStatus | null> {
      return call(`get the status ${context} of ${repo.owner}/${repo.name}@${sha.slice(0, 7)}`, () => withClient(repo, async (octo) => {
        // The combined status holds the newest status of each context, up to 100 contexts a
        // page: a commit that other CI has given more has ours on a later page.
        let found;
        for (let page = 1; found === undefined; page++) {
          const { data } = await octo.rest.repos.getCombinedStatusForRef({ owner: repo.owner, repo: repo.name, ref: sha, per_page: 100, page });
          found = data.statuses.find((s) => s.context === context);
          if (data.statuses.length < 100 || page * 100 >= data.total_count) break;
        }
        if (found === undefined) return null;
        const state = found.state === 'pending' || found.state === 'success' || found.state === 'failure' || found.state === 'error' ? found.state : 'error';
        return { context: found.context, state, description: found.description ?? '', ...(found.target_url === null ? {} : { targetUrl: found.target_url }) };
      }));
    },
    async mergePull(repo, pull, merge): Promise<{ sha: string }> {
      return call(`merge ${repo.owner}/${repo.name}#${pull}`, () => withClient(repo, async (octo) => {
        const { data } = await octo.rest.pulls.merge({
          owner: repo.owner,
          repo: repo.name,
          pull_number: pull,
          sha: merge.sha,
          merge_method: merge.method,
        });
        return { sha: data.sha };
      }));
    },
    async getPermission(repo, login): Promise<RepoPermission> {
      return call(`permission of ${login} on ${repo.owner}/${repo.name}`, async () => {
        try {
          return await withClient(repo, async (octo) => {
            const { data } = await octo.rest.repos.getCollaboratorPermissionLevel({
              owner: repo.owner,
              repo: repo.name,
              username: login,
            });
            const role = (data.role_name ?? data.permission) as string;
            return (['admin', 'maintain', 'write', 'triage', 'read'].includes(role) ? role : data.permission) as RepoPermission;
          });
        } catch (err: unknown) {
          // A 404 is "no such user" only once the installation was found to be unchanged: one for
          // a repository that left the installation is AppNotInstalledError, not 'none'.
          if (statusOf(err) === 404 && !(err instanceof AppNotInstalledError)) return 'none';
          throw err;
        }
      });
    },
    async whoami(): Promise<string> {
      return call('read the authenticated account', async () => {
        if (opts.auth.kind === 'app') {
          const { data } = await appClient(opts, opts.auth).rest.apps.getAuthenticated();
          return `${data?.slug ?? 'app'}[bot]`;
        }
        const { data } = await base.rest.users.getAuthenticated();
        return data.login;
      });
    },
    async cloneToken(repo): Promise<string | null> {
      if (opts.auth.kind === 'token') return opts.auth.token;
      return call(`get an installation token for ${repo.owner}/${repo.name}`, () => withClient(repo, async (octo) => {
        const auth = (await octo.auth({ type: 'installation' })) as { token: string };
        // The token may come from the client's cache, revoked by a reinstall nobody announced,
        // and git's failures are not retried (a drift sweep asks for this before any API call).
        // One read with it, here where a 401 or 404 makes `run` look the installation up again.
        await octo.rest.repos.get({ owner: repo.owner, repo: repo.name });
        return auth.token;
      }));
    },
    async createIssue(repo, issue): Promise<IssueInfo> {
      return call(`open issue in ${repo.owner}/${repo.name}`, () => withClient(repo, async (octo) => {
        const { data } = await octo.rest.issues.create({
          owner: repo.owner,
          repo: repo.name,
          title: issue.title,
          body: issue.body,
          ...(issue.labels === undefined ? {} : { labels: issue.labels }),
        });
        return issueInfo(data);
      }));
    },
    async updateIssue(repo, number, update): Promise<IssueInfo> {
      return call(`update issue ${repo.owner}/${repo.name}#${number}`, () => withClient(repo, async (octo) => {
        const { data } = await octo.rest.issues.update({
          owner: repo.owner,
          repo: repo.name,
          issue_number: number,
          ...(update.title === undefined ? {} : { title: update.title }),
          ...(update.body === undefined ? {} : { body: update.body }),
          ...(update.state === undefined ? {} : { state: update.state }),
          ...(update.stateReason === undefined ? {} : { state_reason: update.stateReason }),
        });
        return issueInfo(data);
      }));
    },
    async listIssues(repo, filter): Promise<IssueInfo[]> {
      return call(`list issues of ${repo.owner}/${repo.name} labelled ${filter.label}`, () => withClient(repo, async (octo) => {
        const issues = await octo.paginate(octo.rest.issues.listForRepo, {
          owner: repo.owner,
          repo: repo.name,
          labels: filter.label,
          state: filter.state,
          per_page: 100,
        });
        // GitHub lists pull requests among issues; they carry `pull_request`.
        return issues.filter((i) => i.pull_request === undefined).map(issueInfo);
      }));
    },
    forgetInstallations(change): void {
      installations?.forget(change);
    },
    async ensureLabel(repo, label): Promise<void> {
      await call(`create label ${label.name} in ${repo.owner}/${repo.name}`, () => withClient(repo, async (octo) => {
        try {
          await octo.rest.issues.getLabel({ owner: repo.owner, repo: repo.name, name: label.name });
          return;
        } catch (err: unknown) {
          if (statusOf(err) !== 404) throw err;
        }
        try {
          await octo.rest.issues.createLabel({ owner: repo.owner, repo: repo.name, name: label.name, color: label.color, description: label.description });
        } catch (err: unknown) {
          // 422 "already_exists": another writer created it between the two calls.
          if (statusOf(err) !== 422) throw err;
        }
      }));
    },
  };
}

interface IssueData {
  number: number;
  title: string;
  state: string;
  body?: string | null;
  html_url: string;
  labels: (string | { name?: string })[];
}

function issueInfo(data: IssueData): IssueInfo {
  return {
    number: data.number,
    title: data.title,
    state: data.state === 'closed' ? 'closed' : 'open',
    body: data.body ?? '',
    labels: data.labels.map((l) => (typeof l === 'string' ? l : (l.name ?? ''))).filter((name) => name !== ''),
    htmlUrl: data.html_url,
  };
}

type ForgeClientOptions = OctokitForgeOptions & { pacers: ReturnType<typeof writePacers> };

function clientOptions(opts: ForgeClientOptions): ConstructorParameters<typeof ForgeOctokit>[0] {
  const log = opts.log;
  return {
    baseUrl: opts.apiUrl,
    userAgent: opts.userAgent ?? 'tideline',
    request: { retries: opts.retries ?? 3 },
    ...(opts.throttle === false ? {} : { contentWindow: opts.pacers.content }),
    log: { debug: () => {}, info: () => {}, warn: (m: string) => log.warn(m), error: (m: string) => log.error(m) },
    throttle: {
      enabled: opts.throttle ?? true,
      write: opts.pacers.write,
      notifications: opts.pacers.notifications,
      onRateLimit: (retryAfter: number, options: { method: string; url: string }, _o: unknown, retryCount: number): boolean => {
        log.warn({ retryAfter, method: options.method, url: options.url }, 'GitHub rate limit hit');
        return retryCount < 2;
      },
      // GitHub asks for a wait of its retry-after (a minute without one) before trying again:
      // once, so a plan's reply is late rather than lost, and never for longer than a minute.
      onSecondaryRateLimit: (retryAfter: number, options: { method: string; url: string }, _o: unknown, retryCount: number): boolean => {
        const retry = retryCount < 1 && retryAfter <= SECONDARY_LIMIT_MAX_WAIT_S;
        log.warn({ retryAfter, method: options.method, url: options.url, retry }, 'GitHub secondary rate limit hit');
        return retry;
      },
    },
  };
}

function newClient(opts: ForgeClientOptions, token: string | undefined): ForgeOctokitClient {
  return new ForgeOctokit({ ...clientOptions(opts), ...(token === undefined ? {} : { auth: token }) });
}

function appClient(opts: ForgeClientOptions, auth: { appId: string; privateKey: string }): ForgeOctokitClient {
  return new ForgeOctokit({
    ...clientOptions(opts),
    authStrategy: createAppAuth,
    auth: { appId: auth.appId, privateKey: auth.privateKey },
  });
}

async function call<T>(what: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err: unknown) {
    if (err instanceof ForgeError) throw err;
    const status = statusOf(err);
    const detail = err instanceof Error ? err.message : String(err);
    throw new ForgeError(`GitHub: could not ${what}: ${detail}`, status, { cause: err });
  }
}
