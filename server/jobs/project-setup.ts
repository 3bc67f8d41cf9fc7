// What a pull request's checkout declares: its repo config (tideline.yaml, else atlantis.yaml)
// checked against the server's repo rules, giving the projects with their effective apply
// requirements and workflows. Plan and apply both start here.

import type { WorkflowStep } from '../../runners/types.js';
import {
  applyServerRules,
  DEFAULT_WORKFLOW_NAME,
  effectiveRules,
  onBaseBranch,
  readRepoConfig,
  type ConfigProblem,
  type EffectiveRepoRules,
  type Project,
  type ProjectDefaults,
  type RepoConfig,
  type Workflow,
} from '../projects/index.js';
import type { JobContext } from './context.js';

export interface ProjectSetup {
  config: RepoConfig | null;
  rules: EffectiveRepoRules;
  projects: Project[];
  workflows: Record<string, Workflow>;
  defaults: ProjectDefaults;
  warnings: string[];
}

export type SetupResult = { ok: true; setup: ProjectSetup } | { ok: false; file: string; problems: ConfigProblem[] };

/**
 * The setup for a pull request into `baseBranch` (drift: the default branch). Its `projects` are
 * those declared for that branch only, as in Atlantis: a project whose `branch` does not match is
 * not there for autoplan, `-p`, `-d` or `depends_on`.
 */
export function loadProjectSetup(ctx: JobContext, repoFullName: string, baseBranch: string, checkoutRoot: string): SetupResult {
  // Atlantis names a repository `host/owner/repo` by its own host: on GitHub Enterprise an id
  // written `ghe.example.com/acme/infra` must match, or its requirements would not apply.
  const rules = effectiveRules(ctx.repoRules, repoFullName, { baseBranch, host: ctx.git.githubHost });
  const read = readRepoConfig(checkoutRoot, { baseBranch, atlantisFile: rules.repoConfigFile, terraformDistribution: ctx.terraformDistribution === undefined ? 'terraform' : ctx.terraformDistribution });
  if (!read.ok) return { ok: false, file: read.file, problems: read.problems };
  const applied = applyServerRules(read.config, rules, ctx.repoRules.workflows);
  if (!applied.ok) return { ok: false, file: read.config?.file ?? 'repo config', problems: applied.problems };
  return {
    ok: true,
    setup: {
      config: read.config,
      rules,
      projects: applied.projects.filter((project) => onBaseBranch(project.branch, baseBranch)),
      workflows: applied.workflows,
      defaults: applied.defaults,
      warnings: read.config?.warnings ?? [],
    },
  };
}

/**
 * The steps of a project's stage, or undefined for Tideline's own default stage (exactly
 * init → plan, apply) when the project uses the built-in default workflow.
 */
export function stageSteps(ctx: JobContext, setup: ProjectSetup, project: Project, stage: 'plan' | 'apply'): readonly WorkflowStep[] | undefined {
  const name = project.workflow ?? DEFAULT_WORKFLOW_NAME;
  if (name === DEFAULT_WORKFLOW_NAME && ctx.repoRules.workflows[DEFAULT_WORKFLOW_NAME] === undefined) return undefined;
  const workflow = setup.workflows[name];
  if (workflow === undefined) throw new Error(`workflow \`${name}\` of ${project.dir} is not defined`);
  return workflow[stage];
}
