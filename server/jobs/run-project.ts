// Helpers shared by plan and apply: the step variables a workflow sees, and running a wave of
// projects at most N at a time.

import { join } from 'node:path';
import type { StepVariables } from '../../runners/types.js';
import { showFilePath } from '../../runners/plan-files.js';
import { commentArgsVariable } from '../../runners/workflow.js';
import type { PullInfo } from '../github/forge.js';
import type { Project } from '../projects/index.js';
import type { JobContext } from './context.js';
import type { CommandJob } from './types.js';

export function stepVariables(job: CommandJob, pr: PullInfo, project: Project, checkoutDir: string, planFile: string): StepVariables {
  return {
    WORKSPACE: project.workspace,
    DIR: join(checkoutDir, project.dir),
    PLANFILE: planFile,
    SHOWFILE: showFilePath(planFile),
    BASE_REPO_NAME: job.repo.name,
    BASE_REPO_OWNER: job.repo.owner,
    HEAD_REPO_NAME: job.repo.name,
    HEAD_REPO_OWNER: job.repo.owner,
    HEAD_BRANCH_NAME: pr.headRef,
    HEAD_COMMIT: pr.headSha,
    BASE_BRANCH_NAME: pr.baseRef,
    PROJECT_NAME: project.name ?? '',
    PULL_NUM: String(pr.number),
    PULL_URL: pr.htmlUrl,
    PULL_AUTHOR: pr.author,
    REPO_REL_DIR: project.dir,
    USER_NAME: job.actor,
    COMMENT_ARGS: commentArgsVariable(job.command.extraArgs),
    ...(pr.mergeable === null ? {} : { ATLANTIS_PR_MERGEABLE: String(pr.mergeable) }),
  };
}

/** Streams a project's output to the live view of the running job, each line tagged with its dir. */
export function liveOutput(ctx: JobContext, project: Project): { onOutput?: (chunk: string) => void } {
  const id = ctx.jobId;
  if (id === undefined) return {};
  const tag = `[${project.dir}${project.workspace === 'default' ? '' : ` ${project.workspace}`}] `;
  return { onOutput: (chunk) => ctx.live.append(id, chunk.replace(/\r?\n$/, '').split(/\r?\n/).map((l) => tag + l).join('\n')) };
}

/** Runs `fn` over `items` with at most `limit` at once; results keep the items' order. */
export async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array<R>(items.length);
  let next = 0;
  async function worker(): Promise<void> {
    for (;;) {
      const i = next;
      next += 1;
      if (i >= items.length) return;
      results[i] = await fn(items[i] as T);
    }
  }
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, () => worker()));
  return results;
}

/**
 * mapLimit over projects, but projects that share a working directory (one dir in one
 * workspace, declared twice under different names) run one after another: two terraform runs
 * in one directory would share its `.terraform` and its state lock. Results keep `projects`' order.
 */
export async function mapByProjectDir<P extends { dir: string; workspace: string }, R>(projects: readonly P[], limit: number, fn: (project: P) => Promise<R>): Promise<R[]> {
  const groups = new Map<string, number[]>();
  projects.forEach((project, index) => {
    const key = `${project.workspace}\u0000${project.dir}`;
    groups.set(key, [...(groups.get(key) ?? []), index]);
  });
  const results: R[] = new Array<R>(projects.length);
  await mapLimit([...groups.values()], limit, async (indexes) => {
    for (const index of indexes) results[index] = await fn(projects[index] as P);
  });
  return results;
}
