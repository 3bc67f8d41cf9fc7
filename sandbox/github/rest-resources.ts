// GitHub-shaped resource objects. Each one starts from the example response GitHub publishes
// in its OpenAPI description (so every field a client might read is present with the right
// type), is moved onto the double's host and repository, then has the double's state written
// over it.

import { exampleResponse, isObject, type Json, type JsonObject, type OpenApiDocument } from './openapi-document.js';
import type { ChangedFile } from './git-store.js';
import type {
  CommentRecord,
  DoublePermission,
  DoubleState,
  PullRecord,
  RepoRecord,
  ReviewRecord,
  StatusRecord,
} from './types.js';

export interface RestContext {
  state: DoubleState;
  api: OpenApiDocument;
}

export interface PullDiff {
  files: ChangedFile[];
  commits: number;
}

/** Example of `operationId`'s `status` response, deep-copied; a list's first item for arrays. */
export function exampleObject(ctx: RestContext, operationId: string, status = '200'): JsonObject {
  const entry = ctx.api.byId.get(operationId);
  if (entry === undefined) throw new Error(`unknown operation ${operationId}`);
  const value = exampleResponse(ctx.api.doc, entry, status);
  const item = Array.isArray(value) ? value[0] : value;
  if (!isObject(item)) throw new Error(`example of ${operationId} is not an object`);
  return item;
}

/** Rewrites github.com URLs onto the double and Hello-World onto `fullName`, in place. */
export function rehost(value: Json, url: string, fullName: string | null): Json {
  if (typeof value === 'string') {
    let text = value.replaceAll('https://api.github.com', url).replaceAll('https://github.com', url);
    if (fullName !== null) text = text.replace(/octocat\/Hello-World|Codertocat\/Hello-World/g, fullName);
    return text;
  }
  if (Array.isArray(value)) return value.map((item) => rehost(item, url, fullName));
  if (!isObject(value)) return value;
  for (const [key, item] of Object.entries(value)) value[key] = rehost(item, url, fullName);
  return value;
}

export function userObject(ctx: RestContext, login: string): JsonObject {
  const template = exampleObject(ctx, 'pulls/get')['user'];
  const user = isObject(template) ? template : {};
  const oldLogin = typeof user['login'] === 'string' ? user['login'] : 'octocat';
  for (const [key, value] of Object.entries(user)) {
    if (typeof value === 'string') user[key] = value.replaceAll(oldLogin, login);
  }
  rehost(user, ctx.state.url, null);
  const id = stableId(login);
  Object.assign(user, {
    login,
    id,
    node_id: Buffer.from(`04:User${id}`).toString('base64'),
    type: 'User',
    site_admin: false,
  });
  return user;
}

export function repoObject(ctx: RestContext, repo: RepoRecord, template: JsonObject): JsonObject {
  rehost(template, ctx.state.url, repo.fullName);
  for (const [key, value] of Object.entries(template)) {
    if (typeof value === 'string' && key.endsWith('_url') && !key.startsWith('clone')) {
      template[key] = value.replace(/\/repos\/[^/]+\/[^/{]+/, `/repos/${repo.fullName}`);
    }
  }
  const botPermission = permissionOf(repo, ctx.state.botLogin);
  Object.assign(template, {
    id: repo.id,
    node_id: Buffer.from(`010:Repository${repo.id}`).toString('base64'),
    name: repo.name,
    full_name: repo.fullName,
    owner: userObject(ctx, repo.owner),
    private: true,
    visibility: 'private',
    fork: false,
    html_url: `${ctx.state.url}/${repo.fullName}`,
    url: `${ctx.state.url}/repos/${repo.fullName}`,
    clone_url: repo.cloneUrl,
    git_url: repo.cloneUrl,
    ssh_url: repo.cloneUrl,
    svn_url: `${ctx.state.url}/${repo.fullName}`,
    mirror_url: null,
    // GitHub's schema requires it; its full-repository example leaves it out.
    language: template['language'] ?? null,
    default_branch: repo.defaultBranch,
    archived: false,
    disabled: false,
    created_at: repo.createdAt,
    updated_at: repo.createdAt,
    pushed_at: repo.createdAt,
    open_issues_count: openPulls(repo),
    open_issues: openPulls(repo),
    permissions: {
      admin: botPermission === 'admin',
      maintain: botPermission === 'admin',
      push: botPermission === 'admin' || botPermission === 'write',
      triage: botPermission !== 'none',
      pull: botPermission !== 'none',
    },
  });
  for (const key of ['parent', 'source', 'template_repository', 'organization']) delete template[key];
  return template;
}

export function pullObject(ctx: RestContext, repo: RepoRecord, pull: PullRecord, diff: PullDiff): JsonObject {
  const base = exampleObject(ctx, 'pulls/get');
  rehost(base, ctx.state.url, repo.fullName);
  const api = `${ctx.state.url}/repos/${repo.fullName}`;
  const html = `${ctx.state.url}/${repo.fullName}/pull/${pull.number}`;
  const side = (key: 'head' | 'base', ref: string, sha: string): JsonObject => {
    const example = isObject(base[key]) ? base[key] : {};
    const repoTemplate = isObject(example['repo']) ? example['repo'] : {};
    const side = {
      ...example,
      label: `${repo.owner}:${ref}`,
      ref,
      sha,
      user: userObject(ctx, repo.owner),
      repo: repoObject(ctx, repo, repoTemplate),
    };
    return key === 'head' && pull.headRepo !== undefined ? asForkSide(side, pull.headRepo, ref) : side;
  };
  Object.assign(base, {
    url: `${api}/pulls/${pull.number}`,
    id: pull.id,
    node_id: Buffer.from(`011:PullRequest${pull.id}`).toString('base64'),
    html_url: html,
    diff_url: `${html}.diff`,
    patch_url: `${html}.patch`,
    issue_url: `${api}/issues/${pull.number}`,
    commits_url: `${api}/pulls/${pull.number}/commits`,
    review_comments_url: `${api}/pulls/${pull.number}/comments`,
    comments_url: `${api}/issues/${pull.number}/comments`,
    statuses_url: `${api}/statuses/${pull.headSha}`,
    number: pull.number,
    state: pull.state,
    locked: false,
    title: pull.title,
    user: userObject(ctx, pull.author),
    body: null,
    labels: [],
    milestone: null,
    active_lock_reason: null,
    created_at: pull.createdAt,
    updated_at: pull.updatedAt,
    closed_at: pull.closedAt,
    merged_at: pull.mergedAt,
    merge_commit_sha: pull.mergeCommitSha,
    assignee: null,
    assignees: [],
    requested_reviewers: [],
    requested_teams: [],
    head: side('head', pull.branch, pull.headSha),
    base: side('base', pull.baseRef, pull.baseSha),
    author_association: associationOf(repo, pull.author),
    auto_merge: null,
    draft: pull.draft,
    merged: pull.merged,
    mergeable: pull.mergeable,
    rebaseable: pull.mergeable,
    mergeable_state: pull.mergeable === null ? 'unknown' : pull.mergeable ? 'clean' : 'dirty',
    merged_by: pull.merged ? userObject(ctx, ctx.state.botLogin) : null,
    comments: pull.comments.length,
    review_comments: 0,
    maintainer_can_modify: false,
    commits: diff.commits,
    additions: diff.files.reduce((sum, file) => sum + file.additions, 0),
    deletions: diff.files.reduce((sum, file) => sum + file.deletions, 0),
    changed_files: diff.files.length,
  });
  const links = base['_links'];
  if (isObject(links)) rehostLinks(links, api, html, pull);
  return base;
}

function rehostLinks(links: JsonObject, api: string, html: string, pull: PullRecord): void {
  const hrefs: Record<string, string> = {
    self: `${api}/pulls/${pull.number}`,
    html,
    issue: `${api}/issues/${pull.number}`,
    comments: `${api}/issues/${pull.number}/comments`,
    review_comments: `${api}/pulls/${pull.number}/comments`,
    review_comment: `${api}/pulls/comments{/number}`,
    commits: `${api}/pulls/${pull.number}/commits`,
    statuses: `${api}/statuses/${pull.headSha}`,
  };
  for (const [key, href] of Object.entries(hrefs)) links[key] = { href };
}

export function commentObject(ctx: RestContext, repo: RepoRecord, pull: number, comment: CommentRecord, kind: 'pull' | 'issue' = 'pull'): JsonObject {
  const base = exampleObject(ctx, 'issues/get-comment');
  rehost(base, ctx.state.url, repo.fullName);
  return Object.assign(base, {
    id: comment.id,
    node_id: Buffer.from(`012:IssueComment${comment.id}`).toString('base64'),
    url: `${ctx.state.url}/repos/${repo.fullName}/issues/comments/${comment.id}`,
    html_url: commentHtmlUrl(ctx.state.url, repo, pull, comment.id, kind),
    issue_url: `${ctx.state.url}/repos/${repo.fullName}/issues/${pull}`,
    body: comment.body,
    user: userObject(ctx, comment.user),
    created_at: comment.createdAt,
    updated_at: comment.updatedAt,
    author_association: associationOf(repo, comment.user),
    performed_via_github_app: null,
  });
}

export function commentHtmlUrl(url: string, repo: RepoRecord, pull: number, id: number, kind: 'pull' | 'issue' = 'pull'): string {
  return `${url}/${repo.fullName}/${kind === 'pull' ? 'pull' : 'issues'}/${pull}#issuecomment-${id}`;
}

export function statusObject(ctx: RestContext, repo: RepoRecord, status: StatusRecord): JsonObject {
  const base = exampleObject(ctx, 'repos/create-commit-status', '201');
  rehost(base, ctx.state.url, repo.fullName);
  return Object.assign(base, {
    url: `${ctx.state.url}/repos/${repo.fullName}/statuses/${status.sha}`,
    id: status.id,
    node_id: Buffer.from(`06:Status${status.id}`).toString('base64'),
    state: status.state,
    description: status.description,
    target_url: status.targetUrl,
    context: status.context,
    created_at: status.createdAt,
    updated_at: status.createdAt,
    creator: userObject(ctx, status.creator),
  });
}

/** GitHub's combined state: latest status per context; any failure/error fails, any pending pends. */
export function combinedState(latest: StatusRecord[]): 'failure' | 'pending' | 'success' {
  if (latest.some((status) => status.state === 'failure' || status.state === 'error')) return 'failure';
  if (latest.length === 0 || latest.some((status) => status.state === 'pending')) return 'pending';
  return 'success';
}

export function reviewObject(ctx: RestContext, repo: RepoRecord, pull: number, review: ReviewRecord): JsonObject {
  const base = exampleObject(ctx, 'pulls/list-reviews');
  rehost(base, ctx.state.url, repo.fullName);
  const html = `${ctx.state.url}/${repo.fullName}/pull/${pull}#pullrequestreview-${review.id}`;
  const api = `${ctx.state.url}/repos/${repo.fullName}/pulls/${pull}`;
  return Object.assign(base, {
    id: review.id,
    node_id: Buffer.from(`017:PullRequestReview${review.id}`).toString('base64'),
    user: userObject(ctx, review.user),
    body: '',
    state: review.state,
    html_url: html,
    pull_request_url: api,
    _links: { html: { href: html }, pull_request: { href: api } },
    submitted_at: review.submittedAt,
    commit_id: review.commitId,
    author_association: associationOf(repo, review.user),
  });
}

export function diffEntryObject(ctx: RestContext, repo: RepoRecord, headSha: string, file: ChangedFile): JsonObject {
  const base = exampleObject(ctx, 'pulls/list-files');
  const path = file.filename.split('/').map(encodeURIComponent).join('/');
  const entry: JsonObject = {
    ...base,
    sha: file.sha,
    filename: file.filename,
    status: file.status,
    additions: file.additions,
    deletions: file.deletions,
    changes: file.additions + file.deletions,
    blob_url: `${ctx.state.url}/${repo.fullName}/blob/${headSha}/${path}`,
    raw_url: `${ctx.state.url}/${repo.fullName}/raw/${headSha}/${path}`,
    contents_url: `${ctx.state.url}/repos/${repo.fullName}/contents/${path}?ref=${headSha}`,
  };
  if (file.previousFilename === undefined) delete entry['previous_filename'];
  else entry['previous_filename'] = file.previousFilename;
  // The example's hunk headers describe another file; GitHub omits `patch` when it has none.
  delete entry['patch'];
  return entry;
}

export function permissionOf(repo: RepoRecord, login: string): DoublePermission {
  return repo.permissions.get(login) ?? 'write';
}

function associationOf(repo: RepoRecord, login: string): string {
  if (login === repo.owner) return 'OWNER';
  return permissionOf(repo, login) === 'none' || permissionOf(repo, login) === 'read' ? 'NONE' : 'COLLABORATOR';
}

function openPulls(repo: RepoRecord): number {
  return [...repo.pulls.values()].filter((pull) => pull.state === 'open').length;
}

/** A positive 31-bit id derived from a login, so the same user always has the same id. */
export function stableId(text: string): number {
  let hash = 5381;
  for (const char of text) hash = ((hash * 33) ^ char.charCodeAt(0)) >>> 0;
  return (hash % 2_000_000_000) + 1000;
}

/** The head side of a pull request from the fork `fork` (`owner/name`): its label, user and repo name the fork. */
export function asForkSide(side: JsonObject, fork: string, ref: string): JsonObject {
  const [owner = '', name = ''] = fork.split('/');
  const repo = isObject(side['repo']) ? { ...side['repo'] } : {};
  const user = isObject(side['user']) ? { ...side['user'], login: owner } : { login: owner };
  Object.assign(repo, { name, full_name: fork, fork: true, owner: isObject(repo['owner']) ? { ...repo['owner'], login: owner } : { login: owner } });
  return { ...side, label: `${owner}:${ref}`, user, repo };
}
