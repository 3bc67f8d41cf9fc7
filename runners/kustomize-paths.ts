// kustomize loads other kustomizations by directory (`resources`, `bases`, `components`, and
// the plugin configs of `generators`, `transformers`, `validators`) wherever they are: its load
// restrictor only keeps each kustomization's *files* under that kustomization's own directory.
// So a pull request's kustomization could render another repository's tree on this server
// (`resources: [../../../other/repo/app]`, or a symlink to it) into its plan comment and its
// cluster. Before kustomize runs, every such directory reference, followed from the project's
// kustomization through the ones it names, must resolve (symlinks too) inside the checkout.
// Remote bases (URLs) are left to kustomize: they are not files of this server.

import { readFile, realpath, stat } from 'node:fs/promises';
import path from 'node:path';
import { parse } from 'yaml';
import type { ManifestProblem } from './manifests.js';

const KUSTOMIZATION_FILES = ['kustomization.yaml', 'kustomization.yml', 'Kustomization'];
const DIRECTORY_FIELDS = ['resources', 'bases', 'components', 'generators', 'transformers', 'validators'] as const;

/**
 * A remote base by URL (`https://…`, `ssh://…`, `git@…`). A scheme-less `github.com/org/repo`
 * is remote only when no such local path exists, and kustomize tries the local path first
 * (`github.com/../../x` is a local path), so those are resolved and checked like any other.
 */
function isUrl(entry: string): boolean {
  return /^[a-z][a-z0-9+.-]*:\/\//i.test(entry) || entry.startsWith('git@');
}

function inside(root: string, target: string): boolean {
  const rel = path.relative(root, target);
  return rel === '' || (rel !== '..' && !rel.startsWith(`..${path.sep}`) && !path.isAbsolute(rel));
}

async function realOrNull(p: string): Promise<string | null> {
  try {
    return await realpath(p);
  } catch {
    return null;
  }
}

async function kustomizationIn(dir: string): Promise<string | null> {
  for (const name of KUSTOMIZATION_FILES) {
    const file = path.join(dir, name);
    if ((await stat(file).catch(() => null))?.isFile() === true) return file;
  }
  return null;
}

export interface FollowedKustomizations {
  /** References that leave `checkoutRoot`, by kustomization file relative to `projectRoot`. */
  problems: ManifestProblem[];
  /** The local files the kustomizations list as `resources`, real paths, each once. */
  resourceFiles: string[];
}

/** Follows the project's kustomization through the ones it names, inside `checkoutRoot`. */
export async function followKustomizations(projectRoot: string, checkoutRoot: string): Promise<FollowedKustomizations> {
  const boundary = (await realOrNull(checkoutRoot)) ?? checkoutRoot;
  const problems: ManifestProblem[] = [];
  const resourceFiles = new Set<string>();
  const seen = new Set<string>();
  const queue = [projectRoot];
  while (queue.length > 0) {
    const dir = queue.shift() as string;
    if (seen.has(dir)) continue;
    seen.add(dir);
    const file = await kustomizationIn(dir);
    if (file === null) continue;
    let doc: unknown;
    try {
      doc = parse(await readFile(file, 'utf8'));
    } catch {
      continue; // kustomize reports the syntax error itself, by file
    }
    if (typeof doc !== 'object' || doc === null) continue;
    const shown = path.relative(projectRoot, file).split(path.sep).join('/');
    for (const field of DIRECTORY_FIELDS) {
      const entries: unknown = (doc as Record<string, unknown>)[field];
      if (!Array.isArray(entries)) continue;
      for (const entry of entries) {
        // Inline plugin configs (a YAML document in the list) and remote bases name no local path.
        if (typeof entry !== 'string' || entry.includes('\n') || isUrl(entry)) continue;
        const real = await realOrNull(path.resolve(dir, entry));
        if (real === null) continue; // missing (kustomize says so), or a remote base without a scheme
        if (!inside(boundary, real)) {
          problems.push({ file: shown, message: `\`${field}\` entry ${JSON.stringify(entry)} leads outside the repository: kustomize may read only the pull request's own files (or a remote base by URL)` });
          continue;
        }
        const info = await stat(real);
        if (info.isDirectory()) queue.push(real);
        else if (field === 'resources' && info.isFile()) resourceFiles.add(real);
      }
    }
  }
  return { problems, resourceFiles: [...resourceFiles] };
}
