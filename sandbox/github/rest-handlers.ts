// The operations the double implements, keyed by GitHub operationId. Requests reach these only
// after the OpenAPI check has passed; anything not in the table is answered 501 by the server.

import { changedFiles, git, resolveCommit } from './git-store.js';
import { isObject, type Json, type JsonObject } from './openapi-document.js';
import {
  combinedState,
  commentObject,
  diffEntryObject,
  exampleObject,
  permissionOf,
  pullObject,
  rehost,
  repoObject,
  reviewObject,
  statusObject,
  userObject,
  type PullDiff,
  type RestContext,
} from './rest-resources.js';
import { checkCommentLength, refuseStatus } from './rest-limits.js';
import { findRepo, nextId, nowIso } from './state.js';
import type { CommentRecord, IssueRecord, PullRecord, RepoRecord, StatusRecord } from './types.js';

export interface HandlerContext extends RestContext {
  /** Diffs by `base..head`, computed once per pair. */
  diffs: Map<string, Promise<PullDiff>>;
}

export interface HandlerRequest {
  params: Record<string, string>;
  query: URLSearchParams;
  body: Json | undefined;
  /** Absolute URL of the request on the double, for Link headers. */
  requestUrl: string;
}

export interface HandlerResponse {
  status: number;
  body: Json;
  headers?: Record<string, string>;
}

export type Handler = (ctx: HandlerContext, req: HandlerRequest) => Promise<HandlerResponse>;

/** GitHub's list of a pull request's files stops at its first 3,000 (pulls/list-files). */
export const MAX_LISTED_PULL_FILES = 3_000;

export function restHandlers(): ReadonlyMap<string, Handler> {
  return new Map<string, Handler>([
    ['users/get-authenticated', getAuthenticated],
    ['repos/get', getRepo],
    ['pulls/get', getPull],
    ['pulls/list-files', listPullFiles],
    ['pulls/list-reviews', listReviews],
    ['issues/create-comment', createComment],
    ['issues/update-comment', updateComment],
    ['issues/get-comment', getComment],
    ['issues/list-comments', listComments],
    ['repos/create-commit-status', createStatus],
    ['repos/list-commit-statuses-for-ref', listStatuses],
    ['repos/get-combined-status-for-ref', combinedStatus],
    ['repos/get-collaborator-permission-level', getPermission],
  ]);
}

async function getAuthenticated(ctx: HandlerContext): Promise<HandlerResponse> {
  const base = exampleObject(ctx, 'users/get-authenticated');
  rehost(base, ctx.state.url, null);
  return ok({ ...base, ...userObject(ctx, ctx.state.botLogin), name: ctx.state.botLogin, email: null, company: null });
}

async function getRepo(ctx: HandlerContext, req: HandlerRequest): Promise<HandlerResponse> {
  const repo = repoOf(ctx, req);
  if (repo === undefined) return notFound();
  return ok(repoObject(ctx, repo, exampleObject(ctx, 'repos/get')));
}

async function getPull(ctx: HandlerContext, req: HandlerRequest): Promise<HandlerResponse> {
  const found = pullOf(ctx, req, 'pull_number');
  if (found === undefined) return notFound();
  const diff = await pullDiff(ctx, found.repo, found.pull);
  return ok(pullObject(ctx, found.repo, found.pull, diff));
}

async function listPullFiles(ctx: HandlerContext, req: HandlerRequest): Promise<HandlerResponse> {
  const found = pullOf(ctx, req, 'pull_number');
  if (found === undefined) return notFound();
  const diff = await pullDiff(ctx, found.repo, found.pull);
  // Past the cap GitHub's pages simply end; `changed_files` of pulls/get still counts them all.
  const listed = diff.files.slice(0, MAX_LISTED_PULL_FILES);
  const files = listed.map((file) => diffEntryObject(ctx, found.repo, found.pull.headSha, file));
  return paginated(files, req);
}

async function listReviews(ctx: HandlerContext, req: HandlerRequest): Promise<HandlerResponse> {
  const found = pullOf(ctx, req, 'pull_number');
  if (found === undefined) return notFound();
  const { repo, pull } = found;
  return paginated(pull.reviews.map((review) => reviewObject(ctx, repo, pull.number, review)), req);
}

async function createComment(ctx: HandlerContext, req: HandlerRequest): Promise<HandlerResponse> {
  const found = threadOf(ctx, req);
  if (found === undefined) return notFound();
  const body = bodyText(req);
  const tooLong = checkCommentLength(ctx, req, body);
  if (tooLong !== null) return tooLong;
  const now = nowIso();
  const comment = { id: nextId(ctx.state), body, user: ctx.state.botLogin, createdAt: now, updatedAt: now };
  found.comments.push(comment);
  if (found.issue !== undefined) found.issue.updatedAt = now;
  const object = commentObject(ctx, found.repo, found.number, comment, found.kind);
  return { status: 201, body: object, headers: { location: String(object['url']) } };
}

async function updateComment(ctx: HandlerContext, req: HandlerRequest): Promise<HandlerResponse> {
  const found = commentOf(ctx, req);
  if (found === undefined) return notFound();
  const body = bodyText(req);
  const tooLong = checkCommentLength(ctx, req, body);
  if (tooLong !== null) return tooLong;
  found.comment.body = body;
  found.comment.updatedAt = nowIso();
  return ok(commentObject(ctx, found.repo, found.number, found.comment, found.kind));
}

async function getComment(ctx: HandlerContext, req: HandlerRequest): Promise<HandlerResponse> {
  const found = commentOf(ctx, req);
  if (found === undefined) return notFound();
  return ok(commentObject(ctx, found.repo, found.number, found.comment, found.kind));
}

async function listComments(ctx: HandlerContext, req: HandlerRequest): Promise<HandlerResponse> {
  const found = threadOf(ctx, req);
  if (found === undefined) return notFound();
  const since = req.query.get('since');
  const sinceMs = since === null ? Number.NEGATIVE_INFINITY : Date.parse(since);
  const comments = found.comments
    .filter((comment) => Date.parse(comment.updatedAt) >= sinceMs)
    .map((comment) => commentObject(ctx, found.repo, found.number, comment, found.kind));
  return paginated(comments, req);
}

async function createStatus(ctx: HandlerContext, req: HandlerRequest): Promise<HandlerResponse> {
  const repo = repoOf(ctx, req);
  if (repo === undefined) return notFound();
  const requested = req.params['sha'] ?? '';
  const sha = /^[0-9a-f]{40}$/i.test(requested) ? await knownCommit(repo, requested) : null;
  if (sha === null) return { status: 422, body: { message: `No commit found for SHA: ${requested}` } };
  const input = asBody(req);
  const refused = refuseStatus(ctx, req, repo, sha, input);
  if (refused !== null) return refused;
  const status: StatusRecord = {
    id: nextId(ctx.state),
    sha,
    context: typeof input['context'] === 'string' ? input['context'] : 'default',
    state: String(input['state']),
    description: typeof input['description'] === 'string' ? input['description'] : null,
    targetUrl: typeof input['target_url'] === 'string' ? input['target_url'] : null,
    creator: ctx.state.botLogin,
    createdAt: nowIso(),
  };
  const list = repo.statuses.get(sha) ?? [];
  list.push(status);
  repo.statuses.set(sha, list);
  const object = statusObject(ctx, repo, status);
  return { status: 201, body: object, headers: { location: String(object['url']) } };
}

/** The commit a full SHA names, or null; git is asked once per commit the double did not write. */
async function knownCommit(repo: RepoRecord, fullSha: string): Promise<string | null> {
  const sha = fullSha.toLowerCase();
  if (repo.commits.has(sha)) return sha;
  const resolved = await resolveCommit(repo.gitDir, sha);
  if (resolved !== null) repo.commits.add(resolved);
  return resolved;
}

async function listStatuses(ctx: HandlerContext, req: HandlerRequest): Promise<HandlerResponse> {
  const found = await statusesForRef(ctx, req);
  if (found === undefined) return notFound();
  const newestFirst = [...found.list].reverse();
  return paginated(newestFirst.map((status) => statusObject(ctx, found.repo, status)), req);
}

async function combinedStatus(ctx: HandlerContext, req: HandlerRequest): Promise<HandlerResponse> {
  const found = await statusesForRef(ctx, req);
  if (found === undefined) return notFound();
  const { repo, sha } = found;
  const latest = new Map<string, StatusRecord>();
  for (const status of found.list) latest.set(status.context, status);
  const statuses = [...latest.values()];
  const page = paginated(
    statuses.map((status) => {
      const object = statusObject(ctx, repo, status);
      delete object['creator'];
      return object;
    }),
    req,
  );
  const base = exampleObject(ctx, 'repos/get-combined-status-for-ref');
  rehost(base, ctx.state.url, repo.fullName);
  const repository = isObject(base['repository']) ? base['repository'] : {};
  Object.assign(repository, {
    id: repo.id,
    name: repo.name,
    full_name: repo.fullName,
    owner: userObject(ctx, repo.owner),
    private: true,
    html_url: `${ctx.state.url}/${repo.fullName}`,
    url: `${ctx.state.url}/repos/${repo.fullName}`,
  });
  const body = Object.assign(base, {
    state: combinedState(statuses),
    statuses: page.body,
    sha,
    total_count: statuses.length,
    repository,
    commit_url: `${ctx.state.url}/repos/${repo.fullName}/commits/${sha}`,
    url: `${ctx.state.url}/repos/${repo.fullName}/commits/${sha}/status`,
  });
  return { status: 200, body, headers: page.headers ?? {} };
}

async function getPermission(ctx: HandlerContext, req: HandlerRequest): Promise<HandlerResponse> {
  const repo = repoOf(ctx, req);
  if (repo === undefined) return notFound();
  const login = req.params['username'] ?? '';
  const permission = permissionOf(repo, login);
  const user = { ...userObject(ctx, login), permissions: permissionFlags(permission), role_name: permission };
  return ok({ permission, role_name: permission, user });
}

// ---- helpers ----

/** Diff of the PR against the base it was opened from (kept for merged PRs, as GitHub does). */
export function pullDiff(ctx: HandlerContext, repo: RepoRecord, pull: PullRecord): Promise<PullDiff> {
  const key = `${repo.gitDir}:${pull.baseSha}..${pull.headSha}`;
  const cached = ctx.diffs.get(key);
  if (cached !== undefined) return cached;
  const computed = computeDiff(repo.gitDir, pull.baseSha, pull.headSha);
  ctx.diffs.set(key, computed);
  computed.catch(() => ctx.diffs.delete(key));
  return computed;
}

async function computeDiff(gitDir: string, base: string, head: string): Promise<PullDiff> {
  const files = await changedFiles(gitDir, base, head);
  const count = await git(['rev-list', '--count', head, `^${base}`], { gitDir });
  return { files, commits: Number(count.stdout.trim()) };
}

async function statusesForRef(
  ctx: HandlerContext,
  req: HandlerRequest,
): Promise<{ repo: RepoRecord; sha: string; list: StatusRecord[] } | undefined> {
  const repo = repoOf(ctx, req);
  if (repo === undefined) return undefined;
  const sha = await resolveCommit(repo.gitDir, req.params['ref'] ?? '');
  if (sha === null) return undefined;
  return { repo, sha, list: repo.statuses.get(sha) ?? [] };
}

export function paginated(items: JsonObject[], req: HandlerRequest): HandlerResponse {
  const perPage = clamp(Number(req.query.get('per_page') ?? '30') || 30, 1, 100);
  const last = Math.max(1, Math.ceil(items.length / perPage));
  const page = Math.max(1, Number(req.query.get('page') ?? '1') || 1);
  const slice = items.slice((page - 1) * perPage, page * perPage);
  const link = (target: number, rel: string): string => {
    const url = new URL(req.requestUrl);
    url.searchParams.set('page', String(target));
    return `<${url.toString()}>; rel="${rel}"`;
  };
  const links: string[] = [];
  if (page > 1) links.push(link(Math.min(page - 1, last), 'prev'));
  if (page < last) links.push(link(page + 1, 'next'), link(last, 'last'));
  if (page > 1) links.push(link(1, 'first'));
  return { status: 200, body: slice, headers: links.length === 0 ? {} : { link: links.join(', ') } };
}

export function repoOf(ctx: HandlerContext, req: HandlerRequest): RepoRecord | undefined {
  return findRepo(ctx.state, req.params['owner'] ?? '', req.params['repo'] ?? '');
}

function pullOf(
  ctx: HandlerContext,
  req: HandlerRequest,
  param: 'pull_number' | 'issue_number',
): { repo: RepoRecord; pull: PullRecord } | undefined {
  const repo = repoOf(ctx, req);
  const pull = repo?.pulls.get(Number(req.params[param]));
  return repo === undefined || pull === undefined ? undefined : { repo, pull };
}

/** The pull request or issue `issue_number` names: both take comments, as on GitHub. */
function threadOf(ctx: HandlerContext, req: HandlerRequest): Thread | undefined {
  const repo = repoOf(ctx, req);
  if (repo === undefined) return undefined;
  const number = Number(req.params['issue_number']);
  const pull = repo.pulls.get(number);
  if (pull !== undefined) return { repo, number, kind: 'pull', comments: pull.comments };
  const issue = repo.issues.get(number);
  return issue === undefined ? undefined : { repo, number, kind: 'issue', comments: issue.comments, issue };
}

interface Thread {
  repo: RepoRecord;
  number: number;
  kind: 'pull' | 'issue';
  comments: CommentRecord[];
  issue?: IssueRecord;
}

function commentOf(ctx: HandlerContext, req: HandlerRequest): (Thread & { comment: CommentRecord }) | undefined {
  const repo = repoOf(ctx, req);
  if (repo === undefined) return undefined;
  const id = Number(req.params['comment_id']);
  const threads: Thread[] = [
    ...[...repo.pulls.values()].map((pull): Thread => ({ repo, number: pull.number, kind: 'pull', comments: pull.comments })),
    ...[...repo.issues.values()].map((issue): Thread => ({ repo, number: issue.number, kind: 'issue', comments: issue.comments, issue })),
  ];
  for (const thread of threads) {
    const comment = thread.comments.find((candidate) => candidate.id === id);
    if (comment !== undefined) return { ...thread, comment };
  }
  return undefined;
}

function permissionFlags(permission: string): JsonObject {
  const write = permission === 'admin' || permission === 'write';
  return {
    admin: permission === 'admin',
    maintain: permission === 'admin',
    push: write,
    triage: permission !== 'none',
    pull: permission !== 'none',
  };
}

function bodyText(req: HandlerRequest): string {
  const body = asBody(req)['body'];
  return typeof body === 'string' ? body : '';
}

export function asBody(req: HandlerRequest): JsonObject {
  return isObject(req.body) ? req.body : {};
}

export function ok(body: Json): HandlerResponse {
  return { status: 200, body };
}

export function notFound(): HandlerResponse {
  return {
    status: 404,
    body: { message: 'Not Found', documentation_url: 'https://docs.github.com/rest', status: '404' },
  };
}

function clamp(value: number, min: number, max: number): number {
  return Math.min(max, Math.max(min, Math.trunc(value)));
}
