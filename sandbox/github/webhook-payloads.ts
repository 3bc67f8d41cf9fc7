// Webhook bodies built from GitHub's own example payloads (@octokit/webhooks-examples), with
// the double's repository, pull request and users written over them. The examples never put an
// issue_comment on a pull request, so `issue.pull_request` is added, as GitHub sends it.

import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { isObject, type Json, type JsonObject } from './openapi-document.js';
import { asForkSide, commentHtmlUrl, rehost, stableId } from './rest-resources.js';
import type { CommentRecord, PullEventAction, PullRecord, RepoRecord } from './types.js';

export interface WebhookExamples {
  issueComment: JsonObject;
  pullRequest: Map<string, JsonObject>;
  /** By action, the first example of each. */
  installation: Map<string, JsonObject>;
  installationRepositories: Map<string, JsonObject>;
}

export interface PayloadContext {
  url: string;
  examples: WebhookExamples;
  /** The App installation that holds the repository: GitHub names it in every App delivery. */
  installationOf?: (repo: RepoRecord) => number | null;
}

export async function loadWebhookExamples(): Promise<WebhookExamples> {
  const require = createRequire(import.meta.url);
  const packageJson = require.resolve('@octokit/webhooks-examples/package.json');
  const index = JSON.parse(await readFile(join(dirname(packageJson), 'api.github.com', 'index.json'), 'utf8')) as Json;
  const events = Array.isArray(index) ? index.filter(isObject) : [];
  const examplesOf = (name: string): JsonObject[] => {
    const event = events.find((candidate) => candidate['name'] === name);
    const list = event?.['examples'];
    return Array.isArray(list) ? list.filter(isObject) : [];
  };
  const issueComment = examplesOf('issue_comment').find((example) => example['action'] === 'created');
  if (issueComment === undefined) throw new Error('webhook examples hold no issue_comment.created');
  const byAction = (name: string): Map<string, JsonObject> => {
    const found = new Map<string, JsonObject>();
    for (const example of examplesOf(name)) {
      const action = example['action'];
      if (typeof action === 'string' && !found.has(action)) found.set(action, example);
    }
    return found;
  };
  return {
    issueComment,
    pullRequest: byAction('pull_request'),
    installation: byAction('installation'),
    installationRepositories: byAction('installation_repositories'),
  };
}

export function issueCommentPayload(
  ctx: PayloadContext,
  repo: RepoRecord,
  pull: PullRecord,
  comment: CommentRecord,
): JsonObject {
  const payload = prepare(ctx, ctx.examples.issueComment, repo);
  const api = `${ctx.url}/repos/${repo.fullName}`;
  const html = `${ctx.url}/${repo.fullName}/pull/${pull.number}`;
  const issue = isObject(payload['issue']) ? payload['issue'] : {};
  const templateUser = isObject(issue['user']) ? issue['user'] : {};
  Object.assign(issue, {
    url: `${api}/issues/${pull.number}`,
    repository_url: api,
    labels_url: `${api}/issues/${pull.number}/labels{/name}`,
    comments_url: `${api}/issues/${pull.number}/comments`,
    events_url: `${api}/issues/${pull.number}/events`,
    html_url: html,
    id: pull.id,
    node_id: Buffer.from(`05:Issue${pull.id}`).toString('base64'),
    number: pull.number,
    title: pull.title,
    user: webhookUser(ctx, templateUser, pull.author),
    labels: [],
    state: pull.state,
    locked: false,
    assignee: null,
    assignees: [],
    milestone: null,
    comments: pull.comments.length,
    created_at: pull.createdAt,
    updated_at: comment.updatedAt,
    closed_at: pull.closedAt,
    author_association: pull.author === repo.owner ? 'OWNER' : 'COLLABORATOR',
    body: null,
    draft: pull.draft,
    pull_request: {
      url: `${api}/pulls/${pull.number}`,
      html_url: html,
      diff_url: `${html}.diff`,
      patch_url: `${html}.patch`,
      merged_at: pull.mergedAt,
    },
  });
  const example = isObject(payload['comment']) ? payload['comment'] : {};
  const commentUserTemplate = isObject(example['user']) ? example['user'] : templateUser;
  payload['comment'] = Object.assign(example, {
    url: `${api}/issues/comments/${comment.id}`,
    html_url: commentHtmlUrl(ctx.url, repo, pull.number, comment.id),
    issue_url: `${api}/issues/${pull.number}`,
    id: comment.id,
    node_id: Buffer.from(`012:IssueComment${comment.id}`).toString('base64'),
    user: webhookUser(ctx, commentUserTemplate, comment.user),
    created_at: comment.createdAt,
    updated_at: comment.updatedAt,
    author_association: comment.user === repo.owner ? 'OWNER' : 'COLLABORATOR',
    body: comment.body,
  });
  payload['action'] = 'created';
  payload['issue'] = issue;
  payload['sender'] = webhookUser(ctx, commentUserTemplate, comment.user);
  return payload;
}

export function pullRequestPayload(
  ctx: PayloadContext,
  repo: RepoRecord,
  pull: PullRecord,
  action: PullEventAction,
  sender: string,
): JsonObject {
  const example = ctx.examples.pullRequest.get(action) ?? ctx.examples.pullRequest.get('opened');
  if (example === undefined) throw new Error('webhook examples hold no pull_request.opened');
  const payload = prepare(ctx, example, repo);
  const api = `${ctx.url}/repos/${repo.fullName}`;
  const html = `${ctx.url}/${repo.fullName}/pull/${pull.number}`;
  const pr = isObject(payload['pull_request']) ? payload['pull_request'] : {};
  const templateUser = isObject(pr['user']) ? pr['user'] : {};
  const repository = payload['repository'] ?? null;
  const side = (key: 'head' | 'base', ref: string, sha: string): JsonObject => {
    const made: JsonObject = {
      ...(isObject(pr[key]) ? pr[key] : {}),
      label: `${repo.owner}:${ref}`,
      ref,
      sha,
      user: webhookUser(ctx, templateUser, repo.owner),
      repo: structuredClone(repository),
    };
    return key === 'head' && pull.headRepo !== undefined ? asForkSide(made, pull.headRepo, ref) : made;
  };
  Object.assign(pr, {
    url: `${api}/pulls/${pull.number}`,
    id: pull.id,
    node_id: Buffer.from(`011:PullRequest${pull.id}`).toString('base64'),
    html_url: html,
    diff_url: `${html}.diff`,
    patch_url: `${html}.patch`,
    issue_url: `${api}/issues/${pull.number}`,
    number: pull.number,
    state: pull.state,
    locked: false,
    title: pull.title,
    user: webhookUser(ctx, templateUser, pull.author),
    body: null,
    created_at: pull.createdAt,
    updated_at: pull.updatedAt,
    closed_at: pull.closedAt,
    merged_at: pull.mergedAt,
    merge_commit_sha: pull.mergeCommitSha,
    assignee: null,
    assignees: [],
    requested_reviewers: [],
    requested_teams: [],
    labels: [],
    milestone: null,
    commits_url: `${api}/pulls/${pull.number}/commits`,
    review_comments_url: `${api}/pulls/${pull.number}/comments`,
    comments_url: `${api}/issues/${pull.number}/comments`,
    statuses_url: `${api}/statuses/${pull.headSha}`,
    head: side('head', pull.branch, pull.headSha),
    base: side('base', pull.baseRef, pull.baseSha),
    draft: pull.draft,
    merged: pull.merged,
    mergeable: pull.mergeable,
    merged_by: pull.merged ? webhookUser(ctx, templateUser, sender) : null,
    comments: pull.comments.length,
  });
  payload['action'] = action;
  payload['number'] = pull.number;
  payload['pull_request'] = pr;
  payload['sender'] = webhookUser(ctx, templateUser, sender);
  if (action === 'synchronize') {
    payload['before'] = pull.previousHeadSha ?? pull.baseSha;
    payload['after'] = pull.headSha;
  } else {
    delete payload['before'];
    delete payload['after'];
  }
  return payload;
}

/** Clone an example, move it onto the double, set the App/org context and the repository. */
function prepare(ctx: PayloadContext, example: JsonObject, repo: RepoRecord): JsonObject {
  const payload = structuredClone(example);
  delete payload['installation'];
  delete payload['organization'];
  const installation = ctx.installationOf?.(repo) ?? null;
  if (installation !== null) payload['installation'] = { id: installation, node_id: Buffer.from(`023:Installation${installation}`).toString('base64') };
  const repository = isObject(payload['repository']) ? payload['repository'] : {};
  const ownerTemplate = isObject(repository['owner']) ? repository['owner'] : {};
  rehost(payload, ctx.url, repo.fullName);
  Object.assign(repository, {
    id: repo.id,
    node_id: Buffer.from(`010:Repository${repo.id}`).toString('base64'),
    name: repo.name,
    full_name: repo.fullName,
    private: true,
    owner: webhookUser(ctx, ownerTemplate, repo.owner),
    html_url: `${ctx.url}/${repo.fullName}`,
    url: `${ctx.url}/repos/${repo.fullName}`,
    clone_url: repo.cloneUrl,
    git_url: repo.cloneUrl,
    ssh_url: repo.cloneUrl,
    svn_url: `${ctx.url}/${repo.fullName}`,
    default_branch: repo.defaultBranch,
    visibility: 'private',
    fork: false,
    archived: false,
    disabled: false,
  });
  payload['repository'] = repository;
  return payload;
}

export function webhookUser(ctx: PayloadContext, template: JsonObject, login: string): JsonObject {
  const user = structuredClone(template);
  const oldLogin = typeof user['login'] === 'string' ? user['login'] : 'Codertocat';
  for (const [key, value] of Object.entries(user)) {
    if (typeof value === 'string' && oldLogin !== '') user[key] = value.replaceAll(oldLogin, login);
  }
  rehost(user, ctx.url, null);
  const id = stableId(login);
  return Object.assign(user, {
    login,
    id,
    node_id: Buffer.from(`04:User${id}`).toString('base64'),
    type: 'User',
    site_admin: false,
  });
}
