// Merging a pull request through the REST API (`PUT /repos/{owner}/{repo}/pulls/{n}/merge`), as
// GitHub answers it: 405 when the pull request is closed or not mergeable, 409 when `sha` no
// longer names its head, otherwise a merge commit on the base branch and 200. Like GitHub, the
// merge itself sends no webhook here: a test delivers `pull_request.closed` as GitHub would.
// `merge_method` merge and squash are implemented; asking for rebase is a violation of the double.

import { mergePull } from './repo-actions.js';
import { asBody, notFound, ok, repoOf, type Handler, type HandlerContext, type HandlerRequest, type HandlerResponse } from './rest-handlers.js';

export function mergeHandlers(): [string, Handler][] {
  return [['pulls/merge', mergePullRequest]];
}

function refused(status: 405 | 409, message: string): HandlerResponse {
  return { status, body: { message, documentation_url: 'https://docs.github.com/rest/pulls/pulls#merge-a-pull-request' } };
}

async function mergePullRequest(ctx: HandlerContext, req: HandlerRequest): Promise<HandlerResponse> {
  const repo = repoOf(ctx, req);
  const pull = repo?.pulls.get(Number(req.params['pull_number']));
  if (repo === undefined || pull === undefined) return notFound();
  const input = asBody(req);
  const method = typeof input['merge_method'] === 'string' ? input['merge_method'] : 'merge';
  if (method !== 'merge' && method !== 'squash') throw new Error(`merge_method ${method} is valid on GitHub but not implemented by the double`);
  if (pull.state !== 'open' || pull.mergeable === false) return refused(405, 'Pull Request is not mergeable');
  if (typeof input['sha'] === 'string' && input['sha'] !== pull.headSha) return refused(409, 'Head branch was modified. Review and try the merge again.');
  const sha = await mergePull(ctx.state, repo.fullName, pull.number, ctx.state.botLogin, method);
  return ok({ sha, merged: true, message: 'Pull Request successfully merged' });
}
