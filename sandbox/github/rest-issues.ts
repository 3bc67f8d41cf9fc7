// Issues and labels of the double: create, get, update (close / reopen with a reason), list by
// state and label, and labels get / create. Issue numbers come from the same sequence as pull
// request numbers, as on GitHub; listing issues includes pull requests (with `pull_request`),
// as GitHub does. Creating an issue with a label the repository lacks creates the label.

import { isObject, type Json, type JsonObject } from './openapi-document.js';
import { asBody, notFound, ok, paginated, repoOf, type Handler, type HandlerContext, type HandlerRequest, type HandlerResponse } from './rest-handlers.js';
import { validationFailed } from './rest-limits.js';
import { exampleObject, rehost, userObject } from './rest-resources.js';
import { nextId, nowIso } from './state.js';
import type { IssueRecord, LabelRecord, PullRecord, RepoRecord } from './types.js';

const MAX_BODY_CHARS = 65_536;
const DEFAULT_LABEL_COLOR = 'ededed';
const STATE_REASONS = ['completed', 'not_planned', 'duplicate', 'reopened'] as const;

export function issueHandlers(): [string, Handler][] {
  return [
    ['issues/create', createIssue],
    ['issues/get', getIssue],
    ['issues/update', updateIssue],
    ['issues/list-for-repo', listIssues],
    ['issues/get-label', getLabel],
    ['issues/create-label', createLabel],
  ];
}

async function createIssue(ctx: HandlerContext, req: HandlerRequest): Promise<HandlerResponse> {
  const repo = repoOf(ctx, req);
  if (repo === undefined) return notFound();
  const input = asBody(req);
  const body = typeof input['body'] === 'string' ? input['body'] : '';
  const tooLong = checkBodyLength(ctx, req, body);
  if (tooLong !== null) return tooLong;
  const now = nowIso();
  const issue: IssueRecord = {
    number: repo.nextNumber,
    id: nextId(ctx.state),
    title: String(input['title']),
    body,
    author: ctx.state.botLogin,
    state: 'open',
    stateReason: null,
    labels: labelNames(ctx, repo, input['labels']),
    createdAt: now,
    updatedAt: now,
    closedAt: null,
    comments: [],
  };
  repo.nextNumber += 1;
  repo.issues.set(issue.number, issue);
  const object = issueObject(ctx, repo, issue);
  return { status: 201, body: object, headers: { location: String(object['url']) } };
}

async function getIssue(ctx: HandlerContext, req: HandlerRequest): Promise<HandlerResponse> {
  const repo = repoOf(ctx, req);
  const number = Number(req.params['issue_number']);
  if (repo === undefined) return notFound();
  const issue = repo.issues.get(number);
  if (issue !== undefined) return ok(issueObject(ctx, repo, issue));
  const pull = repo.pulls.get(number);
  return pull === undefined ? notFound() : ok(pullAsIssue(ctx, repo, pull));
}

async function updateIssue(ctx: HandlerContext, req: HandlerRequest): Promise<HandlerResponse> {
  const repo = repoOf(ctx, req);
  // Editing a pull request through the issues API is not needed by the server: not in the double.
  const issue = repo?.issues.get(Number(req.params['issue_number']));
  if (repo === undefined || issue === undefined) return notFound();
  const input = asBody(req);
  if (typeof input['body'] === 'string') {
    const tooLong = checkBodyLength(ctx, req, input['body']);
    if (tooLong !== null) return tooLong;
    issue.body = input['body'];
  }
  if (typeof input['title'] === 'string' || typeof input['title'] === 'number') issue.title = String(input['title']);
  if (Array.isArray(input['labels'])) issue.labels = labelNames(ctx, repo, input['labels']);
  const now = nowIso();
  const state = input['state'];
  const reason = STATE_REASONS.find((r) => r === input['state_reason']) ?? null;
  if (state === 'closed' && issue.state === 'open') {
    issue.state = 'closed';
    issue.closedAt = now;
    issue.stateReason = reason ?? 'completed';
  } else if (state === 'open' && issue.state === 'closed') {
    issue.state = 'open';
    issue.closedAt = null;
    issue.stateReason = 'reopened';
  }
  issue.updatedAt = now;
  return ok(issueObject(ctx, repo, issue));
}

async function listIssues(ctx: HandlerContext, req: HandlerRequest): Promise<HandlerResponse> {
  const repo = repoOf(ctx, req);
  if (repo === undefined) return notFound();
  const state = req.query.get('state') ?? 'open';
  const wanted = (req.query.get('labels') ?? '')
    .split(',')
    .map((name) => name.trim().toLowerCase())
    .filter((name) => name !== '');
  const matches = (itemState: string, labels: readonly string[]): boolean =>
    (state === 'all' || itemState === state) && wanted.every((name) => labels.some((label) => label.toLowerCase() === name));
  const items: { number: number; object: () => JsonObject }[] = [];
  for (const issue of repo.issues.values()) {
    if (matches(issue.state, issue.labels)) items.push({ number: issue.number, object: () => issueObject(ctx, repo, issue) });
  }
  for (const pull of repo.pulls.values()) {
    if (matches(pull.state, [])) items.push({ number: pull.number, object: () => pullAsIssue(ctx, repo, pull) });
  }
  // GitHub's default order: newest first.
  items.sort((a, b) => b.number - a.number);
  return paginated(
    items.map((item) => item.object()),
    req,
  );
}

async function getLabel(ctx: HandlerContext, req: HandlerRequest): Promise<HandlerResponse> {
  const repo = repoOf(ctx, req);
  const label = repo?.labels.get((req.params['name'] ?? '').toLowerCase());
  if (repo === undefined || label === undefined) return notFound();
  return ok(labelObject(ctx, repo, label));
}

async function createLabel(ctx: HandlerContext, req: HandlerRequest): Promise<HandlerResponse> {
  const repo = repoOf(ctx, req);
  if (repo === undefined) return notFound();
  const input = asBody(req);
  const name = String(input['name']);
  if (repo.labels.has(name.toLowerCase())) {
    return validationFailed('Label', { code: 'already_exists', field: 'name' }, 'https://docs.github.com/rest/issues/labels#create-a-label');
  }
  const label = addLabel(ctx, repo, name, {
    color: typeof input['color'] === 'string' ? input['color'].replace(/^#/, '') : DEFAULT_LABEL_COLOR,
    description: typeof input['description'] === 'string' ? input['description'] : null,
  });
  const object = labelObject(ctx, repo, label);
  return { status: 201, body: object, headers: { location: String(object['url']) } };
}

// ---- resources ----

function issueObject(ctx: HandlerContext, repo: RepoRecord, issue: IssueRecord): JsonObject {
  const base = issueBase(ctx, repo, issue.number);
  delete base['pull_request'];
  return Object.assign(base, {
    id: issue.id,
    node_id: Buffer.from(`05:Issue${issue.id}`).toString('base64'),
    title: issue.title,
    body: issue.body,
    user: userObject(ctx, issue.author),
    labels: issue.labels.map((name) => {
      const label = repo.labels.get(name.toLowerCase());
      return label === undefined ? name : labelObject(ctx, repo, label);
    }),
    state: issue.state,
    state_reason: issue.stateReason,
    comments: issue.comments.length,
    created_at: issue.createdAt,
    updated_at: issue.updatedAt,
    closed_at: issue.closedAt,
    closed_by: issue.state === 'closed' ? userObject(ctx, ctx.state.botLogin) : null,
  });
}

function pullAsIssue(ctx: HandlerContext, repo: RepoRecord, pull: PullRecord): JsonObject {
  const base = issueBase(ctx, repo, pull.number);
  const html = `${ctx.state.url}/${repo.fullName}/pull/${pull.number}`;
  return Object.assign(base, {
    id: pull.id,
    node_id: Buffer.from(`05:Issue${pull.id}`).toString('base64'),
    html_url: html,
    title: pull.title,
    body: null,
    user: userObject(ctx, pull.author),
    labels: [],
    state: pull.state,
    state_reason: null,
    comments: pull.comments.length,
    created_at: pull.createdAt,
    updated_at: pull.updatedAt,
    closed_at: pull.closedAt,
    closed_by: null,
    draft: pull.draft,
    pull_request: {
      url: `${ctx.state.url}/repos/${repo.fullName}/pulls/${pull.number}`,
      html_url: html,
      diff_url: `${html}.diff`,
      patch_url: `${html}.patch`,
      merged_at: pull.mergedAt,
    },
  });
}

/** The example issue moved onto this repository and number, with what is never set here cleared. */
function issueBase(ctx: HandlerContext, repo: RepoRecord, number: number): JsonObject {
  const base = exampleObject(ctx, 'issues/get');
  rehost(base, ctx.state.url, repo.fullName);
  const api = `${ctx.state.url}/repos/${repo.fullName}`;
  for (const key of ['repository', 'performed_via_github_app', 'reactions', 'sub_issues_summary', 'issue_dependencies_summary', 'type', 'pinned_comment', 'issue_field_values', 'parent_issue_url']) delete base[key];
  return Object.assign(base, {
    url: `${api}/issues/${number}`,
    repository_url: api,
    labels_url: `${api}/issues/${number}/labels{/name}`,
    comments_url: `${api}/issues/${number}/comments`,
    events_url: `${api}/issues/${number}/events`,
    html_url: `${ctx.state.url}/${repo.fullName}/issues/${number}`,
    number,
    locked: false,
    active_lock_reason: null,
    assignee: null,
    assignees: [],
    milestone: null,
    author_association: 'COLLABORATOR',
    timeline_url: `${api}/issues/${number}/timeline`,
  });
}

function labelObject(ctx: HandlerContext, repo: RepoRecord, label: LabelRecord): JsonObject {
  return {
    id: label.id,
    node_id: Buffer.from(`010:Label${label.id}`).toString('base64'),
    url: `${ctx.state.url}/repos/${repo.fullName}/labels/${encodeURIComponent(label.name)}`,
    name: label.name,
    description: label.description,
    color: label.color,
    default: false,
  };
}

// ---- helpers ----

/** Label names of an issue body's `labels` (strings or `{ name }`); unknown ones are created. */
function labelNames(ctx: HandlerContext, repo: RepoRecord, given: Json | undefined): string[] {
  if (!Array.isArray(given)) return [];
  const names: string[] = [];
  for (const item of given) {
    const name = typeof item === 'string' ? item : isObject(item) && typeof item['name'] === 'string' ? item['name'] : null;
    if (name === null || name.trim() === '') continue;
    const label = repo.labels.get(name.toLowerCase()) ?? addLabel(ctx, repo, name, { color: DEFAULT_LABEL_COLOR, description: null });
    if (!names.includes(label.name)) names.push(label.name);
  }
  return names;
}

function addLabel(ctx: HandlerContext, repo: RepoRecord, name: string, fields: { color: string; description: string | null }): LabelRecord {
  const label: LabelRecord = { id: nextId(ctx.state), name, ...fields };
  repo.labels.set(name.toLowerCase(), label);
  return label;
}

function checkBodyLength(ctx: HandlerContext, req: HandlerRequest, body: string): HandlerResponse | null {
  const length = Array.from(body).length;
  if (length <= MAX_BODY_CHARS) return null;
  ctx.state.violations.push(`${req.requestUrl}: issue body has ${length} characters; GitHub refuses more than ${MAX_BODY_CHARS}`);
  return validationFailed('Issue', { code: 'custom', field: 'body', message: 'body is too long (maximum is 65536 characters)' }, 'https://docs.github.com/rest/issues/issues');
}
