// The steps of a custom workflow that run a command of the repository's own: `run`, `env` and
// `multienv`. Each is `<shell> ...shellArgs <command>` through exec.ts (an argv array, no shell
// around it), in the project dir, with the allow-listed env, the step variables and what
// earlier `env` steps set; never the runner-owned TF_* variables or the GitHub token.

import { describeFailure, exec, ExecError } from './exec.js';
import type { ExecResult } from './exec.js';
import { parseMultiEnv } from './multienv.js';
import { stripRefreshing } from './refresh-noise.js';
import { NO_EXIT_CODE, withoutRunnerOwnedVars } from './terraform.js';
import type { WorkflowStep } from './types.js';
import type { Stage, StepFailure } from './workflow-stage.js';

export const DEFAULT_RUN_STEP_TIMEOUT_MS = 30 * 60_000;

const ANSI_ESCAPE = /\u001b\[[0-9;?]*[A-Za-z]/g;

export async function runCommandStep(
  stage: Stage,
  step: Extract<WorkflowStep, { kind: 'run' }>,
): Promise<StepFailure | null> {
  const result = await runCommand(stage, step.command, step, true);
  const mode = step.output ?? 'show';
  // Atlantis's custom_regex outputs redact every match of regex_filter from what the PR shows.
  const redact = (mode === 'custom_regex' || mode === 'strip_refreshing_with_custom_regex') && step.regexFilter !== undefined ? new RegExp(step.regexFilter, 'g') : null;
  const filter = (text: string): string => {
    const stripped = mode === 'strip_refreshing' || mode === 'strip_refreshing_with_custom_regex' ? stripRefreshing(text) : text;
    return redact === null ? stripped : stripped.replace(redact, '<redacted>');
  };
  if (result instanceof ExecError) {
    // As in Atlantis, a failing step's output is part of the error even with `output: hide`:
    // it is what explains the failure (and it is masked like everything else).
    return commandFailure(result, filter(stripAnsi(result.output)), stage);
  }
  const text = stripAnsi(result.output);
  stage.full.push(text);
  if (mode !== 'hide') stage.shown.push(filter(text));
  stage.exitCode = result.exitCode;
  return null;
}

export async function envStep(
  stage: Stage,
  step: Extract<WorkflowStep, { kind: 'env' }>,
): Promise<StepFailure | null> {
  if (step.value !== undefined) {
    stage.env[step.name] = step.value;
    return null;
  }
  // Not streamed (a value, not a log line), as in Atlantis. Its stdout is masked like all
  // output: a command that prints a registered secret yields `***`, never the secret.
  const result = await runCommand(stage, step.command ?? '', step, false);
  if (result instanceof ExecError) return commandFailure(result, stripAnsi(result.output), stage);
  stage.env[step.name] = result.stdout.trim();
  return null;
}

/**
 * Atlantis's multienv: the pairs the command prints are set for the later steps, and the reply
 * lists their names (never the values) unless `output: hide`. Output it cannot read fails the
 * stage, as in Atlantis: the steps after it would run without the variables they expect.
 */
export async function multiEnvStep(
  stage: Stage,
  step: Extract<WorkflowStep, { kind: 'multienv' }>,
): Promise<StepFailure | null> {
  const result = await runCommand(stage, step.command, step, false);
  if (result instanceof ExecError) return commandFailure(result, stripAnsi(result.output), stage);
  const parsed = parseMultiEnv(stripAnsi(result.stdout));
  if (!parsed.ok) return { output: `: ${parsed.message}`, exitCode: NO_EXIT_CODE };
  for (const [name, value] of parsed.vars) stage.env[name] = value;
  const listed = parsed.vars.length === 0
    ? 'No dynamic environment variable added'
    : ['Dynamic environment variables added:', ...parsed.vars.map(([name]) => name)].join('\n');
  if (step.output !== 'hide') stage.shown.push(listed);
  return null;
}

/** `<shell> ...shellArgs <command>` in the project dir: an argv array, no shell around it. */
async function runCommand(
  stage: Stage,
  command: string,
  spec: { shell?: string; shellArgs?: string[] },
  stream: boolean,
): Promise<ExecResult | ExecError> {
  const { run } = stage;
  try {
    return await exec(stage.exec, {
      file: spec.shell ?? 'sh',
      args: [...(spec.shellArgs ?? ['-c']), command],
      cwd: run.projectDir,
      env: { ...withoutRunnerOwnedVars(run.env), ...stage.variables, ...stage.env },
      timeoutMs: run.runTimeoutMs ?? DEFAULT_RUN_STEP_TIMEOUT_MS,
      ...(stream && run.onOutput !== undefined ? { onOutput: run.onOutput } : {}),
      ...(run.signal === undefined ? {} : { signal: run.signal }),
    });
  } catch (error: unknown) {
    if (error instanceof ExecError) return error;
    throw error;
  }
}

function commandFailure(error: ExecError, body: string, stage: Stage): StepFailure {
  const timeoutMs = stage.run.runTimeoutMs ?? DEFAULT_RUN_STEP_TIMEOUT_MS;
  const how = describeFailure(error, timeoutMs);
  const trimmed = body.trimEnd();
  const output = trimmed === '' ? ` ${how}\n` : ` ${how}:\n\n${trimmed}\n`;
  return { output, exitCode: error.exitCode ?? NO_EXIT_CODE };
}

export function stripAnsi(text: string): string {
  return text.replace(ANSI_ESCAPE, '');
}
