// One stage of a custom workflow as its steps see it (workflow.ts runs the stage,
// workflow-commands.ts its `run`, `env` and `multienv` steps).

import type { ExecContext } from './exec.js';
import type { TerraformRunner, TerraformStepResult } from './terraform.js';
import type { WorkflowRun } from './types.js';

export type StageName = 'plan' | 'apply';

/** One stage's run, passed explicitly from step to step. */
export interface Stage {
  readonly name: StageName;
  readonly tf: TerraformRunner;
  /** The caller's exec context with the runner-owned TF_* variables removed, as terraform's. */
  readonly exec: ExecContext;
  readonly run: WorkflowRun;
  readonly planPath: string;
  /** $SHOWFILE: where a `show` step writes the plan's JSON. */
  readonly showPath: string;
  readonly variables: Readonly<Record<string, string>>;
  /** Variables set by this stage's `env` steps so far. */
  readonly env: Record<string, string>;
  /** Output for the comment, per step. */
  readonly shown: string[];
  /** Everything the steps printed, hidden steps included (plan detection reads it). */
  readonly full: string[];
  /** The last `plan` step's result, when one ran. */
  plan: TerraformStepResult | null;
  exitCode: number;
}

export interface StepFailure {
  output: string;
  exitCode: number;
}
