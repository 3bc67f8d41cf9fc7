// Terraform runner: init → workspace select → plan / apply of one project directory, through
// the one door to child processes (`exec.ts`). Always `-input=false -no-color` and
// TF_IN_AUTOMATION=1 (as Atlantis does). Terraform failures never throw: they come back as an
// outcome with result 'error' and the masked output of the step that failed, named.
// In a directory this runner has initialised before, a plan skips `init`: terraform itself
// refuses to plan when the configuration needs init again (backend, module or provider
// changes), and then the runner runs init and plans once more.
// The single steps (`init`, `selectWorkspace`, `planStep`, `applyStep`) are public so custom
// workflows (`workflow.ts`) can run them in their own order.

import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { exec, ExecError, formatDuration } from './exec.js';
import type { ExecContext, ExecResult } from './exec.js';
import { exists, preparePlanFile } from './plan-files.js';
import { refuseExtraArgs, refuseWorkspace, withoutRunnerOwnedVars } from './terraform-guards.js';
import { parsePlanSummary } from './terraform-output.js';
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
  /**
   * Terraform's shared provider plugin cache (`TF_PLUGIN_CACHE_DIR`), given to every call:
   * a provider is downloaded once, and every working tree links to it. With it, one `init`
   * runs at a time, because terraform's installer is not safe against concurrent inits on one
   * cache (hashicorp/terraform#31964); plans and applies still run side by side.
   */
  pluginCacheDir?: string;
  /**
   * `-lock-timeout` of every plan and apply, ahead of any extra args (a later one wins):
   * a drift sweep's plan of the same state then holds a pull request's plan back for a while
   * instead of failing it with "Error acquiring the state lock". Terraform's own default is 0s.
   */
  lockTimeout?: string;
}

export const DEFAULT_TERRAFORM_TIMEOUTS: Readonly<Required<TerraformTimeouts>> = {
  initMs: 10 * 60_000,
  planMs: 30 * 60_000,
  applyMs: 60 * 60_000,
};

/** `show -json` of a plan of thousands of resources runs to tens of megabytes on one line. */
const SHOW_MAX_OUTPUT_BYTES = 256 * 1024 * 1024;

/** `exitCode` of an outcome when terraform gave none: refused before running, could not
 * start, or killed (timeout, output cap). */
export const NO_EXIT_CODE = -1;

export { refuseExtraArgs, refuseWorkspace, withoutRunnerOwnedVars } from './terraform-guards.js';
export { parsePlanSummary, planSaysNoChanges } from './terraform-output.js';
export { exists, preparePlanFile, showFilePath } from './plan-files.js';

type Step = 'init' | 'workspace select' | 'plan' | 'apply' | 'show';

interface StepFailure {
  failed: true;
  output: string;
  exitCode: number;
}

/** What one public step (one terraform call, or a refusal before it) came to. */
export interface TerraformStepResult {
  ok: boolean;
  /** Masked. On failure it starts with a line naming the terraform command and how it failed. */
  output: string;
  /** Terraform's exit code (0 or 2 for a plan that succeeded), or NO_EXIT_CODE. */
  exitCode: number;
  durationMs: number;
}

/** How terraform says a directory must be initialised again (backend, module, provider or
 * lock file changes): every such error tells the user to run `terraform init`. */
const NEEDS_INIT = /terraform init/;
/** Written into `.terraform` after an init of ours succeeds there; removed before each init. */
export const INIT_MARKER = '.tideline-initialized';

/** The workspace terraform would use in `projectDir`: `.terraform/environment`, else `default`. */
async function selectedWorkspace(projectDir: string): Promise<string> {
  try {
    const name = (await readFile(path.join(projectDir, '.terraform', 'environment'), 'utf8')).trim();
    return name === '' ? 'default' : name;
  } catch {
    return 'default';
  }
}

function failureHeader(step: Step, error: ExecError, timeoutMs: number): string {
  if (error.timedOut) return `terraform ${step} timed out after ${formatDuration(timeoutMs)}`;
  if (error.outputCapped) return `terraform ${step} was killed: its output exceeded the cap`;
  if (error.exitCode === null && error.signal === null) return error.message;
  if (error.exitCode === null) return `terraform ${step} was killed by ${error.signal}`;
  return `terraform ${step} failed with exit code ${error.exitCode}`;
}

function planNotFound(planPath: string): string {
  return `plan file ${planPath} not found: run plan first`;
}

/** Whole milliseconds since `started` (a performance.now() reading). */
export function elapsed(started: number): number {
  return Math.round(performance.now() - started);
}

export class TerraformRunner {
  readonly kind = 'terraform' as const;
  readonly #bin: string;
  readonly #exec: ExecContext;
  readonly #timeouts: Readonly<Required<TerraformTimeouts>>;
  readonly #lockArgs: readonly string[];
  /** With a shared plugin cache: settles when the last init queued so far has finished. */
  #initsDone: Promise<void> | null;

  constructor(opts: TerraformOptions) {
    this.#bin = opts.bin;
    const cache = opts.pluginCacheDir === undefined ? {} : { TF_PLUGIN_CACHE_DIR: opts.pluginCacheDir };
    this.#exec = { baseEnv: { ...withoutRunnerOwnedVars(opts.exec.baseEnv), ...cache }, masker: opts.exec.masker };
    this.#timeouts = { ...DEFAULT_TERRAFORM_TIMEOUTS, ...opts.timeouts };
    this.#lockArgs = opts.lockTimeout === undefined ? [] : [`-lock-timeout=${opts.lockTimeout}`];
    this.#initsDone = opts.pluginCacheDir === undefined ? null : Promise.resolve();
  }

  /**
   * `init -input=false -no-color` (skipped where an init of this runner succeeded before,
   * unless terraform then asks for it); `workspace select -or-create=true <ws>` (skipped when
   * a no-op); `plan -input=false -no-color -detailed-exitcode -out=<planFile> ...extraArgs`.
   * A relative planFile is taken relative to the project dir. Any earlier file at that path
   * is removed first, so a failed plan never leaves an old plan behind to be applied.
   */
  async plan(ctx: RunContext, planFile: string): Promise<PlanOutcome> {
    const started = performance.now();
    const planPath = path.resolve(ctx.projectDir, planFile);
    const refusal = refuseExtraArgs(ctx.extraArgs) ?? refuseWorkspace(ctx.workspace);
    if (refusal !== null) return this.#planError(refusal, NO_EXIT_CODE, started);
    const unprepared = await preparePlanFile(planPath);
    if (unprepared !== null) return this.#planError(unprepared, NO_EXIT_CODE, started);

    // A warm directory plans at once; when terraform answers that it needs init first, the
    // runner says so in the live output, then runs init and plans again.
    const warm = await exists(path.join(ctx.projectDir, '.terraform', INIT_MARKER));
    let plan = await this.#initSelectPlan(ctx, planPath, !warm);
    if (warm && !plan.ok && plan.exitCode === 1 && NEEDS_INIT.test(plan.output)) {
      ctx.onOutput?.('\ntideline: terraform needs init again in this directory: running init, then planning again\n\n');
      plan = await this.#initSelectPlan(ctx, planPath, true);
    }
    if (!plan.ok) return this.#planError(plan.output, plan.exitCode, started);

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
      return this.#applyError(planNotFound(planPath), NO_EXIT_CODE, started);
    }

    const init = await this.initIfMissing(ctx);
    if (!init.ok) return this.#applyError(init.output, init.exitCode, started);
    const select = await this.selectWorkspace(ctx);
    if (!select.ok) return this.#applyError(select.output, select.exitCode, started);
    const apply = await this.applyStep(ctx, planPath, []);
    if (!apply.ok) return this.#applyError(apply.output, apply.exitCode, started);
    return {
      result: 'applied',
      output: apply.output,
      exitCode: apply.exitCode,
      durationMs: elapsed(started),
    };
  }

  /** `init -input=false -no-color ...extraArgs` (refused flags refused; ctx.extraArgs unused). */
  async init(ctx: RunContext, extraArgs: readonly string[]): Promise<TerraformStepResult> {
    const started = performance.now();
    const refusal = refuseExtraArgs(extraArgs);
    if (refusal !== null) return this.#refused(refusal, started);
    const args = ['init', '-input=false', '-no-color', ...extraArgs];
    const marker = path.join(ctx.projectDir, '.terraform', INIT_MARKER);
    await rm(marker, { force: true });
    const result = this.#stepResult(await this.#oneAtATime(() => this.#step(ctx, 'init', args, this.#timeouts.initMs)), started);
    // Only a plain init marks the directory: one with extra args (a custom workflow's
    // -backend-config, say) is that workflow's to repeat.
    if (result.ok && extraArgs.length === 0) {
      await mkdir(path.dirname(marker), { recursive: true })
        .then(() => writeFile(marker, ''))
        .catch(() => undefined);
    }
    return result;
  }

  /** `init` without extra args when the project has no `.terraform` dir (a fresh checkout). */
  async initIfMissing(ctx: RunContext): Promise<TerraformStepResult> {
    if (await exists(path.join(ctx.projectDir, '.terraform'))) {
      return { ok: true, output: '', exitCode: 0, durationMs: 0 };
    }
    return this.init(ctx, []);
  }

  /** `workspace select -or-create=true <ctx.workspace>`; skipped when it would be a no-op. */
  async selectWorkspace(ctx: RunContext): Promise<TerraformStepResult> {
    const started = performance.now();
    const refusal = refuseWorkspace(ctx.workspace);
    if (refusal !== null) return this.#refused(refusal, started);
    // Terraform keeps the selected workspace in .terraform/environment and means `default`
    // when the file is absent: selecting `default` then is a no-op worth a process start.
    if (ctx.workspace === 'default' && (await selectedWorkspace(ctx.projectDir)) === 'default') {
      return { ok: true, output: '', exitCode: 0, durationMs: 0 };
    }
    const args = ['workspace', 'select', '-or-create=true', ctx.workspace];
    const select = await this.#step(ctx, 'workspace select', args, this.#timeouts.initMs);
    return this.#stepResult(select, started);
  }

  /**
   * `plan -input=false -no-color -detailed-exitcode -out=<planFile> ...extraArgs
   * ...ctx.extraArgs` (no init, no workspace select). Exit codes 0 (no changes) and 2
   * (changes) are ok. Any earlier file at planFile is removed first.
   */
  async planStep(
    ctx: RunContext,
    planFile: string,
    extraArgs: readonly string[],
  ): Promise<TerraformStepResult> {
    const started = performance.now();
    const planPath = path.resolve(ctx.projectDir, planFile);
    const refusal = refuseExtraArgs([...extraArgs, ...ctx.extraArgs]);
    if (refusal !== null) return this.#refused(refusal, started);
    const unprepared = await preparePlanFile(planPath);
    if (unprepared !== null) return this.#refused(unprepared, started);
    const args = [
      'plan', '-input=false', '-no-color', '-detailed-exitcode', `-out=${planPath}`, ...this.#lockArgs,
      ...extraArgs, ...ctx.extraArgs,
    ];
    const plan = await this.#step(ctx, 'plan', args, this.#timeouts.planMs, [0, 2]);
    return this.#stepResult(plan, started);
  }

  /**
   * `apply -input=false -no-color ...extraArgs ...ctx.extraArgs <planFile>` (no init, no
   * workspace select); refused when the plan file does not exist.
   */
  async applyStep(
    ctx: RunContext,
    planFile: string,
    extraArgs: readonly string[],
  ): Promise<TerraformStepResult> {
    const started = performance.now();
    const planPath = path.resolve(ctx.projectDir, planFile);
    const refusal = refuseExtraArgs([...extraArgs, ...ctx.extraArgs]);
    if (refusal !== null) return this.#refused(refusal, started);
    if (!(await exists(planPath))) return this.#refused(planNotFound(planPath), started);
    const args = ['apply', '-input=false', '-no-color', ...this.#lockArgs, ...extraArgs, ...ctx.extraArgs, planPath];
    const apply = await this.#step(ctx, 'apply', args, this.#timeouts.applyMs);
    return this.#stepResult(apply, started);
  }

  /**
   * Atlantis's `show` step: `show -json -no-color <planFile>` written to `showFile` (mode 0600),
   * for the tools that read $SHOWFILE (conftest, infracost). Its JSON is neither shown nor
   * streamed: it is data, often megabytes on one line. Refused when the plan file does not exist.
   */
  async showStep(ctx: RunContext, planFile: string, showFile: string): Promise<TerraformStepResult> {
    const started = performance.now();
    const planPath = path.resolve(ctx.projectDir, planFile);
    if (!(await exists(planPath))) return this.#refused(planNotFound(planPath), started);
    const { onOutput: _streamed, ...quiet } = ctx;
    const args = ['show', '-json', '-no-color', planPath];
    const show = await this.#step(quiet, 'show', args, this.#timeouts.planMs, [0], SHOW_MAX_OUTPUT_BYTES);
    if ('failed' in show) return this.#stepResult(show, started);
    try {
      // A new file, always: `mode` applies only to a file writeFile creates, and an earlier
      // step's file (or a symlink) at $SHOWFILE would keep its mode or send the JSON, which holds
      // the plan's sensitive values in the clear, wherever it points.
      const target = path.resolve(ctx.projectDir, showFile);
      await rm(target, { force: true });
      await writeFile(target, show.stdout, { mode: 0o600, flag: 'wx' });
    } catch (error: unknown) {
      return this.#refused(`cannot write ${showFile}: ${error instanceof Error ? error.message : String(error)}`, started);
    }
    return { ok: true, output: '', exitCode: 0, durationMs: elapsed(started) };
  }

  /** Runs `run` at once, or with a shared plugin cache once every init queued before it has finished. */
  #oneAtATime<T>(run: () => Promise<T>): Promise<T> {
    if (this.#initsDone === null) return run();
    const result = this.#initsDone.then(run);
    this.#initsDone = result.then(
      () => undefined,
      () => undefined,
    );
    return result;
  }

  /** init (when asked), workspace select, plan: the plan's result, or the step that failed. */
  async #initSelectPlan(ctx: RunContext, planPath: string, withInit: boolean): Promise<TerraformStepResult> {
    if (withInit) {
      const init = await this.init(ctx, []);
      if (!init.ok) return init;
    }
    const select = await this.selectWorkspace(ctx);
    if (!select.ok) return select;
    return this.planStep(ctx, planPath, []);
  }

  #stepResult(result: ExecResult | StepFailure, started: number): TerraformStepResult {
    const { output, exitCode } = result;
    return { ok: !('failed' in result), output, exitCode, durationMs: elapsed(started) };
  }

  #refused(message: string, started: number): TerraformStepResult {
    const output = this.#exec.masker.mask(message);
    return { ok: false, output, exitCode: NO_EXIT_CODE, durationMs: elapsed(started) };
  }

  /** One terraform call; an ExecError becomes a StepFailure whose output names the step. */
  async #step(
    ctx: RunContext,
    step: Step,
    args: string[],
    timeoutMs: number,
    okExitCodes: readonly number[] = [0],
    maxOutputBytes?: number,
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
        ...(maxOutputBytes === undefined ? {} : { maxOutputBytes }),
        ...(ctx.onOutput === undefined ? {} : { onOutput: ctx.onOutput }),
        ...(ctx.signal === undefined ? {} : { signal: ctx.signal }),
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
