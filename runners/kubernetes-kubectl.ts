// kubectl calls of the Kubernetes runner, through the one door to child processes. Each plan or
// apply opens a session: a fresh directory under the runner's cacheRoot holding kubectl's
// discovery cache (`--cache-dir`, so nothing leaks between runs), the files handed to kubectl,
// and the external diff program that copies `kubectl diff`'s LIVE and MERGED dirs for parsing.

import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { exec, ExecError, formatDuration } from './exec.js';
import type { ExecContext, ExecResult } from './exec.js';
import { documentsYaml, isNamespaceName, refKey } from './manifests.js';
import type { KubeObject } from './kubernetes-diff.js';
import type { ObjectRef } from './types.js';

export interface KubernetesTimeouts {
  /** `kubectl diff` (one run; a plan may run several). */
  diffMs?: number;
  applyMs?: number;
  /** `kubectl get` of namespaces and prune candidates. */
  getMs?: number;
  deleteMs?: number;
}

export const DEFAULT_KUBERNETES_TIMEOUTS: Readonly<Required<KubernetesTimeouts>> = {
  diffMs: 10 * 60_000,
  applyMs: 30 * 60_000,
  getMs: 5 * 60_000,
  deleteMs: 10 * 60_000,
};

/** Environment variables the runner sets itself; never taken from the base env or ctx.env. */
const RUNNER_OWNED_VARS = new Set(['KUBECTL_EXTERNAL_DIFF', 'TIDELINE_DIFF_OUT']);

export function withoutRunnerOwnedVars(env: Readonly<Record<string, string>> | undefined): Record<string, string> {
  const kept: Record<string, string> = {};
  for (const [name, value] of Object.entries(env ?? {})) if (!RUNNER_OWNED_VARS.has(name)) kept[name] = value;
  return kept;
}

export interface Session {
  runDir: string;
  cacheDir: string;
  /** The external diff program (a path without spaces: kubectl splits the variable on them). */
  diffProgram: string;
}

export async function openSession(cacheRoot: string): Promise<Session> {
  await mkdir(cacheRoot, { recursive: true });
  const runDir = await mkdtemp(path.join(path.resolve(cacheRoot), 'kubectl-'));
  const cacheDir = path.join(runDir, 'cache');
  const diffProgram = path.join(runDir, 'external-diff');
  // kubectl runs `$KUBECTL_EXTERNAL_DIFF LIVE_DIR MERGED_DIR` and removes both dirs afterwards.
  const script = [
    '#!/bin/sh',
    '# Tideline: keep the live and merged objects of `kubectl diff` for the plan.',
    '# Exit 3 on failure: kubectl passes it on, and 0 and 1 mean "no diff" and "diff".',
    'mkdir -p "$TIDELINE_DIFF_OUT" && cp -R "$1" "$TIDELINE_DIFF_OUT/live" && cp -R "$2" "$TIDELINE_DIFF_OUT/merged" || exit 3',
    '',
  ].join('\n');
  await writeFile(diffProgram, script);
  await chmod(diffProgram, 0o755);
  return { runDir, cacheDir, diffProgram };
}

export async function closeSession(session: Session): Promise<void> {
  await rm(session.runDir, { recursive: true, force: true });
}

/** Everything a kubectl call needs besides its own arguments. */
export interface KubectlCall {
  bin: string;
  exec: ExecContext;
  session: Session;
  projectDir: string;
  kubeconfig: string | null;
  /** `--request-timeout=…` from the extra args, or null. */
  requestTimeout: string | null;
  env: Readonly<Record<string, string>>;
  onOutput?: (chunk: string) => void;
  /** Aborted on server shutdown: the running kubectl is killed. */
  signal?: AbortSignal;
}

export interface KubectlOptions {
  timeoutMs: number;
  okExitCodes?: readonly number[];
  env?: Readonly<Record<string, string>>;
  stream?: boolean;
}

/** One kubectl call; its ExecError is returned, not thrown. */
export async function kubectl(call: KubectlCall, args: readonly string[], opts: KubectlOptions): Promise<ExecResult | ExecError> {
  const fullArgs = [
    ...args,
    `--cache-dir=${call.session.cacheDir}`,
    ...(call.kubeconfig === null ? [] : [`--kubeconfig=${call.kubeconfig}`]),
    ...(call.requestTimeout === null ? [] : [`--request-timeout=${call.requestTimeout}`]),
  ];
  try {
    return await exec(call.exec, {
      file: call.bin,
      args: fullArgs,
      cwd: call.projectDir,
      env: { ...call.env, ...opts.env },
      timeoutMs: opts.timeoutMs,
      ...(opts.okExitCodes === undefined ? {} : { okExitCodes: opts.okExitCodes }),
      ...(opts.stream === true && call.onOutput !== undefined ? { onOutput: call.onOutput } : {}),
      ...(call.signal === undefined ? {} : { signal: call.signal }),
    });
  } catch (error: unknown) {
    if (error instanceof ExecError) return error;
    throw error;
  }
}

/** kubectl's own words, run-dir paths shortened. */
export function kubectlText(call: KubectlCall, text: string): string {
  return text.split(`${call.session.runDir}${path.sep}`).join('').trimEnd();
}

/**
 * `kubectl diff failed with exit code 2:\n\n<stderr>` and the like; with `allOutput`, stdout
 * too (apply and delete print what they did before the failure there).
 */
export function failureText(call: KubectlCall, what: string, error: ExecError, timeoutMs: number, allOutput = false): string {
  let header: string;
  if (call.signal?.aborted === true) return kubectlText(call, error.message);
  if (error.timedOut) header = `kubectl ${what} timed out after ${formatDuration(timeoutMs)}`;
  else if (error.outputCapped) header = `kubectl ${what} was killed: its output exceeded the cap`;
  else if (error.exitCode === null && error.signal === null) return kubectlText(call, error.message);
  else if (error.exitCode === null) header = `kubectl ${what} was killed by ${error.signal}`;
  else header = `kubectl ${what} failed with exit code ${error.exitCode}`;
  const body = kubectlText(call, allOutput || error.stderr.trim() === '' ? error.output : error.stderr);
  const text = body === '' ? header : `${header}:\n\n${body}`;
  // kubectl prompts for a username on stdin when the kubeconfig user has no credentials; with
  // no terminal that prompt reads end-of-file and all kubectl says is `error: EOF`.
  return error.stderr.trim() === 'error: EOF' ? `${text}\n\n${EOF_HINT}` : text;
}

export const EOF_HINT =
  'kubectl asked for credentials on a terminal it does not have: the kubeconfig user for this cluster has none (no token, client certificate or exec plugin). Give the cluster\'s kubeconfig in the server config a user with credentials.';

/** Identity-only documents for `kubectl get -f` / `kubectl delete -f`. */
function stubs(refs: readonly ObjectRef[]): string {
  return documentsYaml(
    refs.map((ref) => ({
      apiVersion: ref.apiVersion,
      kind: ref.kind,
      metadata: ref.namespace === null ? { name: ref.name } : { name: ref.name, namespace: ref.namespace },
    })),
  );
}

export async function writeRunFile(call: KubectlCall, name: string, text: string): Promise<string> {
  const file = path.join(call.session.runDir, name);
  await writeFile(file, text);
  return file;
}

/** Which of `names` exist as namespaces. */
export async function existingNamespaces(call: KubectlCall, names: readonly string[], timeoutMs: number): Promise<Set<string> | ExecError> {
  // Validated names only: they become arguments, and must never read as a flag.
  const valid = names.filter(isNamespaceName);
  if (valid.length === 0) return new Set();
  const result = await kubectl(call, ['get', 'namespaces', ...valid, '--ignore-not-found', '-o', 'name'], { timeoutMs });
  if (result instanceof ExecError) return result;
  const found = new Set<string>();
  for (const line of result.stdout.split('\n')) {
    const match = /^namespace\/(.+)$/.exec(line.trim());
    if (match?.[1] !== undefined) found.add(match[1]);
  }
  return found;
}

/** The live objects among `refs` (managedFields included); absent ones are left out. */
export async function getObjects(call: KubectlCall, refs: readonly ObjectRef[], timeoutMs: number): Promise<KubeObject[] | ExecError> {
  if (refs.length === 0) return [];
  const file = await writeRunFile(call, 'get.yaml', stubs(refs));
  const result = await kubectl(
    call,
    ['get', '-f', file, '--ignore-not-found', '--show-managed-fields', '-o', 'json'],
    { timeoutMs },
  );
  if (result instanceof ExecError) return result;
  const text = result.stdout.trim();
  if (text === '') return [];
  const parsed = JSON.parse(text) as KubeObject;
  if (parsed['kind'] === 'List' && Array.isArray(parsed['items'])) return parsed['items'] as KubeObject[];
  return [parsed];
}

/** Deletes `refs` (namespaced objects first, then namespaces, CRDs last), not waiting for finalizers. */
export async function deleteObjects(call: KubectlCall, refs: readonly ObjectRef[], timeoutMs: number): Promise<ExecResult | ExecError | null> {
  if (refs.length === 0) return null;
  const rank = (ref: ObjectRef): number =>
    ref.kind === 'CustomResourceDefinition' ? 2 : ref.kind === 'Namespace' && ref.apiVersion === 'v1' ? 1 : 0;
  const ordered = [...refs].sort((a, b) => rank(a) - rank(b) || (refKey(a) < refKey(b) ? -1 : 1));
  const file = await writeRunFile(call, 'prune.yaml', stubs(ordered));
  return kubectl(call, ['delete', '-f', file, '--ignore-not-found', '--wait=false'], { timeoutMs, stream: true });
}
