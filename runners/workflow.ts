// Custom workflows (Atlantis's `workflows:`): a project's plan or apply stage runs as a list of
// steps — terraform's own `init`, `plan`, `apply`, `run` commands and `env` variables — instead
// of the runner's fixed sequence. `show` writes the plan's JSON to $SHOWFILE, as in Atlantis
// only when asked: `show -json` loads every provider's schema, seconds for a large provider.
// Without steps a stage is exactly TerraformRunner.plan/apply.
// Every child goes through `exec.ts`: argv arrays, the allow-listed base env plus only what a
// step is given (ctx.env, the step variables, earlier `env` steps), a timeout, masked output.

import path from 'node:path';
import type { ExecContext } from './exec.js';
import {
  NO_EXIT_CODE,
  parsePlanSummary,
  planSaysNoChanges,
  preparePlanFile,
  showFilePath,
  refuseExtraArgs,
  refuseWorkspace,
  withoutRunnerOwnedVars,
} from './terraform.js';
import { stepVariableEnv } from './step-variables.js';
import { envStep, multiEnvStep, runCommandStep } from './workflow-commands.js';
import type { Stage, StageName, StepFailure } from './workflow-stage.js';
import { elapsed, exists, type TerraformRunner, type TerraformStepResult } from './terraform.js';
import type {
  ApplyOutcome,
  ChangeSummary,
  PlanOutcome,
  RunContext,
  StepVariables,
  WorkflowRun,
  WorkflowStep,
} from './types.js';

export type { StepVariables, WorkflowRun } from './types.js';

export { stripRefreshing } from './refresh-noise.js';
export { commentArgsVariable } from './step-variables.js';

export { DEFAULT_RUN_STEP_TIMEOUT_MS } from './workflow-commands.js';

/** Environment variable names a shell accepts (an `=` would corrupt the env block). */
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;


/**
 * Runs a plan stage. No steps (undefined or []) is exactly `tf.plan(run, run.planFile)`.
 * With steps: each runs in order and the first failure stops the stage with an error naming
 * it. `init` = init ...extraArgs; `plan` = workspace select + plan -detailed-exitcode
 * -out=<planFile> ...extraArgs ...run.extraArgs; `run` = `<shell> ...shellArgs <command>`
 * (default `sh -c`) in the project dir; `env` sets a variable for later steps. The result comes from the last `plan`
 * step's exit code; without one (e.g. terragrunt in `run` steps) from the plan file the
 * steps left at $PLANFILE and the `No changes.` / `Plan:` lines they printed.
 */
export async function runPlanWorkflow(
  tf: TerraformRunner,
  execCtx: ExecContext,
  steps: readonly WorkflowStep[] | undefined,
  run: WorkflowRun,
): Promise<PlanOutcome> {
  if (steps === undefined || steps.length === 0) return tf.plan(run, run.planFile);
  const started = performance.now();
  const stage = newStage('plan', tf, execCtx, run);
  const fail = (output: string, exitCode: number): PlanOutcome => ({
    result: 'error',
    summary: null,
    output: execCtx.masker.mask(output),
    exitCode,
    durationMs: elapsed(started),
  });

  const refusal = refuseStage(stage, steps) ?? (await preparePlanFile(stage.planPath));
  if (refusal !== null) return fail(refusal, NO_EXIT_CODE);
  const failure = await runSteps(stage, steps);
  if (failure !== null) return fail(failure.output, failure.exitCode);

  const output = execCtx.masker.mask(joinOutputs(stage.shown));
  const done = { output, durationMs: elapsed(started) };
  const zeros: ChangeSummary = { add: 0, change: 0, destroy: 0 };
  if (stage.plan !== null) {
    const noChanges = stage.plan.exitCode === 0;
    return {
      result: noChanges ? 'no-changes' : 'changes',
      summary: parsePlanSummary(stage.plan.output) ?? (noChanges ? zeros : null),
      planFile: stage.planPath,
      exitCode: stage.plan.exitCode,
      ...done,
    };
  }
  // A custom plan (terragrunt, a wrapper script): terraform writes a plan file with or
  // without changes, so the file alone does not say which; the printed lines do.
  const printed = joinOutputs(stage.full);
  const noChanges = planSaysNoChanges(printed);
  if (await exists(stage.planPath)) {
    const result = noChanges ? 'no-changes' : 'changes';
    const summary = parsePlanSummary(printed);
    return { result, summary, planFile: stage.planPath, exitCode: stage.exitCode, ...done };
  }
  if (noChanges) return { result: 'no-changes', summary: zeros, exitCode: stage.exitCode, ...done };
  const message =
    `the workflow produced no plan file at ${stage.planPath} ($PLANFILE): a plan stage ` +
    'without a plan step must write one, e.g. `run: terraform plan -out=$PLANFILE`';
  return fail(output === '' ? message : `${message}\n\n${output}`, NO_EXIT_CODE);
}

/**
 * Runs an apply stage. No steps (undefined or []) is exactly `tf.apply(run, run.planFile)`.
 * With steps: as a plan stage; `apply` = init when `.terraform` is missing + workspace select
 * + apply ...extraArgs ...run.extraArgs <planFile>. 'applied' when every step succeeded.
 */
export async function runApplyWorkflow(
  tf: TerraformRunner,
  execCtx: ExecContext,
  steps: readonly WorkflowStep[] | undefined,
  run: WorkflowRun,
): Promise<ApplyOutcome> {
  if (steps === undefined || steps.length === 0) return tf.apply(run, run.planFile);
  const started = performance.now();
  const stage = newStage('apply', tf, execCtx, run);
  const fail = (output: string, exitCode: number): ApplyOutcome => ({
    result: 'error',
    output: execCtx.masker.mask(output),
    exitCode,
    durationMs: elapsed(started),
  });

  const refusal = refuseStage(stage, steps);
  if (refusal !== null) return fail(refusal, NO_EXIT_CODE);
  const failure = await runSteps(stage, steps);
  if (failure !== null) return fail(failure.output, failure.exitCode);
  return {
    result: 'applied',
    output: execCtx.masker.mask(joinOutputs(stage.shown)),
    exitCode: stage.exitCode,
    durationMs: elapsed(started),
  };
}

function newStage(
  name: StageName,
  tf: TerraformRunner,
  execCtx: ExecContext,
  run: WorkflowRun,
): Stage {
  const planPath = path.resolve(run.projectDir, run.planFile);
  const variables = stepVariableEnv(run.variables);
  // The run's own fields are the truth for the variables that describe it.
  variables.WORKSPACE = run.workspace;
  variables.DIR = run.projectDir;
  variables.PLANFILE = planPath;
  const showPath = showFilePath(planPath);
  variables.SHOWFILE = showPath;
  const exec = { baseEnv: withoutRunnerOwnedVars(execCtx.baseEnv), masker: execCtx.masker };
  return {
    name, tf, exec, run, planPath, showPath, variables, env: {}, shown: [], full: [], plan: null, exitCode: 0,
  };
}

/** Everything that can be refused before any step runs, so a refusal changes nothing. */
function refuseStage(stage: Stage, steps: readonly WorkflowStep[]): string | null {
  const general = refuseWorkspace(stage.run.workspace) ?? refuseExtraArgs(stage.run.extraArgs);
  if (general !== null) return general;
  for (const [index, step] of steps.entries()) {
    const problem = refuseStep(stage.name, step);
    if (problem !== null) return `${stepLabel(step, index, steps.length)}: ${problem}`;
  }
  return null;
}

function refuseStep(stage: StageName, step: WorkflowStep): string | null {
  switch (step.kind) {
    case 'init':
      return refuseExtraArgs(step.extraArgs);
    case 'plan':
      if (stage === 'apply') {
        return 'a plan step cannot run in an apply stage: apply applies the plan that was reviewed';
      }
      return refuseExtraArgs(step.extraArgs);
    case 'apply':
      if (stage === 'plan') return 'an apply step cannot run in a plan stage';
      return refuseExtraArgs(step.extraArgs);
    case 'run':
      return null;
    case 'env':
      if (!ENV_NAME.test(step.name)) {
        return `invalid variable name ${JSON.stringify(step.name)}: use letters, digits and "_"`;
      }
      if ((step.value === undefined) === (step.command === undefined)) {
        return 'an env step needs either value or command, not both';
      }
      return null;
    case 'multienv':
    case 'show':
      return null;
  }
}

async function runSteps(stage: Stage, steps: readonly WorkflowStep[]): Promise<StepFailure | null> {
  for (const [index, step] of steps.entries()) {
    const failure = await runStep(stage, step);
    if (failure !== null) {
      const label = stepLabel(step, index, steps.length);
      return { output: `${label}${failure.output}`, exitCode: failure.exitCode };
    }
  }
  return null;
}

/** Runs one step; a failure's output continues the step's label (` failed …` / `: …`). */
async function runStep(stage: Stage, step: WorkflowStep): Promise<StepFailure | null> {
  const ctx = terraformContext(stage);
  switch (step.kind) {
    case 'init':
      // Init's output is shown only when it fails, as in Atlantis: otherwise it is noise.
      return terraformSteps(stage, [() => stage.tf.init(ctx, step.extraArgs)], false);
    case 'plan': {
      const planStep = async (): Promise<TerraformStepResult> => {
        stage.plan = await stage.tf.planStep(ctx, stage.planPath, step.extraArgs);
        return stage.plan;
      };
      return terraformSteps(stage, [() => stage.tf.selectWorkspace(ctx), planStep], true);
    }
    case 'apply':
      return terraformSteps(stage, [
        () => stage.tf.initIfMissing(ctx),
        () => stage.tf.selectWorkspace(ctx),
        () => stage.tf.applyStep(ctx, stage.planPath, step.extraArgs),
      ], true);
    case 'show':
      // Data for later steps, not for the reply (Atlantis would print the JSON into it).
      return terraformSteps(stage, [() => stage.tf.showStep(ctx, stage.planPath, stage.showPath)], false);
    case 'run':
      return runCommandStep(stage, step);
    case 'env':
      return envStep(stage, step);
    case 'multienv':
      return multiEnvStep(stage, step);
  }
}

/** Terraform calls in order; the last one's output is the step's (shown when `show`). */
async function terraformSteps(
  stage: Stage,
  calls: readonly (() => Promise<TerraformStepResult>)[],
  show: boolean,
): Promise<StepFailure | null> {
  let last: TerraformStepResult | null = null;
  for (const call of calls) {
    last = await call();
    if (!last.ok) return { output: `: ${last.output}`, exitCode: last.exitCode };
  }
  if (last === null) return null;
  stage.full.push(last.output);
  if (show) stage.shown.push(last.output);
  stage.exitCode = last.exitCode;
  return null;
}

/** The RunContext terraform steps see: ctx.env plus the variables of earlier `env` steps. */
function terraformContext(stage: Stage): RunContext {
  const { run } = stage;
  return {
    projectDir: run.projectDir,
    workspace: run.workspace,
    extraArgs: run.extraArgs,
    env: { ...run.env, ...stage.env },
    ...(run.onOutput === undefined ? {} : { onOutput: run.onOutput }),
  };
}

/** `step 2 of 4 (run: echo hi)`: how an error names a step. */
function stepLabel(step: WorkflowStep, index: number, count: number): string {
  const what =
    step.kind === 'run' ? `run: ${oneLine(step.command)}`
    : step.kind === 'env' ? `env: ${step.name}`
    : step.kind === 'multienv' ? `multienv: ${oneLine(step.command)}`
    : step.kind;
  return `step ${index + 1} of ${count} (${what})`;
}

/** The first line of a command, at most 80 characters; `…` when there is more. */
function oneLine(command: string): string {
  const text = command.trim();
  const first = (text.split('\n')[0] ?? '').slice(0, 80);
  return first.length < text.length ? `${first.trimEnd()} …` : first;
}

function joinOutputs(parts: readonly string[]): string {
  return parts
    .filter((part) => part !== '')
    .map((part) => (part.endsWith('\n') ? part : `${part}\n`))
    .join('');
}

