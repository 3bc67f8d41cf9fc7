// Checking one project of the default branch for drift, by kind. Terraform: the project's plan
// stage (its workflow, or init + plan) with `-detailed-exitcode -lock-timeout=…` into a plan file
// of the sweep's own; exit 2 is drift, 1 an error. Kubernetes projects: check-kubernetes.ts (a
// server-side diff).

import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { ApplyOutcome, PlanOutcome, ProjectKind, StepVariables } from '../../runners/types.js';
import { showFilePath } from '../../runners/plan-files.js';
import { runApplyWorkflow, runPlanWorkflow } from '../../runners/workflow.js';
import { SERVER_ACTOR } from '../audit/index.js';
import type { JobContext } from '../jobs/context.js';
import { stageSteps, type ProjectSetup } from '../jobs/project-setup.js';
import { liveOutput } from '../jobs/run-project.js';
import type { RepoInfo } from '../jobs/types.js';
import type { Project } from '../projects/index.js';
import { kubernetesChecker } from './check-kubernetes.js';
import { driftFingerprint } from './fingerprint.js';
import type { ProjectCheck } from './types.js';

export interface CheckInput {
  ctx: JobContext;
  repo: RepoInfo;
  setup: ProjectSetup;
  project: Project;
  /** The branch working tree of the project's workspace. */
  tree: string;
  headSha: string;
  /** Where the plan goes; the sweep deletes it when it is done with it. */
  planFile: string;
  lockTimeout: string;
}

/** How drift of one kind of project is found and, where it can be, corrected. */
export interface ProjectChecker {
  /** Compares the live infrastructure with the default branch; never changes anything. */
  check(input: CheckInput): Promise<ProjectCheck>;
  /**
   * Applies the desired state this check computed (Terraform: the plan in `check.planFile`;
   * Kubernetes: the rendered bundle). Absent where the kind cannot be re-applied. Called under
   * the project's default-branch lock (remediate.ts).
   */
  apply?(input: CheckInput, check: ProjectCheck): Promise<ApplyOutcome>;
}


export const terraformChecker: ProjectChecker = { check: checkTerraform, apply: applyTerraformPlan };

/** The checker of each project kind; complete by type, so a new kind needs its entry here. */
export function projectCheckers(overrides: Partial<Record<ProjectKind, ProjectChecker>> = {}): Record<ProjectKind, ProjectChecker> {
  return {
    terraform: terraformChecker,
    kubernetes: kubernetesChecker,
    ...overrides,
  };
}

export async function checkTerraform(input: CheckInput): Promise<ProjectCheck> {
  const { ctx, project, tree } = input;
  const projectDir = join(tree, project.dir);
  if (!existsSync(projectDir)) {
    return errorCheck(`dir \`${project.dir}\` does not exist on ${input.repo.defaultBranch} at ${input.headSha.slice(0, 7)}: fix the repo config`);
  }
  let steps;
  try {
    steps = stageSteps(ctx, input.setup, project, 'plan');
  } catch (err: unknown) {
    return errorCheck(err instanceof Error ? err.message : String(err));
  }
  const outcome = await runPlanWorkflow(ctx.terraform, ctx.exec, steps, {
    projectDir,
    workspace: project.workspace,
    extraArgs: [`-lock-timeout=${input.lockTimeout}`],
    planFile: input.planFile,
    variables: driftStepVariables(input, projectDir),
    ...liveOutput(ctx, project),
    ...(ctx.signal === undefined ? {} : { signal: ctx.signal }),
  });
  return checkFromPlan(outcome, outcome.output);
}

/**
 * A plan's result as a drift check: changes are drift (fingerprinted over `fingerprintOf`,
 * the part of the output that says what differs), no changes are clean, a failure is an error.
 */
export function checkFromPlan(outcome: PlanOutcome, fingerprintOf: string): ProjectCheck {
  const base = { output: outcome.output, exitCode: outcome.exitCode, durationMs: outcome.durationMs };
  switch (outcome.result) {
    case 'error':
      return { state: 'error', reason: errorReason(outcome.output), fingerprint: null, summary: null, ...base };
    case 'no-changes':
      return { state: 'clean', reason: null, fingerprint: null, summary: outcome.summary, ...base };
    case 'changes':
      return {
        state: 'drifted',
        reason: null,
        fingerprint: driftFingerprint(fingerprintOf),
        summary: outcome.summary,
        ...base,
        ...(outcome.planFile === undefined ? {} : { planFile: outcome.planFile }),
      };
  }
}

/** The project's apply stage (its workflow, or apply) on the plan the check saved. */
export async function applyTerraformPlan(input: CheckInput, check: ProjectCheck): Promise<ApplyOutcome> {
  const { ctx, project } = input;
  if (check.planFile === undefined) return { result: 'error', output: 'no saved plan to apply', exitCode: -1, durationMs: 0 };
  const projectDir = join(input.tree, project.dir);
  return runApplyWorkflow(ctx.terraform, ctx.exec, stageSteps(ctx, input.setup, project, 'apply'), {
    projectDir,
    workspace: project.workspace,
    extraArgs: [`-lock-timeout=${input.lockTimeout}`],
    planFile: check.planFile,
    variables: driftStepVariables({ ...input, planFile: check.planFile }, projectDir),
    ...liveOutput(ctx, project),
    ...(ctx.signal === undefined ? {} : { signal: ctx.signal }),
  });
}

export function skippedCheck(reason: string): ProjectCheck {
  return { state: 'skipped', reason, fingerprint: null, summary: null, output: '', exitCode: -1, durationMs: 0 };
}

export function errorCheck(reason: string): ProjectCheck {
  return { state: 'error', reason, fingerprint: null, summary: null, output: reason, exitCode: -1, durationMs: 0 };
}

/** Atlantis's step variables for a default-branch run: no pull request, the server as the user. */
export function driftStepVariables(input: Pick<CheckInput, 'repo' | 'project' | 'headSha' | 'planFile'>, projectDir: string): StepVariables {
  const { repo, project } = input;
  return {
    WORKSPACE: project.workspace,
    DIR: projectDir,
    PLANFILE: input.planFile,
    SHOWFILE: showFilePath(input.planFile),
    BASE_REPO_NAME: repo.name,
    BASE_REPO_OWNER: repo.owner,
    HEAD_REPO_NAME: repo.name,
    HEAD_REPO_OWNER: repo.owner,
    HEAD_BRANCH_NAME: repo.defaultBranch,
    HEAD_COMMIT: input.headSha,
    BASE_BRANCH_NAME: repo.defaultBranch,
    PROJECT_NAME: project.name ?? '',
    PULL_NUM: '0',
    PULL_URL: '',
    PULL_AUTHOR: '',
    REPO_REL_DIR: project.dir,
    USER_NAME: SERVER_ACTOR,
    COMMENT_ARGS: '',
  };
}

/**
 * What failed, in one line: the runner's header (`terraform plan failed with exit code 1`) and
 * terraform's first `Error:` line when there is one. Capped.
 */
export function errorReason(output: string): string {
  const lines = output.split('\n').map((l) => l.replace(/^[│╷╵]\s*/, '').trim());
  const header = (lines.find((l) => l !== '') ?? 'the check failed without output').replace(/:$/, '');
  const error = lines.find((l) => l.startsWith('Error: '));
  const line = error === undefined || header.includes(error) ? header : `${header}: ${error.slice('Error: '.length)}`;
  return line.length > 300 ? `${line.slice(0, 297)}...` : line;
}
