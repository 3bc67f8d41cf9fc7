// Atlantis's server-side workflow hooks: each `<shell> ...shellArgs <run>` (default `sh -c`)
// in the repository root, through the one door (`exec.ts`) like a `run` step: the allow-listed
// base env plus only the documented hook variables (never the GitHub token), a timeout, an
// output cap, masked output. As in Atlantis, the first hook that fails stops the hooks after it.

import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describeFailure, exec, ExecError } from './exec.js';
import type { ExecContext } from './exec.js';
import type { StepVariables } from './types.js';

/**
 * The variables Atlantis documents for hooks: the step variables that describe the pull request
 * and the command (DIR is the repository root, where the hook runs), and COMMAND_NAME. Nothing
 * else of the caller's object is read.
 */
export type HookVariables = Pick<
  StepVariables,
  | 'BASE_REPO_NAME' | 'BASE_REPO_OWNER' | 'HEAD_REPO_NAME' | 'HEAD_REPO_OWNER' | 'HEAD_BRANCH_NAME' | 'HEAD_COMMIT'
  | 'BASE_BRANCH_NAME' | 'PULL_NUM' | 'PULL_URL' | 'PULL_AUTHOR' | 'DIR' | 'USER_NAME' | 'COMMENT_ARGS'
> & {
  /** `plan`, `apply`, `autoplan`, `unlock`. */
  COMMAND_NAME: string;
};

const HOOK_VARIABLE_NAMES = Object.keys({
  BASE_REPO_NAME: true, BASE_REPO_OWNER: true, HEAD_REPO_NAME: true, HEAD_REPO_OWNER: true,
  HEAD_BRANCH_NAME: true, HEAD_COMMIT: true, BASE_BRANCH_NAME: true, PULL_NUM: true, PULL_URL: true,
  PULL_AUTHOR: true, DIR: true, USER_NAME: true, COMMENT_ARGS: true, COMMAND_NAME: true,
} satisfies Record<keyof HookVariables, true>) as (keyof HookVariables)[];

/** How a hook is started when it names no shell, as in Atlantis. */
export const DEFAULT_HOOK_SHELL = 'sh';
export const DEFAULT_HOOK_SHELL_ARGS: readonly string[] = ['-c'];

export interface HookSpec {
  run: string;
  /** Shown in logs, statuses and the job page; default `Pre workflow hook #<n>` (from 0, as Atlantis). */
  description: string;
  shell?: string;
  shellArgs?: string[];
}

export interface HookRun {
  variables: HookVariables;
  timeoutMs: number;
  onOutput?: (chunk: string) => void;
  signal?: AbortSignal;
}

export interface HookResult {
  description: string;
  ok: boolean;
  /** Masked output; on failure it starts with a line saying how the hook failed. */
  output: string;
  /** Masked output as the hook printed it, without that line. */
  printed: string;
  /** What the hook wrote to $OUTPUT_STATUS_FILE (trimmed), for its commit status; '' if nothing. */
  status: string;
  /** 0 on success; null when it was killed (timeout, output cap, signal) or could not start. */
  exitCode: number | null;
  durationMs: number;
  /** How it failed, e.g. `failed with exit code 3` (null when it succeeded), for replies and the audit log. */
  failure: string | null;
}

/** Runs `hooks` in order in `variables.DIR`; stops after the first that fails. */
export async function runWorkflowHooks(execCtx: ExecContext, hooks: readonly HookSpec[], run: HookRun): Promise<HookResult[]> {
  const results: HookResult[] = [];
  for (const hook of hooks) {
    const result = await runHook(execCtx, hook, run);
    results.push(result);
    if (!result.ok) break;
  }
  return results;
}

async function runHook(execCtx: ExecContext, hook: HookSpec, run: HookRun): Promise<HookResult> {
  const env: Record<string, string> = {};
  for (const name of HOOK_VARIABLE_NAMES) env[name] = run.variables[name];
  // Atlantis puts OUTPUT_STATUS_FILE in the repository root; a temp dir keeps the checkout clean.
  const statusDir = await mkdtemp(path.join(tmpdir(), 'tideline-hook-'));
  env.OUTPUT_STATUS_FILE = path.join(statusDir, 'OUTPUT_STATUS_FILE');
  const started = performance.now();
  const elapsed = (): number => Math.round(performance.now() - started);
  try {
    try {
      const result = await exec(execCtx, {
        file: hook.shell ?? DEFAULT_HOOK_SHELL,
        args: [...(hook.shellArgs ?? DEFAULT_HOOK_SHELL_ARGS), hook.run],
        cwd: run.variables.DIR,
        env,
        timeoutMs: run.timeoutMs,
        ...(run.onOutput === undefined ? {} : { onOutput: run.onOutput }),
        ...(run.signal === undefined ? {} : { signal: run.signal }),
      });
      const durationMs = elapsed();
      return { description: hook.description, ok: true, output: result.output, printed: result.output, status: await statusText(execCtx, env.OUTPUT_STATUS_FILE), exitCode: 0, durationMs, failure: null };
    } catch (error: unknown) {
      if (!(error instanceof ExecError)) throw error;
      const how = describeFailure(error, run.timeoutMs);
      const durationMs = elapsed();
      const body = error.output.trimEnd();
      const output = `${hook.description} ${how}${body === '' ? '' : `:\n\n${body}`}\n`;
      return { description: hook.description, ok: false, output, printed: error.output, status: await statusText(execCtx, env.OUTPUT_STATUS_FILE), exitCode: error.exitCode, durationMs, failure: how };
    }
  } finally {
    await rm(statusDir, { recursive: true, force: true });
  }
}

async function statusText(execCtx: ExecContext, file: string): Promise<string> {
  const text = await readFile(file, 'utf8').catch(() => '');
  return execCtx.masker.mask(text.trim()).slice(0, 140);
}
