// The one door to child processes (after Renovate's `lib/util/exec/`). Every terraform, kubectl
// and git call goes through `exec`: an argument array and no shell, an allow-listed environment
// (nothing of the server's own env leaks in), a required timeout, an output cap, a kill of the
// whole process group, and every byte of text that comes back masked before anyone sees it.

import { stat } from 'node:fs/promises';
import { StringDecoder } from 'node:string_decoder';
import { execa } from 'execa';
import type { SecretMasker } from './secrets.js';

/** Combined stdout + stderr a child may write before it is killed. */
export const DEFAULT_MAX_OUTPUT_BYTES = 16 * 1024 * 1024;
/** Time between SIGTERM and SIGKILL of the process group: terraform uses it to stop cleanly. */
const KILL_GRACE_MS = 5_000;
/** Live output is passed on by whole lines (so a secret is never split across two chunks to
 * escape masking); a line longer than this is passed on as is. */
const MAX_PENDING_LINE_CHARS = 64 * 1024;
/** How much of the child's stderr an ExecError message quotes. */
const MESSAGE_TAIL_CHARS = 2_000;

export interface ExecContext {
  /** Allow-listed base environment (PATH, HOME, LANG…) chosen by config/; nothing else of the
   * server's env reaches a child. */
  baseEnv: Readonly<Record<string, string>>;
  masker: SecretMasker;
}

export interface ExecSpec {
  file: string;
  args: readonly string[];
  cwd: string;
  /** Added over `baseEnv`. */
  env?: Readonly<Record<string, string>>;
  /** Required: there is no such thing as a child that may run forever. */
  timeoutMs: number;
  /** Default 16 MiB combined; beyond it the child is killed and ExecError says so. */
  maxOutputBytes?: number;
  /** Default [0]; e.g. [0, 2] for `plan -detailed-exitcode`. */
  okExitCodes?: readonly number[];
  /** Display form override; default: file + args joined, masked. Always masked. */
  display?: string;
  /** Masked chunks as they arrive (whole lines). */
  onOutput?: (chunk: string) => void;
  stdin?: string;
  /** Aborting kills the whole process group, as a timeout does (server shutdown). */
  signal?: AbortSignal;
}

export interface ExecResult {
  exitCode: number;
  stdout: string;
  stderr: string;
  /** stdout and stderr interleaved in arrival order */
  output: string;
  durationMs: number;
  display: string;
}

export interface ExecErrorDetails {
  command: string;
  exitCode: number | null;
  signal: string | null;
  stdout: string;
  stderr: string;
  output: string;
  timedOut: boolean;
  outputCapped: boolean;
  durationMs: number;
  /** The program could not be started because it does not exist (ENOENT, its cwd present). */
  missingExecutable?: boolean;
}

/**
 * How a `run`-style command (a workflow step, a hook) ended, reading on from its name:
 * `failed with exit code 3`, `timed out after 30m and was killed`, `was killed by SIGKILL`, …
 */
export function describeFailure(error: ExecError, timeoutMs: number): string {
  if (error.timedOut) return `timed out after ${formatDuration(timeoutMs)} and was killed`;
  if (error.outputCapped) return 'was killed: its output exceeded the cap';
  if (error.exitCode === null && error.signal === null) return `failed: ${error.message}`;
  if (error.exitCode === null) return `was killed by ${error.signal}`;
  return `failed with exit code ${error.exitCode}`;
}

/** A child that could not start, failed, timed out or flooded us. All text in it is masked. */
export class ExecError extends Error {
  override readonly name = 'ExecError';
  /** Display form of the command, masked. */
  readonly command: string;
  readonly exitCode: number | null;
  readonly signal: string | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly output: string;
  readonly timedOut: boolean;
  readonly outputCapped: boolean;
  readonly missingExecutable: boolean;
  readonly durationMs: number;

  constructor(message: string, details: ExecErrorDetails) {
    super(message);
    this.command = details.command;
    this.exitCode = details.exitCode;
    this.signal = details.signal;
    this.stdout = details.stdout;
    this.stderr = details.stderr;
    this.output = details.output;
    this.timedOut = details.timedOut;
    this.outputCapped = details.outputCapped;
    this.missingExecutable = details.missingExecutable ?? false;
    this.durationMs = details.durationMs;
  }
}

type StreamName = 'stdout' | 'stderr';

interface CapturedOutput {
  stdout: string;
  stderr: string;
  output: string;
}

/** Collects one child's output: byte cap, UTF-8 decoding across chunk edges, live lines. */
class OutputCapture {
  readonly #maxBytes: number;
  readonly #masker: SecretMasker;
  readonly #onOutput: ((chunk: string) => void) | undefined;
  readonly #onCap: () => void;
  readonly #decoders = { stdout: new StringDecoder('utf8'), stderr: new StringDecoder('utf8') };
  readonly #parts: Record<StreamName | 'all', string[]> = { stdout: [], stderr: [], all: [] };
  readonly #pending: Record<StreamName, string> = { stdout: '', stderr: '' };
  #bytes = 0;
  capped = false;

  constructor(
    maxBytes: number,
    masker: SecretMasker,
    onOutput: ((chunk: string) => void) | undefined,
    onCap: () => void,
  ) {
    this.#maxBytes = maxBytes;
    this.#masker = masker;
    this.#onOutput = onOutput;
    this.#onCap = onCap;
  }

  write(stream: StreamName, chunk: Buffer | string): void {
    if (this.capped) return;
    let bytes = typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk;
    const room = this.#maxBytes - this.#bytes;
    if (bytes.length > room) {
      bytes = bytes.subarray(0, room);
      this.capped = true;
    }
    this.#bytes += bytes.length;
    this.#append(stream, this.#decoders[stream].write(bytes));
    if (this.capped) this.#onCap();
  }

  /** Flush decoders and live-line buffers; return everything, masked. */
  finish(): CapturedOutput {
    for (const stream of ['stdout', 'stderr'] as const) {
      this.#append(stream, this.#decoders[stream].end());
      this.#emit(this.#pending[stream]);
      this.#pending[stream] = '';
    }
    return {
      stdout: this.#masker.mask(this.#parts.stdout.join('')),
      stderr: this.#masker.mask(this.#parts.stderr.join('')),
      output: this.#masker.mask(this.#parts.all.join('')),
    };
  }

  #append(stream: StreamName, text: string): void {
    if (text.length === 0) return;
    this.#parts[stream].push(text);
    this.#parts.all.push(text);
    if (this.#onOutput === undefined) return;
    let pending = this.#pending[stream] + text;
    const lastNewline = pending.lastIndexOf('\n');
    if (lastNewline >= 0) {
      this.#emit(pending.slice(0, lastNewline + 1));
      pending = pending.slice(lastNewline + 1);
    }
    if (pending.length > MAX_PENDING_LINE_CHARS) {
      this.#emit(pending);
      pending = '';
    }
    this.#pending[stream] = pending;
  }

  #emit(text: string): void {
    if (text.length === 0 || this.#onOutput === undefined) return;
    try {
      this.#onOutput(this.#masker.mask(text));
    } catch {
      // A faulty listener (e.g. a closed live-log socket) must not break the bookkeeping of
      // the child; the full output is still returned at the end.
    }
  }
}

/** Signal every process of the child's group (it leads its own group: `detached: true`). */
function killGroup(pid: number | undefined, signal: NodeJS.Signals): void {
  if (pid === undefined) return;
  try {
    process.kill(-pid, signal);
  } catch {
    // ESRCH: the group is already gone.
  }
}

function quoteArg(arg: string): string {
  if (arg !== '' && /^[\w@%+=:,./-]+$/.test(arg)) return arg;
  return `'${arg.replaceAll("'", `'\\''`)}'`;
}

/** `file arg…` with shell-style quoting where needed; for people, never executed. */
export function displayCommand(file: string, args: readonly string[]): string {
  return [file, ...args].map(quoteArg).join(' ');
}

export function formatDuration(ms: number): string {
  if (ms < 1_000) return `${ms} ms`;
  if (ms < 120_000) return `${Math.round(ms / 100) / 10} s`;
  return `${Math.round(ms / 6_000) / 10} min`;
}

function tail(text: string): string {
  const trimmed = text.trimEnd();
  if (trimmed.length <= MESSAGE_TAIL_CHARS) return trimmed;
  return `…${trimmed.slice(-MESSAGE_TAIL_CHARS)}`;
}

async function isDirectory(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isDirectory();
  } catch {
    return false;
  }
}

async function spawnFailureMessage(
  masker: SecretMasker,
  spec: ExecSpec,
  display: string,
  code: string | undefined,
): Promise<string> {
  if (code === 'ENOENT' && !(await isDirectory(spec.cwd))) {
    return `cannot run ${display}: working directory ${masker.mask(spec.cwd)} does not exist`;
  }
  if (code === 'ENOENT') {
    const file = masker.mask(spec.file);
    return (
      `cannot run ${display}: executable "${file}" not found (ENOENT); ` +
      'install it, or fix its path or the PATH given to child processes'
    );
  }
  return `cannot run ${display}: spawn failed (${code ?? 'unknown error'})`;
}

/**
 * Run one child process. Resolves when it exits with an ok exit code; rejects with ExecError
 * when the exit code is not ok, on timeout, on output cap, and on spawn failure.
 */
export async function exec(ctx: ExecContext, spec: ExecSpec): Promise<ExecResult> {
  if (!Number.isFinite(spec.timeoutMs) || spec.timeoutMs <= 0) {
    throw new RangeError(`exec: timeoutMs must be a positive number, got ${spec.timeoutMs}`);
  }
  const { masker } = ctx;
  const display = masker.mask(spec.display ?? displayCommand(spec.file, spec.args));
  const maxBytes = spec.maxOutputBytes ?? DEFAULT_MAX_OUTPUT_BYTES;
  const okExitCodes = spec.okExitCodes ?? [0];
  const started = performance.now();

  const subprocess = execa(spec.file, spec.args, {
    cwd: spec.cwd,
    env: { ...ctx.baseEnv, ...spec.env },
    extendEnv: false,
    shell: false,
    detached: true,
    stripFinalNewline: false,
    buffer: false,
    reject: false,
    stdout: 'pipe',
    stderr: 'pipe',
    ...(spec.stdin === undefined ? { stdin: 'ignore' as const } : { input: spec.stdin }),
  });
  const pid = subprocess.pid;

  let terminated = false;
  function terminate(): void {
    if (terminated) return;
    terminated = true;
    killGroup(pid, 'SIGTERM');
    // Left running after the child settles, to catch group members that ignored SIGTERM
    // without holding our pipes; unref'd so it never keeps the server alive.
    setTimeout(() => killGroup(pid, 'SIGKILL'), KILL_GRACE_MS).unref();
  }

  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    terminate();
  }, spec.timeoutMs);
  // The child's own exit, before its pipes close: a stop that comes after it cut nothing short.
  let exited = false;
  subprocess.once('exit', () => {
    exited = true;
  });
  let aborted = false;
  const onAbort = (): void => {
    // Still end what is left of its group (members holding the pipes), but the child's own
    // result stands: an apply that had ended is reported as it ended, not as stopped.
    if (!exited) aborted = true;
    terminate();
  };
  if (spec.signal?.aborted === true) onAbort();
  spec.signal?.addEventListener('abort', onAbort, { once: true });
  const capture = new OutputCapture(maxBytes, masker, spec.onOutput, terminate);
  subprocess.stdout?.on('data', (chunk: Buffer | string) => capture.write('stdout', chunk));
  subprocess.stderr?.on('data', (chunk: Buffer | string) => capture.write('stderr', chunk));

  let result: Awaited<typeof subprocess>;
  try {
    result = await subprocess;
  } finally {
    clearTimeout(timer);
    spec.signal?.removeEventListener('abort', onAbort);
  }
  const { stdout, stderr, output } = capture.finish();
  const durationMs = Math.round(performance.now() - started);
  const exitCode = result.exitCode ?? null;
  const signal = result.signal ?? null;
  const details: ExecErrorDetails = {
    command: display,
    exitCode,
    signal,
    stdout,
    stderr,
    output,
    timedOut,
    outputCapped: capture.capped,
    durationMs,
  };

  if (exitCode === null && signal === null) {
    const code = typeof result.code === 'string' ? result.code : undefined;
    const missingExecutable = code === 'ENOENT' && (await isDirectory(spec.cwd));
    throw new ExecError(await spawnFailureMessage(masker, spec, display, code), { ...details, missingExecutable });
  }
  if (aborted) {
    throw new ExecError(`${display} was stopped: the server is shutting down`, details);
  }
  if (timedOut) {
    throw new ExecError(
      `${display} timed out after ${formatDuration(spec.timeoutMs)} and was killed`,
      details,
    );
  }
  if (capture.capped) {
    throw new ExecError(
      `${display} wrote more than ${maxBytes} bytes of output and was killed`,
      details,
    );
  }
  if (exitCode === null || !okExitCodes.includes(exitCode)) {
    const how = exitCode === null ? `was killed by ${signal}` : `failed with exit code ${exitCode}`;
    const quoted = tail(stderr.trim() === '' ? output : stderr);
    const message = quoted === '' ? `${display} ${how}` : `${display} ${how}:\n${quoted}`;
    throw new ExecError(message, details);
  }
  return { exitCode, stdout, stderr, output, durationMs, display };
}
