// The projects a pull request changes, from its changed files: with trigger `autoplan`, what a
// push autoplans; with `command`, what a plan comment naming no project plans (projects whose
// autoplan is off included). The files are listed once; each trigger selects from them. Past
// the 3,000 files GitHub lists, git in the checkout tells them.

import type { PullInfo } from '../github/forge.js';
import { selectProjects, type SelectProjectsResult } from '../projects/index.js';
import { changedSinceBase } from '../workspace/checkout.js';
import type { JobContext } from './context.js';
import { jobGit, refOf } from './post.js';
import type { ProjectSetup } from './project-setup.js';
import type { RepoInfo } from './types.js';

export type ChangedProjects = (trigger: 'autoplan' | 'command') => SelectProjectsResult;

export async function changedProjects(ctx: JobContext, repo: RepoInfo, pull: number, pr: PullInfo, checkoutRoot: string, setup: ProjectSetup): Promise<ChangedProjects> {
  const listed = await ctx.forge.listPullFiles(refOf(repo), pull);
  let changedFiles = listed.paths;
  if (!listed.complete) {
    // GitHub lists 3,000 files at most; planning from a cut list would skip projects, and a
    // whole-pull plan would release the locks of the ones it missed.
    ctx.log.warn({ pull, listed: listed.paths.length }, 'GitHub listed only part of the changed files: asking git');
    changedFiles = await changedSinceBase(await jobGit(ctx, repo), checkoutRoot, repo.cloneUrl, pr.baseRef, pr.headSha);
  }
  return (trigger) =>
    selectProjects({
      checkoutRoot,
      changedFiles,
      config: setup.config,
      projects: setup.projects,
      defaults: setup.defaults,
      trigger,
      baseBranch: pr.baseRef,
      autodiscover: setup.rules.autodiscoverMode,
    });
}
