// Who may apply, and when: the commenter needs write access to the repository, and every
// apply requirement of the project (approved, mergeable, undiverged) must hold. Each refusal
// says which rule failed and how to meet it.

import type { PullInfo, RepoPermission } from '../github/forge.js';
import { containsBase } from '../workspace/checkout.js';
import type { GitContext } from '../workspace/git.js';
import type { JobContext } from './context.js';
import { refOf } from './post.js';
import type { RepoInfo } from './types.js';

export type Requirement = 'approved' | 'mergeable' | 'undiverged';

export interface Refusal {
  rule: Requirement | 'permission';
  message: string;
}

const WRITERS: readonly RepoPermission[] = ['admin', 'maintain', 'write'];

export async function checkPermission(ctx: JobContext, repo: RepoInfo, actor: string): Promise<Refusal | null> {
  const permission = await ctx.forge.getPermission(refOf(repo), actor);
  if (WRITERS.includes(permission)) return null;
  return {
    rule: 'permission',
    message: `@${actor} has \`${permission}\` access to ${repo.fullName}, and apply needs write access: ask someone with write access to comment the apply, or grant it in the repository settings`,
  };
}

export interface RequirementInput {
  repo: RepoInfo;
  pr: PullInfo;
  requirements: readonly Requirement[];
  git: GitContext;
  checkoutDir: string;
}

export async function checkRequirements(ctx: JobContext, input: RequirementInput): Promise<Refusal[]> {
  const refusals: Refusal[] = [];
  const { pr, repo } = input;
  for (const rule of new Set(input.requirements)) {
    if (rule === 'approved' && !(await isApproved(ctx, repo, pr))) {
      refusals.push({
        rule,
        message: `the pull request needs an approving review from someone other than its author @${pr.author}: ask a reviewer to approve it`,
      });
    }
    if (rule === 'mergeable' && pr.mergeable !== true) {
      refusals.push({
        rule,
        message:
          pr.mergeable === null
            ? 'GitHub has not finished computing whether the pull request is mergeable: try again in a moment'
            : 'the pull request is not mergeable (conflicts or failing required checks): resolve them, then plan and apply again',
      });
    }
    if (rule === 'undiverged') {
      const base = await containsBase(input.git, input.checkoutDir, repo.cloneUrl, pr.baseRef, pr.headSha);
      if (!base.contains) {
        refusals.push({
          rule,
          message: `the pull request does not contain the latest \`${pr.baseRef}\` (${base.baseTip.slice(0, 7)}): merge or rebase \`${pr.baseRef}\` into it, then plan again`,
        });
      }
    }
  }
  return refusals;
}

/** Approved when someone other than the author's latest decisive review is APPROVED. */
async function isApproved(ctx: JobContext, repo: RepoInfo, pr: PullInfo): Promise<boolean> {
  const latest = new Map<string, string>();
  for (const review of await ctx.forge.listReviews(refOf(repo), pr.number)) {
    if (review.state === 'COMMENTED' || review.state === 'PENDING') continue;
    latest.set(review.user.toLowerCase(), review.state);
  }
  latest.delete(pr.author.toLowerCase());
  return [...latest.values()].includes('APPROVED');
}
