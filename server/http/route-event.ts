// Turns one verified webhook into the jobs it asks for. Pure apart from its inputs: no I/O,
// so the intake can commit the delivery and its jobs in one transaction and answer at once.

import { isFork, type InstallationChange } from '../github/forge.js';
import { helpText } from '../commands/help.js';
import { botMentions } from '../commands/mentions.js';
import { parseComment } from '../commands/parse.js';
import { renderInvalidCommand, type RenderContext } from '../comments/index.js';
import type { NewJob } from '../jobs/queue.js';
import type { JobPayload, JobType, RepoInfo } from '../jobs/types.js';

export interface RouteContext {
  prefix: string;
  botLogin: string;
  version: string;
  /** The programs that plan and apply, as probed at start-up; named in the `version` reply. */
  tools?: { terraform: string; kubectl: string; git: string };
  render: RenderContext;
  isAllowed: (repoFullName: string) => boolean;
  /** TIDELINE_ALLOW_FORK_PRS: autoplan pull requests whose head is in a fork. */
  allowForkPulls: boolean;
}

export type Routed =
  | { kind: 'jobs'; jobs: NewJob[]; note: string; repo: RepoInfo }
  /** The App's installations changed: cached installation clients must go; no job runs. */
  | { kind: 'installation'; change: InstallationChange; note: string }
  | { kind: 'ignored'; reason: string };

interface RepositoryPayload {
  name?: unknown;
  full_name?: unknown;
  owner?: { login?: unknown };
  clone_url?: unknown;
  default_branch?: unknown;
}

export function routeEvent(ctx: RouteContext, event: string, deliveryId: string, payload: unknown): Routed {
  if (event === 'ping') return { kind: 'ignored', reason: 'ping' };
  if (typeof payload !== 'object' || payload === null) return { kind: 'ignored', reason: 'payload is not an object' };
  const body = payload as Record<string, unknown>;
  // About the App: nothing runs for them. `installation` is about the whole installation, so it is
  // not held to the allowlist; `installation_repositories` is, by the repositories it names.
  if (event === 'installation' || event === 'installation_repositories') return routeInstallation(ctx, event, body);
  if (event !== 'issue_comment' && event !== 'pull_request') return { kind: 'ignored', reason: `event ${event} is not handled` };
  const repo = repoInfo(body['repository'] as RepositoryPayload | null | undefined);
  if (repo === null) return { kind: 'ignored', reason: 'payload has no usable repository' };
  if (!ctx.isAllowed(repo.fullName)) return { kind: 'ignored', reason: `repository ${repo.fullName} is not in TIDELINE_REPO_ALLOWLIST` };
  return event === 'issue_comment' ? routeComment(ctx, repo, deliveryId, body) : routePull(ctx, repo, deliveryId, body);
}

function routeComment(ctx: RouteContext, repo: RepoInfo, deliveryId: string, body: Record<string, unknown>): Routed {
  if (body['action'] !== 'created') return { kind: 'ignored', reason: `comment ${String(body['action'])}` };
  const issue = body['issue'] as { number?: unknown; pull_request?: unknown } | null | undefined;
  const comment = body['comment'] as { body?: unknown; user?: { login?: unknown }; html_url?: unknown } | undefined;
  if (issue === undefined || issue === null || !isPullNumber(issue.number)) return { kind: 'ignored', reason: 'comment without an issue number' };
  if (issue.pull_request === undefined || issue.pull_request === null) return { kind: 'ignored', reason: 'comment on an issue, not a pull request' };
  const author = typeof comment?.user?.login === 'string' ? comment.user.login : '';
  if (author.toLowerCase() === ctx.botLogin.toLowerCase()) return { kind: 'ignored', reason: 'comment by the server itself' };
  const text = typeof comment?.body === 'string' ? comment.body : '';
  const parsed = parseComment(text, ctx.prefix, { mentions: botMentions(ctx.botLogin) });
  const pull = issue.number;
  const reply = (note: string, replyBody: string): Routed => ({
    kind: 'jobs',
    repo,
    note,
    jobs: [pullJob('reply', repo, pull, { repo, pull, body: replyBody })],
  });
  switch (parsed.kind) {
    case 'ignore':
      return { kind: 'ignored', reason: 'comment is not a command' };
    case 'invalid':
      return reply('invalid command', renderInvalidCommand(ctx.render, parsed.message, helpText(ctx.prefix)));
    case 'command':
      break;
  }
  const command = parsed.command;
  if (command.name === 'help') return reply('help', `${helpText(ctx.prefix)}\n<!-- tideline:help -->\n`);
  if (command.name === 'version') return reply('version', `${versionText(ctx)}\n<!-- tideline:version -->\n`);
  return {
    kind: 'jobs',
    repo,
    note: `command ${command.name}`,
    jobs: [
      pullJob('command', repo, pull, {
        repo,
        pull,
        command,
        actor: author,
        commentUrl: typeof comment?.html_url === 'string' ? comment.html_url : '',
        deliveryId,
      }),
    ],
  };
}

const AUTOPLAN_ACTIONS = new Set(['opened', 'synchronize', 'reopened', 'ready_for_review']);

function routePull(ctx: RouteContext, repo: RepoInfo, deliveryId: string, body: Record<string, unknown>): Routed {
  const action = String(body['action']);
  const pr = body['pull_request'] as { number?: unknown; merged?: unknown; draft?: unknown; html_url?: unknown; head?: { repo?: { full_name?: unknown } | null } } | undefined;
  const pull = isPullNumber(body['number']) ? body['number'] : pr?.number;
  if (!isPullNumber(pull)) return { kind: 'ignored', reason: 'pull_request without a number' };
  const sender = body['sender'] as { login?: unknown } | undefined;
  const actor = typeof sender?.login === 'string' ? sender.login : '';
  if (AUTOPLAN_ACTIONS.has(action)) {
    // Like Atlantis without --allow-draft-prs: a draft is planned once it is ready for review.
    if (pr?.draft === true) return { kind: 'ignored', reason: `pull_request ${action} on a draft: autoplan waits for ready_for_review` };
    // Like Atlantis without --allow-fork-prs: a fork's code is not run unless the operator says so.
    const headRepo = typeof pr?.head?.repo?.full_name === 'string' ? pr.head.repo.full_name : null;
    if (!ctx.allowForkPulls && isFork(repo.fullName, headRepo)) {
      return { kind: 'ignored', reason: `pull_request ${action} from a fork (${headRepo ?? 'a deleted repository'}): set TIDELINE_ALLOW_FORK_PRS=true to plan pull requests from forks` };
    }
    return {
      kind: 'jobs',
      repo,
      note: `autoplan on ${action}`,
      jobs: [
        pullJob('command', repo, pull, {
          repo,
          pull,
          command: { name: 'plan', selector: {}, extraArgs: [] },
          actor,
          commentUrl: typeof pr?.html_url === 'string' ? pr.html_url : '',
          deliveryId,
          autoplan: true,
        }),
      ],
    };
  }
  if (action !== 'closed') return { kind: 'ignored', reason: `pull_request ${action} is not handled` };
  return {
    kind: 'jobs',
    repo,
    note: 'pull request closed',
    jobs: [pullJob('release', repo, pull, { repo, pull, merged: pr?.merged === true, actor, deliveryId })],
  };
}

interface InstallationPayload {
  action?: unknown;
  installation?: { id?: unknown; account?: { login?: unknown } | null };
  repositories?: unknown;
  repositories_added?: unknown;
  repositories_removed?: unknown;
}

/**
 * Every action of both events is taken as a change: a deleted, suspended or re-permissioned
 * installation, a new one (a reinstall has a new id, so the account's old entries go), and
 * repositories added or removed.
 */
function routeInstallation(ctx: RouteContext, event: 'installation' | 'installation_repositories', body: InstallationPayload): Routed {
  const id = body.installation?.id;
  if (typeof id !== 'number') return { kind: 'ignored', reason: `${event} without an installation id` };
  const login = body.installation?.account?.login;
  const names = (list: unknown): string[] =>
    Array.isArray(list) ? list.flatMap((r: { full_name?: unknown } | null) => (typeof r?.full_name === 'string' ? [r.full_name] : [])) : [];
  const action = String(body.action);
  if (event === 'installation') {
    const change = { installationId: id, account: typeof login === 'string' ? login : null, repos: names(body.repositories) };
    return { kind: 'installation', change, note: `installation ${id} ${action}` };
  }
  // Only repositories the server serves have a cached installation; the others are no business of it.
  const named = [...names(body.repositories_added), ...names(body.repositories_removed)];
  const repos = named.filter((repo) => ctx.isAllowed(repo));
  if (repos.length === 0) {
    const why = named.length === 0 ? 'it names no repository' : `none of the ${named.length} repositories it names is in TIDELINE_REPO_ALLOWLIST`;
    return { kind: 'ignored', reason: `${event} ${action} on installation ${id}: ${why}` };
  }
  return { kind: 'installation', change: { installationId: null, account: null, repos }, note: `repositories ${action} on installation ${id}` };
}

/** Like Atlantis's `version`, which prints `terraform version`: which programs run the plans. */
function versionText(ctx: RouteContext): string {
  if (ctx.tools === undefined) return `Tideline ${ctx.version}`;
  const { terraform, kubectl, git } = ctx.tools;
  return [`Tideline ${ctx.version}`, '', `- terraform ${terraform}`, `- kubectl ${kubectl}`, `- git ${git}`].join('\n');
}

/**
 * GitHub numbers issues and pull requests from 1. Anything else (a signed but hand-made or
 * mangled delivery) is ignored here: the audit log refuses such a number, and the refusal
 * would surface as a 500 from inside the intake's transaction.
 */
export function isPullNumber(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value > 0;
}

function repoInfo(r: RepositoryPayload | null | undefined): RepoInfo | null {
  // `typeof null` is 'object': a `"repository": null` must not reach the property reads below.
  if (r === undefined || r === null || typeof r !== 'object' || typeof r.full_name !== 'string' || typeof r.name !== 'string') return null;
  const owner = typeof r.owner?.login === 'string' ? r.owner.login : r.full_name.split('/')[0];
  if (owner === undefined || typeof r.clone_url !== 'string') return null;
  return {
    owner,
    name: r.name,
    fullName: r.full_name,
    cloneUrl: r.clone_url,
    defaultBranch: typeof r.default_branch === 'string' ? r.default_branch : 'main',
  };
}

/** One PR's jobs run one at a time: they share its working trees. */
export function pullKey(repo: RepoInfo, pull: number): string {
  return `${repo.fullName}#${pull}`;
}

/** A job of one pull request: jobs of the same pull run one at a time (they share its trees). */
function pullJob<T extends JobType>(type: T, repo: RepoInfo, pull: number, payload: JobPayload<T>): NewJob<T> {
  return { type, repo: repo.fullName, pull, serialKey: pullKey(repo, pull), payload };
}
