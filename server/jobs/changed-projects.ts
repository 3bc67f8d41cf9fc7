// The projects a pull request changes, from its changed files: with trigger `autoplan`, what a
// push autoplans; with `command`, what a plan comment naming no project plans (projects whose
// autoplan is off included). The files are listed once; each trigger selects from them.

import type { PullInfo } from '../github/forge.js';
import { selectProjects, type SelectProjectsResult } from '../projects/index.js';
import type { JobContext } from './context.js';
import { refOf } from './post.js';
import type { ProjectSetup } from './project-setup.js';
import type { RepoInfo } from './types.js';

export type ChangedProjects = (trigger: 'autoplan' | 'command') => SelectProjectsResult;

export async function changedProjects(ctx: JobContext, repo: RepoInfo, pull: number, pr: PullInfo, checkoutRoot: string, setup: ProjectSetup): Promise<ChangedProjects> {
  const changedFiles = await ctx.forge.listPullFiles(refOf(repo), pull);
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
