// Terraform runner: init → workspace select → plan / apply of one project directory, through
// the one door to child processes (`exec.ts`). Always `-input=false -no-color` and
// TF_IN_AUTOMATION=1 (as Atlantis does). Terraform failures never throw: they come back as an
// outcome with result 'error' and the masked output of the step that failed, named.

import { mkdir, readFile, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { displayCommand, exec, ExecError, formatDuration } from './exec.js';
import type { ExecContext, ExecResult } from './exec.js';
import type { ApplyOutcome, ChangeSummary, PlanOutcome, RunContext } from './types.js';

export interface TerraformTimeouts {
  initMs?: number;
  planMs?: number;
  applyMs?: number;
}

export interface TerraformOptions {
  bin: string;
  exec: ExecContext;
  timeouts?: TerraformTimeouts;
}

export const DEFAULT_TERRAFORM_TIMEOUTS: Readonly<Required<TerraformTimeouts>> = {
  initMs: 10 * 60_000,
  planMs: 30 * 60_000,
  applyMs: 60 * 60_000,
};

/** `exitCode` of an outcome when terraform gave none: refused before running, could not
 * start, or killed (timeout, output cap). */
export const NO_EXIT_CODE = -1;

/**
 * Extra-argument flags refused because they would make terraform read or write files the
 * runner does not choose (outside the project, or instead of the plan file it owns). Matched
 * on the flag name, so `-out=x`, `--out=x` and `-out x` are all refused. Kept short on
 * purpose: everything else (-target, -var, -var-file, -parallelism, -refresh=false, …) is the
 * commenter's business, as in Atlantis.
 */
const REFUSED_FLAGS: ReadonlyMap<string, string> = new Map([
  ['chdir', 'Tideline runs terraform in the project directory'],
  ['out', 'Tideline owns the plan file path'],
  ['state', 'state stays where the backend keeps it'],
  ['state-out', 'state stays where the backend keeps it'],
  ['backup', 'state backups stay where the backend keeps them'],
  ['generate-config-out', 'it writes generated configuration to a path of its own'],
]);

/**
 * Variables the runner owns, removed from the base env and from `ctx.env`:
 * TF_WORKSPACE (the workspace is chosen by `workspace select`, and terraform refuses to
 * select while it is set), TF_DATA_DIR (`.terraform` stays inside the project dir), and
 * TF_CLI_ARGS / TF_CLI_ARGS_<cmd> (they would bypass the refusal list above).
 */
function isRunnerOwnedVar(name: string): boolean {
  return (
    name === 'TF_WORKSPACE' ||
    name === 'TF_DATA_DIR' ||
    name === 'TF_CLI_ARGS' ||
    name.startsWith('TF_CLI_ARGS_')
  );
}

function withoutRunnerOwnedVars(
  env: Readonly<Record<string, string>> | undefined,
): Record<string, string> {
  const kept: Record<string, string> = {};
  for (const [name, value] of Object.entries(env ?? {})) {
    if (!isRunnerOwnedVar(name)) kept[name] = value;
  }
  return kept;
}

/** Letters, digits, `_`, `.`, `-`, not starting with `-` or `.` (so never a flag or `..`). */
const WORKSPACE_NAME = /^[A-Za-z0-9_][A-Za-z0-9_.-]*$/;

type Step = 'init' | 'workspace select' | 'plan' | 'apply';

interface StepFailure {
  failed: true;
  output: string;
  exitCode: number;
}

const PLAN_LINE =
  /Plan: (?:(\d+) to import, )?(\d+) to add, (\d+) to change, (\d+) to destroy/g;
const NO_CHANGES_LINE = /^\s*No changes\./m;
const ANSI_ESCAPE = /\u001b\[[0-9;]*m/g;

/** The workspace terraform would use in `projectDir`: `.terraform/environment`, else `default`. */
async function selectedWorkspace(projectDir: string): Promise<string> {
  try {
    const name = (await readFile(path.join(projectDir, '.terraform', 'environment'), 'utf8')).trim();
    return name === '' ? 'default' : name;
  } catch {
    return 'default';
  }
}

/**
 * `Plan: 1 to add, 0 to change, 0 to destroy.` → counts; `No changes.` → zeros; also
 * handles the `N to import, ` and `, N to forget` variants; null when absent (e.g. a plan
 * that only changes outputs). When several plan lines appear, the last one wins.
 */
export function parsePlanSummary(output: string): ChangeSummary | null {
  const text = output.replace(ANSI_ESCAPE, '');
  let summary: ChangeSummary | null = null;
  for (const match of text.matchAll(PLAN_LINE)) {
    summary = { add: Number(match[2]), change: Number(match[3]), destroy: Number(match[4]) };
  }
  if (summary !== null) return summary;
  return NO_CHANGES_LINE.test(text) ? { add: 0, change: 0, destroy: 0 } : null;
}

/** The first refused extra argument, as a message naming it and why; null when all are fine. */
export function refuseExtraArgs(extraArgs: readonly string[]): string | null {
  for (const arg of extraArgs) {
    const flag = /^--?([A-Za-z][\w-]*)(?:=|$)/.exec(arg)?.[1];
    if (flag === undefined) continue;
    const reason = REFUSED_FLAGS.get(flag);
    if (reason !== undefined) {
      return `extra argument -${flag} is not allowed: ${reason}`;
    }
  }
  return null;
}

function refuseWorkspace(workspace: string): string | null {
  if (WORKSPACE_NAME.test(workspace)) return null;
  return (
    `invalid workspace name ${JSON.stringify(workspace)}: ` +
    'use letters, digits, "_", "." and "-", starting with a letter, digit or "_"'
  );
}

function failureHeader(step: Step, error: ExecError, timeoutMs: number): string {
  if (error.timedOut) return `terraform ${step} timed out after ${formatDuration(timeoutMs)}`;
  if (error.outputCapped) return `terraform ${step} was killed: its output exceeded the cap`;
  if (error.exitCode === null && error.signal === null) return error.message;
  if (error.exitCode === null) return `terraform ${step} was killed by ${error.signal}`;
  return `terraform ${step} failed with exit code ${error.exitCode}`;
}

async function exists(file: string): Promise<boolean> {
  try {
    await stat(file);
    return true;
  } catch {
    return false;
  }
}

function elapsed(started: number): number {
  return Math.round(performance.now() - started);
}

export class TerraformRunner {
  readonly kind = 'terraform' as const;
  readonly #bin: string;
  readonly #exec: ExecContext;
  readonly #timeouts: Readonly<Required<TerraformTimeouts>>;

  constructor(opts: TerraformOptions) {
    this.#bin = opts.bin;
    this.#exec = { baseEnv: withoutRunnerOwnedVars(opts.exec.baseEnv), masker: opts.exec.masker };
    this.#timeouts = { ...DEFAULT_TERRAFORM_TIMEOUTS, ...opts.timeouts };
  }

  /**
   * `init -input=false -no-color`; `workspace select -or-create=true <ws>` (always, also for
   * `default`); `plan -input=false -no-color -detailed-exitcode -out=<planFile> ...extraArgs`.
   * A relative planFile is taken relative to the project dir. Any earlier file at that path
   * is removed first, so a failed plan never leaves an old plan behind to be applied.
   */
  async plan(ctx: RunContext, planFile: string): Promise<PlanOutcome> {
    const started = performance.now();
    const planPath = path.resolve(ctx.projectDir, planFile);
    const refusal = refuseExtraArgs(ctx.extraArgs) ?? refuseWorkspace(ctx.workspace);
    if (refusal !== null) return this.#planError(refusal, NO_EXIT_CODE, started);

    try {
      await rm(planPath, { force: true });
      await mkdir(path.dirname(planPath), { recursive: true });
    } catch (error: unknown) {
      const reason = error instanceof Error ? error.message : String(error);
      const message = `cannot prepare plan file ${planPath}: ${reason}`;
      return this.#planError(message, NO_EXIT_CODE, started);
    }

    const init = await this.#init(ctx);
    if ('failed' in init) return this.#planError(init.output, init.exitCode, started);
    const select = await this.#selectWorkspace(ctx);
    if ('failed' in select) return this.#planError(select.output, select.exitCode, started);

    const planArgs = [
      'plan', '-input=false', '-no-color', '-detailed-exitcode', `-out=${planPath}`,
      ...ctx.extraArgs,
    ];
    const plan = await this.#step(ctx, 'plan', planArgs, this.#timeouts.planMs, [0, 2]);
    if ('failed' in plan) return this.#planError(plan.output, plan.exitCode, started);

    const noChanges = plan.exitCode === 0;
    const zeros: ChangeSummary = { add: 0, change: 0, destroy: 0 };
    return {
      result: noChanges ? 'no-changes' : 'changes',
      // Null for a plan that only changes outputs: terraform prints no `Plan:` line then.
      summary: parsePlanSummary(plan.output) ?? (noChanges ? zeros : null),
      output: plan.output,
      planFile: planPath,
      exitCode: plan.exitCode,
      durationMs: elapsed(started),
    };
  }

  /**
   * `apply -input=false -no-color ...extraArgs <planFile>` in ctx.projectDir, the workspace
   * selected first (and `init` first when the project has no `.terraform` dir, e.g. a fresh
   * checkout). Extra args pass the same refusal list as plan.
   */
  async apply(ctx: RunContext, planFile: string): Promise<ApplyOutcome> {
    const started = performance.now();
    const planPath = path.resolve(ctx.projectDir, planFile);
    const refusal = refuseExtraArgs(ctx.extraArgs) ?? refuseWorkspace(ctx.workspace);
    if (refusal !== null) return this.#applyError(refusal, NO_EXIT_CODE, started);
    if (!(await exists(planPath))) {
      const message = `plan file ${planPath} not found: run plan first`;
      return this.#applyError(message, NO_EXIT_CODE, started);
    }

    if (!(await exists(path.join(ctx.projectDir, '.terraform')))) {
      const init = await this.#init(ctx);
      if ('failed' in init) return this.#applyError(init.output, init.exitCode, started);
    }
    const select = await this.#selectWorkspace(ctx);
    if ('failed' in select) return this.#applyError(select.output, select.exitCode, started);

    const applyArgs = ['apply', '-input=false', '-no-color', ...ctx.extraArgs, planPath];
    const apply = await this.#step(ctx, 'apply', applyArgs, this.#timeouts.applyMs);
    if ('failed' in apply) return this.#applyError(apply.output, apply.exitCode, started);
    return {
      result: 'applied',
      output: apply.output,
      exitCode: apply.exitCode,
      durationMs: elapsed(started),
    };
  }

  #init(ctx: RunContext): Promise<ExecResult | StepFailure> {
    return this.#step(ctx, 'init', ['init', '-input=false', '-no-color'], this.#timeouts.initMs);
  }

  async #selectWorkspace(ctx: RunContext): Promise<ExecResult | StepFailure> {
    // Terraform keeps the selected workspace in .terraform/environment and means `default`
    // when the file is absent: selecting `default` then is a no-op worth a process start.
    if (ctx.workspace === 'default' && (await selectedWorkspace(ctx.projectDir)) === 'default') {
      const display = displayCommand(this.#bin, ['workspace', 'select', 'default']);
      return { exitCode: 0, stdout: '', stderr: '', output: '', durationMs: 0, display };
    }
    const args = ['workspace', 'select', '-or-create=true', ctx.workspace];
    return this.#step(ctx, 'workspace select', args, this.#timeouts.initMs);
  }

  /** One terraform call; an ExecError becomes a StepFailure whose output names the step. */
  async #step(
    ctx: RunContext,
    step: Step,
    args: string[],
    timeoutMs: number,
    okExitCodes: readonly number[] = [0],
  ): Promise<ExecResult | StepFailure> {
    const env = {
      ...withoutRunnerOwnedVars(ctx.env),
      TF_IN_AUTOMATION: '1',
      TF_INPUT: '0',
    };
    try {
      return await exec(this.#exec, {
        file: this.#bin,
        args,
        cwd: ctx.projectDir,
        env,
        timeoutMs,
        okExitCodes,
        ...(ctx.onOutput === undefined ? {} : { onOutput: ctx.onOutput }),
      });
    } catch (error: unknown) {
      if (!(error instanceof ExecError)) throw error;
      const body = error.output.trimEnd();
      const header = failureHeader(step, error, timeoutMs);
      return {
        failed: true,
        output: body === '' ? `${header}\n` : `${header}:\n\n${body}\n`,
        exitCode: error.exitCode ?? NO_EXIT_CODE,
      };
    }
  }

  #planError(output: string, exitCode: number, started: number): PlanOutcome {
    return {
      result: 'error',
      summary: null,
      output: this.#exec.masker.mask(output),
      exitCode,
      durationMs: elapsed(started),
    };
  }

  #applyError(output: string, exitCode: number, started: number): ApplyOutcome {
    return {
      result: 'error',
      output: this.#exec.masker.mask(output),
      exitCode,
      durationMs: elapsed(started),
    };
  }
}
