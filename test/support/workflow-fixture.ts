// A Terraform project in a temp dir for the custom-workflow tests: one `terraform_data` with a
// variable, the real terraform on PATH with only its built-in provider, a fresh masker and
// live-output log per test. `useWorkflowProject()` registers the set-up and clean-up in the
// calling test file and returns what its tests read.

import { mkdir, mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach } from 'vitest';
import type { ExecContext } from '../../runners/exec.js';
import { SecretMasker } from '../../runners/secrets.js';
import { TerraformRunner } from '../../runners/terraform.js';
import type { ApplyOutcome, PlanOutcome, WorkflowStep } from '../../runners/types.js';
import { runApplyWorkflow, runPlanWorkflow } from '../../runners/workflow.js';
import type { StepVariables, WorkflowRun } from '../../runners/workflow.js';

const CONFIG = `
variable "v" {
  type    = string
  default = "hello"
}

resource "terraform_data" "x" {
  input = var.v
}
`;

export interface WorkflowProject {
  /** The temp dir of this test; the project is `project/` in it. */
  readonly tmp: string;
  readonly projectDir: string;
  readonly planFile: string;
  readonly masker: SecretMasker;
  /** Every live-output chunk of this test's runs, in order. */
  readonly chunks: string[];
  execCtx(): ExecContext;
  variables(): StepVariables;
  workflowRun(extra?: Partial<WorkflowRun>): WorkflowRun;
  plan(steps: readonly WorkflowStep[] | undefined, extra?: Partial<WorkflowRun>): Promise<PlanOutcome>;
  apply(steps: readonly WorkflowStep[] | undefined, extra?: Partial<WorkflowRun>): Promise<ApplyOutcome>;
}

export function useWorkflowProject(): WorkflowProject {
  let tmp = '';
  let masker = new SecretMasker();
  let chunks: string[] = [];

  beforeEach(async () => {
    tmp = await mkdtemp(path.join(tmpdir(), 'tideline-wf-'));
    await mkdir(path.join(tmp, 'project'), { recursive: true });
    await writeFile(path.join(tmp, 'project', 'main.tf'), CONFIG);
    masker = new SecretMasker();
    chunks = [];
  });

  afterEach(async () => {
    await rm(tmp, { recursive: true, force: true });
  });

  const project: WorkflowProject = {
    get tmp() {
      return tmp;
    },
    get projectDir() {
      return path.join(tmp, 'project');
    },
    get planFile() {
      return path.join(tmp, 'plans', 'project.tfplan');
    },
    get masker() {
      return masker;
    },
    get chunks() {
      return chunks;
    },
    execCtx(): ExecContext {
      const baseEnv = {
        PATH: process.env.PATH ?? '',
        HOME: tmp,
        TF_CLI_CONFIG_FILE: '/dev/null',
        // Runner-owned: a run step's terraform must not see them any more than the runner's.
        TF_WORKSPACE: 'hijacked',
        TF_DATA_DIR: path.join(tmp, 'elsewhere'),
      };
      return { baseEnv, masker };
    },
    variables(): StepVariables {
      return {
        WORKSPACE: 'default',
        DIR: project.projectDir,
        PLANFILE: project.planFile,
        SHOWFILE: path.join(tmp, 'plans', 'project.json'),
        BASE_REPO_NAME: 'infra',
        BASE_REPO_OWNER: 'acme',
        HEAD_REPO_NAME: 'infra',
        HEAD_REPO_OWNER: 'acme',
        HEAD_BRANCH_NAME: 'feature',
        HEAD_COMMIT: '0123456789abcdef0123456789abcdef01234567',
        BASE_BRANCH_NAME: 'main',
        PROJECT_NAME: 'project',
        PULL_NUM: '42',
        PULL_URL: 'https://github.com/acme/infra/pull/42',
        PULL_AUTHOR: 'octocat',
        REPO_REL_DIR: 'project',
        USER_NAME: 'hubot',
        COMMENT_ARGS: '',
      };
    },
    workflowRun(extra: Partial<WorkflowRun> = {}): WorkflowRun {
      return {
        projectDir: project.projectDir,
        workspace: 'default',
        extraArgs: [],
        planFile: project.planFile,
        variables: project.variables(),
        onOutput: (chunk) => chunks.push(chunk),
        ...extra,
      };
    },
    plan(steps, extra = {}) {
      return runPlanWorkflow(terraform(), project.execCtx(), steps, project.workflowRun(extra));
    },
    apply(steps, extra = {}) {
      return runApplyWorkflow(terraform(), project.execCtx(), steps, project.workflowRun(extra));
    },
  };

  function terraform(): TerraformRunner {
    return new TerraformRunner({ bin: 'terraform', exec: project.execCtx() });
  }

  return project;
}

export const init = (extraArgs: string[] = []): WorkflowStep => ({ kind: 'init', extraArgs });
export const planStep = (extraArgs: string[] = []): WorkflowStep => ({ kind: 'plan', extraArgs });
export const applyStep = (extraArgs: string[] = []): WorkflowStep => ({ kind: 'apply', extraArgs });

export function run(command: string, opts: Partial<Extract<WorkflowStep, { kind: 'run' }>> = {}): WorkflowStep {
  return { kind: 'run', command, ...opts };
}

export function env(name: string, opts: { value?: string; command?: string; shell?: string }): WorkflowStep {
  return { kind: 'env', name, ...opts };
}

export async function exists(file: string): Promise<boolean> {
  return stat(file).then(
    () => true,
    () => false,
  );
}
