// The limits GitHub puts on what a request may create, beyond what its OpenAPI description
// says: a refusal is answered as GitHub answers it (422, its error shape and words) and written
// to `violations`, so a test sees the server send what GitHub would refuse.

import type { JsonObject } from './openapi-document.js';
import type { HandlerContext, HandlerRequest, HandlerResponse } from './rest-handlers.js';
import type { RepoRecord } from './types.js';

const MAX_COMMENT_CHARS = 65_536;
const MAX_STATUS_DESCRIPTION_CHARS = 140;
const MAX_STATUSES_PER_CONTEXT = 1_000;

/**
 * GitHub's validation of a new status: a description of at most 140 characters, a target_url
 * of http(s) only, and at most 1,000 statuses per commit and context (contexts compared
 * case-insensitively, as GitHub does).
 */
/** GitHub's 422 answer: "Validation Failed" with one error of `resource`. */
export function validationFailed(resource: string, error: JsonObject, documentationUrl: string): HandlerResponse {
  return {
    status: 422,
    body: { message: 'Validation Failed', errors: [{ resource, ...error }], documentation_url: documentationUrl, status: '422' },
  };
}

export function refuseStatus(ctx: HandlerContext, req: HandlerRequest, repo: RepoRecord, sha: string, input: JsonObject): HandlerResponse | null {
  const description = input['description'];
  const context = typeof input['context'] === 'string' ? input['context'] : 'default';
  const targetUrl = input['target_url'];
  let problem: { field?: string; message: string } | null = null;
  if (typeof description === 'string' && Array.from(description).length > MAX_STATUS_DESCRIPTION_CHARS) {
    problem = { field: 'description', message: `description is too long (maximum is ${MAX_STATUS_DESCRIPTION_CHARS} characters)` };
  } else if (typeof targetUrl === 'string' && !/^https?:\/\//i.test(targetUrl)) {
    problem = { field: 'target_url', message: 'target_url must use http(s) scheme' };
  } else {
    const same = (repo.statuses.get(sha) ?? []).filter((status) => status.context.toLowerCase() === context.toLowerCase());
    if (same.length >= MAX_STATUSES_PER_CONTEXT) {
      // GitHub's words, with no `field`.
      problem = { message: 'This SHA and context has reached the maximum number of statuses.' };
    }
  }
  if (problem === null) return null;
  ctx.state.violations.push(`${req.requestUrl}: ${problem.message}`);
  return validationFailed('Status', { code: 'custom', ...problem }, 'https://docs.github.com/rest/commits/statuses#create-a-commit-status');
}

export function checkCommentLength(ctx: HandlerContext, req: HandlerRequest, body: string): HandlerResponse | null {
  const length = Array.from(body).length;
  if (length <= MAX_COMMENT_CHARS) return null;
  ctx.state.violations.push(
    `${req.requestUrl}: comment body has ${length} characters; GitHub refuses more than ${MAX_COMMENT_CHARS}`,
  );
  return validationFailed(
    'IssueComment',
    { code: 'custom', field: 'body', message: 'body is too long (maximum is 65536 characters)' },
    'https://docs.github.com/rest/issues/comments#create-an-issue-comment',
  );
}
