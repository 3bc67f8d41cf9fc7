// Reading a `kind: kubernetes` project into a rendered bundle, before anything touches a
// cluster: every *.yaml / *.yml under the project dir (nested, sorted, multi-document), or the
// output of `kubectl kustomize DIR` when the dir holds a kustomization.

import { followKustomizations } from './kustomize-paths.js';
import { readdir, readFile, realpath, stat } from 'node:fs/promises';
import path from 'node:path';
import { exec, ExecError, formatDuration } from './exec.js';
import type { ExecContext } from './exec.js';
import {
  bundleOf,
  checkDocuments,
  identityProblem,
  parseManifestText,
  type ManifestProblem,
  type ParsedDocument,
  type RenderedBundle,
} from './manifests.js';

export const KUSTOMIZATION_FILES = ['kustomization.yaml', 'kustomization.yml', 'Kustomization'] as const;
export const DEFAULT_RENDER_TIMEOUT_MS = 2 * 60_000;
/** A manifest larger than this is refused (a generated dump, not a reviewable manifest). */
const MAX_FILE_BYTES = 8 * 1024 * 1024;

export interface RenderOptions {
  /** Namespace for namespaced objects that name none. */
  namespace?: string;
  /** Timeout of `kubectl kustomize`; default 2 min. */
  timeoutMs?: number;
  /** Aborted on server shutdown: a running `kubectl kustomize` is killed. */
  signal?: AbortSignal;
  /** The checkout holding the project: no kustomization may reach outside it. Default: the project dir. */
  checkoutRoot?: string;
}

export type RenderResult = { ok: true; bundle: RenderedBundle } | { ok: false; problems: ManifestProblem[] };

/**
 * Reads a kubernetes project dir into a bundle, or says what is wrong with it: malformed YAML
 * by file and line; an object without apiVersion, kind or metadata.name by file and document;
 * an object declared twice by both places. Files in dot-directories and dot-files are skipped;
 * a symlink that leaves the project dir is refused.
 */
export async function renderBundle(
  execCtx: ExecContext,
  kubectlBin: string,
  projectDir: string,
  opts: RenderOptions,
): Promise<RenderResult> {
  const root = await realDir(projectDir);
  if (root === null) return failed({ file: '.', message: `the project directory ${projectDir} does not exist` });
  const files = await manifestFiles(root);
  if (!files.ok) return failed(...files.problems);

  const kustomization = files.names.find((name) => (KUSTOMIZATION_FILES as readonly string[]).includes(name));
  let documents: ParsedDocument[];
  if (kustomization !== undefined) {
    // Syntax first, file by file, so a typo gets its file and line rather than kustomize's words.
    const syntax = await parseFiles(root, files.names);
    if (syntax.problems.length > 0) return failed(...syntax.problems);
    const followed = await followKustomizations(root, opts.checkoutRoot ?? root);
    if (followed.problems.length > 0) return failed(...followed.problems);
    // kustomize refuses an object without kind or name in words that blame the directory
    // ("must build at directory: … file is not directory"); say which file and document.
    const unnamed = await resourceIdentityProblems(root, followed.resourceFiles, syntax.documents);
    if (unnamed.length > 0) return failed(...unnamed);
    const rendered = await kustomize(execCtx, kubectlBin, root, kustomization, opts);
    if (!rendered.ok) return failed(...rendered.problems);
    documents = rendered.documents;
  } else {
    const parsed = await parseFiles(root, files.names);
    if (parsed.problems.length > 0) return failed(...parsed.problems);
    documents = parsed.documents;
  }
  const checked = checkDocuments(documents, opts.namespace === undefined ? {} : { namespace: opts.namespace });
  if (checked.problems.length > 0) return failed(...checked.problems);
  return { ok: true, bundle: bundleOf(checked.objects) };
}

/**
 * Objects without apiVersion, kind or metadata.name in the files kustomizations list as
 * resources (all inside the checkout: followKustomizations saw to it), named relative to the
 * project dir, so a base elsewhere in the checkout shows as `../…`. The project's own files
 * were parsed already (`parsed`); only bases elsewhere are read here, and their syntax errors
 * are left to kustomize, as before.
 */
async function resourceIdentityProblems(root: string, files: readonly string[], parsed: readonly ParsedDocument[]): Promise<ManifestProblem[]> {
  const byFile = new Map<string, ParsedDocument[]>();
  for (const doc of parsed) {
    const list = byFile.get(doc.file);
    if (list === undefined) byFile.set(doc.file, [doc]);
    else list.push(doc);
  }
  const problems: ManifestProblem[] = [];
  for (const file of files) {
    const shown = path.relative(root, file).split(path.sep).join('/');
    let documents = byFile.get(shown);
    if (documents === undefined) {
      if ((await stat(file)).size > MAX_FILE_BYTES) continue; // kustomize's to refuse
      documents = parseManifestText(shown, await readFile(file, 'utf8')).documents;
    }
    for (const doc of documents) {
      const problem = identityProblem(doc);
      if (problem !== null) problems.push(problem);
    }
  }
  return problems;
}

function failed(...problems: ManifestProblem[]): RenderResult {
  return { ok: false, problems };
}

async function realDir(dir: string): Promise<string | null> {
  try {
    const real = await realpath(dir);
    return (await stat(real)).isDirectory() ? real : null;
  } catch {
    return null;
  }
}

function isManifestName(name: string): boolean {
  return /\.ya?ml$/i.test(name) || name === 'Kustomization';
}

function comparePaths(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Relative (`/`-separated) paths of every manifest under root, sorted. */
async function manifestFiles(root: string): Promise<{ ok: true; names: string[] } | { ok: false; problems: ManifestProblem[] }> {
  const names: string[] = [];
  const problems: ManifestProblem[] = [];
  async function visit(dir: string): Promise<void> {
    const entries = await readdir(dir, { withFileTypes: true });
    for (const entry of entries) {
      if (entry.name.startsWith('.')) continue;
      const full = path.join(dir, entry.name);
      const rel = path.relative(root, full).split(path.sep).join('/');
      if (entry.isSymbolicLink()) {
        const target = await realpath(full).catch(() => null);
        const inside = target !== null && (target === root || target.startsWith(`${root}${path.sep}`));
        if (!inside && isManifestName(entry.name)) {
          problems.push({ file: rel, message: 'is a symbolic link that leads outside the project directory: refused' });
          continue;
        }
        if (target === null || !inside) continue;
        const info = await stat(target);
        if (info.isFile() && isManifestName(entry.name)) names.push(rel);
        continue; // symlinked directories are not followed (they could loop)
      }
      if (entry.isDirectory()) await visit(full);
      else if (entry.isFile() && isManifestName(entry.name)) names.push(rel);
    }
  }
  await visit(root);
  names.sort(comparePaths);
  return problems.length > 0 ? { ok: false, problems } : { ok: true, names };
}

async function parseFiles(root: string, names: readonly string[]): Promise<{ documents: ParsedDocument[]; problems: ManifestProblem[] }> {
  const documents: ParsedDocument[] = [];
  const problems: ManifestProblem[] = [];
  for (const name of names) {
    const full = path.join(root, ...name.split('/'));
    const { size } = await stat(full);
    if (size > MAX_FILE_BYTES) {
      problems.push({ file: name, message: `is larger than ${MAX_FILE_BYTES / 1024 / 1024} MiB: refused` });
      continue;
    }
    const parsed = parseManifestText(name, await readFile(full, 'utf8'));
    documents.push(...parsed.documents);
    problems.push(...parsed.problems);
  }
  return { documents, problems };
}

/** Strips klog's `E1122 12:00:00.000000 123 run.go:72] "command failed" err=` wrapper. */
function kubectlMessage(text: string): string {
  const trimmed = text.trim();
  const klog = /^[EWI]\d{4} [\d:.]+\s+\d+ [\w.]+:\d+\] "command failed" err="(.*)"$/s.exec(trimmed);
  const message = klog?.[1]?.replace(/\\"/g, '"').replace(/\\n/g, '\n') ?? trimmed;
  return message.replace(/^error: /, '');
}

async function kustomize(
  execCtx: ExecContext,
  kubectlBin: string,
  root: string,
  kustomization: string,
  opts: RenderOptions,
): Promise<{ ok: true; documents: ParsedDocument[] } | { ok: false; problems: ManifestProblem[] }> {
  const timeoutMs = opts.timeoutMs ?? DEFAULT_RENDER_TIMEOUT_MS;
  try {
    const result = await exec(execCtx, {
      file: kubectlBin,
      args: ['kustomize', root],
      cwd: root,
      // No cluster: the kubectl dispatcher on PATH asks the cluster of the default kubeconfig
      // for its version even for `kustomize`; an empty kubeconfig keeps rendering offline.
      env: { KUBECONFIG: '/dev/null' },
      timeoutMs,
      ...(opts.signal === undefined ? {} : { signal: opts.signal }),
    });
    const parsed = parseManifestText(kustomization, result.stdout);
    if (parsed.problems.length > 0) return { ok: false, problems: parsed.problems };
    return { ok: true, documents: parsed.documents };
  } catch (error: unknown) {
    if (!(error instanceof ExecError)) throw error;
    let message: string;
    if (opts.signal?.aborted === true) message = error.message;
    else if (error.timedOut) message = `kubectl kustomize timed out after ${formatDuration(timeoutMs)}`;
    else if (error.exitCode === null) message = error.message;
    else message = `kubectl kustomize failed: ${kubectlMessage(error.stderr === '' ? error.output : error.stderr)}`;
    return { ok: false, problems: [{ file: kustomization, message: message.split(`${root}${path.sep}`).join('').split(root).join('.') }] };
  }
}
