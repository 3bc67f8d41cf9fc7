// What the checkout's directories hold, for one selection: which are Terraform directories, and
// which local modules each calls. Everything is read lazily and at most once per index; an index
// lives for one call (no module-level cache), so a new commit is never answered from an old read.

import { readdirSync, readFileSync, realpathSync } from 'node:fs';
import type { Dirent } from 'node:fs';
import { isAbsolute, join, posix, relative, sep } from 'node:path';
import { isLocalSource, moduleSourcesOf } from './module-sources.js';

export const TERRAFORM_FILE = /\.tf(\.json)?$/;

interface DirEntry {
  exists: boolean;
  /** Real absolute path (symlinks resolved), when it exists. */
  abs: string;
  /** `*.tf` / `*.tf.json` file names, sorted. */
  terraformFiles: string[];
  /** Subdirectory names (symlinked directories are not walked). */
  subdirs: Set<string>;
  /** Names of symlinks in the directory (resolved, and checked, only when used). */
  symlinks: Set<string>;
  /** Repo-relative dirs of the local modules this dir calls; null until read. */
  modules: string[] | null;
}

export interface TerraformIndex {
  root: string;
  /** The checkout root with symlinks resolved, once per index. */
  realRoot: string;
  dirs: Map<string, DirEntry>;
  /** Files that could not be read as Terraform, each with the reason; their module calls are not followed. */
  warnings: string[];
}

export function createTerraformIndex(checkoutRoot: string): TerraformIndex {
  return { root: checkoutRoot, realRoot: realpathSync.native(checkoutRoot), dirs: new Map(), warnings: [] };
}

function childOf(dir: string, name: string): string {
  return dir === '.' ? name : `${dir}/${name}`;
}

/** The real path of `abs` when it stays inside the checkout (ensureInside's check), else null. */
function realInside(index: TerraformIndex, abs: string): string | null {
  let real: string;
  try {
    real = realpathSync.native(abs);
  } catch {
    return null;
  }
  const rel = relative(index.realRoot, real);
  return rel === '' || (!rel.startsWith(`..${sep}`) && rel !== '..' && !isAbsolute(rel)) ? real : null;
}

/**
 * Where repo-relative `dir` really is, or null when it does not exist or leaves the checkout.
 * This is ensureInside's guarantee, computed from the parents' listings: a directory listed as a
 * real directory of a real parent is inside; only a symlinked component needs a realpath.
 */
function locate(index: TerraformIndex, dir: string): string | null {
  if (dir === '.') return index.realRoot;
  const parent = dirEntry(index, posix.dirname(dir));
  if (!parent.exists) return null;
  const name = posix.basename(dir);
  if (parent.subdirs.has(name)) return join(parent.abs, name);
  return parent.symlinks.has(name) ? realInside(index, join(parent.abs, name)) : null;
}

/** The directory's listing (read once). A directory outside the checkout reads as missing. */
export function dirEntry(index: TerraformIndex, dir: string): DirEntry {
  const known = index.dirs.get(dir);
  if (known !== undefined) return known;
  const entry: DirEntry = { exists: false, abs: '', terraformFiles: [], subdirs: new Set(), symlinks: new Set(), modules: null };
  index.dirs.set(dir, entry);
  const abs = locate(index, dir);
  if (abs === null) return entry;
  let listing: Dirent[];
  try {
    listing = readdirSync(abs, { withFileTypes: true });
  } catch {
    return entry;
  }
  entry.exists = true;
  entry.abs = abs;
  for (const item of listing) {
    if (item.isDirectory()) entry.subdirs.add(item.name);
    else if (item.isSymbolicLink()) entry.symlinks.add(item.name);
    if (TERRAFORM_FILE.test(item.name) && (item.isFile() || (item.isSymbolicLink() && realInside(index, join(abs, item.name)) !== null))) {
      entry.terraformFiles.push(item.name);
    }
  }
  entry.terraformFiles.sort();
  return entry;
}

export function hasTerraformFiles(index: TerraformIndex, dir: string): boolean {
  return dirEntry(index, dir).terraformFiles.length > 0;
}

/** Repo-relative dirs of the local modules `dir`'s Terraform files call (each file read and parsed once). */
export function localModules(index: TerraformIndex, dir: string): string[] {
  const entry = dirEntry(index, dir);
  if (entry.modules !== null) return entry.modules;
  const found = new Set<string>();
  for (const name of entry.terraformFiles) {
    const file = childOf(dir, name);
    let text: string;
    try {
      text = readFileSync(join(entry.abs, name), 'utf8');
    } catch (err: unknown) {
      index.warnings.push(`${file} could not be read (${err instanceof Error ? err.message : String(err)}): its module calls are not followed`);
      continue;
    }
    const read = moduleSourcesOf(name, text);
    if (!read.ok) {
      index.warnings.push(`${file} is not valid ${name.endsWith('.json') ? 'JSON' : 'HCL'} (${read.reason}): its module calls are not followed`);
      continue;
    }
    for (const source of read.sources) {
      if (!isLocalSource(source)) continue;
      const target = posix.normalize(posix.join(dir, source)).replace(/\/+$/, '') || '.';
      if (target === dir || target === '..' || target.startsWith('../')) continue;
      found.add(target);
    }
  }
  entry.modules = [...found].sort();
  return entry.modules;
}

/** The Terraform directory a changed file belongs to: its own dir or the nearest parent holding `*.tf` files. */
export function owningTerraformDir(index: TerraformIndex, file: string): string | null {
  let dir = posix.dirname(file);
  for (;;) {
    if (hasTerraformFiles(index, dir)) return dir;
    if (dir === '.') return null;
    dir = posix.dirname(dir);
  }
}

/**
 * How `dir` reaches a changed module through its module calls: `[direct, …, changed]`, or null.
 * `memo` is per selection; a module cycle (invalid Terraform) reaches nothing rather than looping.
 */
export function changedModulePath(
  index: TerraformIndex,
  dir: string,
  changed: ReadonlySet<string>,
  memo: Map<string, string[] | null>,
): string[] | null {
  const known = memo.get(dir);
  if (known !== undefined) return known;
  memo.set(dir, null); // in progress: a cycle back here finds nothing
  let found: string[] | null = null;
  for (const module of localModules(index, dir)) {
    if (changed.has(module)) {
      found = [module];
      break;
    }
  }
  if (found === null) {
    for (const module of localModules(index, dir)) {
      const deeper = changedModulePath(index, module, changed, memo);
      if (deeper !== null) {
        found = [module, ...deeper];
        break;
      }
    }
  }
  memo.set(dir, found);
  return found;
}

/** Every directory under the root holding Terraform files, sorted; hidden dirs and `node_modules` are skipped. */
export function terraformDirs(index: TerraformIndex): string[] {
  const found: string[] = [];
  const pending = ['.'];
  for (let next = pending.pop(); next !== undefined; next = pending.pop()) {
    const entry = dirEntry(index, next);
    if (entry.terraformFiles.length > 0) found.push(next);
    for (const name of [...entry.subdirs].sort()) {
      if (name.startsWith('.') || name === 'node_modules') continue;
      pending.push(childOf(next, name));
    }
  }
  return found.sort();
}
