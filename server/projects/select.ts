// Which projects a pull request's changed files touch (autoplan, and a bare `plan` comment), and
// every project of a repository (drift sweeps). Reads are cached per call in a TerraformIndex;
// nothing survives between calls.

import { posix } from 'node:path';
import type { AutodiscoverMode } from '../../config/server-repos-types.js';
import { onBaseBranch } from './branch.js';
import { compareProjects, discoverRootModules, plainProject, projectKey } from './discover.js';
import { compileGlob, matchesPatternList } from './glob.js';
import type { CompiledGlob, GlobCache } from './glob.js';
import { DEFAULT_WHEN_MODIFIED, KUBERNETES_WHEN_MODIFIED } from './repo-config-schema.js';
import { changedModulePath, createTerraformIndex, dirEntry, owningTerraformDir } from './terraform-index.js';
import type { TerraformIndex } from './terraform-index.js';
import type { Project, ProjectDefaults, RepoConfig } from './types.js';

export interface SelectProjectsInput {
  checkoutRoot: string;
  /** Repo-relative paths the pull request adds, changes or removes. */
  changedFiles: readonly string[];
  config: RepoConfig | null;
  /** The projects after `applyServerRules`; default `config.projects`. */
  projects?: Project[];
  /** Server defaults stamped on autodiscovered projects (`applyServerRules(...).defaults`). */
  defaults?: ProjectDefaults;
  /** `autoplan` (default) skips projects with `autoplan.enabled: false`; `command` (a bare `plan` comment) does not, as in Atlantis. */
  trigger?: 'autoplan' | 'command';
  /** The pull request's base branch, for projects with `branch: /regex/`; unset: not filtered. */
  baseBranch?: string;
  /** The server's autodiscover mode for this repository (`effectiveRules(...).autodiscoverMode`); it wins over the repo config's. */
  autodiscover?: AutodiscoverMode | null;
}

export interface SelectProjectsResult {
  /** Sorted by dir, workspace, name. */
  projects: Project[];
  /** `projectKey(project)` → why it was selected, e.g. `module modules/net changed`. */
  reasons: Map<string, string>;
  /** Terraform files that could not be read; their module calls were not followed. */
  warnings: string[];
}

interface Selection {
  index: TerraformIndex;
  cache: GlobCache;
  picked: Map<string, { project: Project; reason: string }>;
}

function cleanPaths(files: readonly string[]): string[] {
  const out = new Set<string>();
  for (const file of files) {
    const clean = posix.normalize(file.replace(/^\.\//, ''));
    if (clean === '.' || clean === '..' || clean.startsWith('../') || clean.startsWith('/') || clean.includes('\0')) continue;
    out.add(clean);
  }
  return [...out].sort();
}

function ancestors(files: readonly string[]): Set<string> {
  const dirs = new Set<string>(['']);
  for (const file of files) {
    for (let dir = posix.dirname(file); dir !== '.' && !dirs.has(dir); dir = posix.dirname(dir)) dirs.add(dir);
  }
  return dirs;
}

function discoveryMode(config: RepoConfig | null, serverMode: AutodiscoverMode | null | undefined): boolean {
  if (config === null) return serverMode !== 'disabled';
  const mode = serverMode ?? config.autodiscover.mode;
  return mode === 'enabled' || (mode === 'auto' && config.projects.length === 0);
}

function branchMatches(project: Project, baseBranch: string | undefined): boolean {
  return onBaseBranch(project.branch, baseBranch);
}

function pick(selection: Selection, project: Project, reason: string): void {
  const key = projectKey(project);
  if (!selection.picked.has(key)) selection.picked.set(key, { project, reason });
}

function moduleReason(path: readonly string[]): string {
  const changed = path[path.length - 1] ?? '';
  return path.length === 1 ? `module ${changed} changed` : `module ${changed} changed (used through ${path.slice(0, -1).join(' → ')})`;
}

/** Changed Terraform files (Atlantis's default `when_modified`) by the Terraform directory that owns them. */
function changedTerraformDirs(selection: Selection, files: readonly string[]): Map<string, string> {
  const patterns = DEFAULT_WHEN_MODIFIED.map((pattern) => compileGlob('.', pattern, selection.cache)).filter((g): g is CompiledGlob => g !== null);
  const owners = new Map<string, string>();
  for (const file of files) {
    if (!matchesPatternList(patterns, file)) continue;
    const owner = owningTerraformDir(selection.index, file);
    if (owner !== null && !owners.has(owner)) owners.set(owner, file);
  }
  return owners;
}

/**
 * The projects a pull request's changed files touch. With declared projects: those whose
 * `when_modified` globs (relative to their dir) match a changed file, plus terraform projects
 * calling a changed local module directly or through other modules. Without (or with
 * autodiscover enabled): the root modules owning a changed Terraform file or calling a changed
 * module. Projects whose dir is gone at the head are skipped, as in Atlantis.
 */
export function selectProjects(input: SelectProjectsInput): SelectProjectsResult {
  const files = cleanPaths(input.changedFiles);
  const selection: Selection = { index: createTerraformIndex(input.checkoutRoot), cache: new Map(), picked: new Map() };
  const dirs = ancestors(files);
  const fileSet = new Set(files);
  const configured = input.projects ?? input.config?.projects ?? [];
  const autoplanOnly = (input.trigger ?? 'autoplan') === 'autoplan';
  const owners = changedTerraformDirs(selection, files);
  const changedModules = new Set(owners.keys());
  const memo = new Map<string, string[] | null>();

  const live = configured.filter(
    (project) => branchMatches(project, input.baseBranch) && !(autoplanOnly && project.autoplan?.enabled === false) && dirEntry(selection.index, project.dir).exists,
  );
  for (const project of live) {
    const patterns = project.autoplan?.whenModified ?? (project.kind === 'kubernetes' ? KUBERNETES_WHEN_MODIFIED : DEFAULT_WHEN_MODIFIED);
    // Patterns without `..` only reach files under the project dir: nothing to match when none changed there.
    if (!dirs.has(project.dir === '.' ? '' : project.dir) && !patterns.some((pattern) => pattern.includes('..'))) continue;
    const compiled = patterns.map((pattern) => compileGlob(project.dir, pattern, selection.cache)).filter((g): g is CompiledGlob => g !== null);
    if (!compiled.some((g) => !g.negated && (dirs.has(g.prefix) || fileSet.has(g.prefix)))) continue;
    const hit = files.find((file) => matchesPatternList(compiled, file));
    if (hit !== undefined) pick(selection, project, `when_modified matched ${hit}`);
  }
  if (changedModules.size > 0) {
    for (const project of live) {
      if (project.kind !== 'terraform' || selection.picked.has(projectKey(project))) continue;
      const path = changedModulePath(selection.index, project.dir, changedModules, memo);
      if (path !== null) pick(selection, project, moduleReason(path));
    }
  }
  if (discoveryMode(input.config, input.autodiscover) && owners.size > 0) {
    const declared = new Set(configured.map((project) => project.dir));
    for (const root of discoverRootModules(selection.index, input.config?.autodiscover.ignorePaths ?? [], selection.cache)) {
      if (declared.has(root)) continue;
      const project = plainProject(root, 'default', input.defaults);
      const file = owners.get(root);
      if (file !== undefined) pick(selection, project, `${file} changed`);
      else {
        const path = changedModulePath(selection.index, root, changedModules, memo);
        if (path !== null) pick(selection, project, moduleReason(path));
      }
    }
  }
  const chosen = [...selection.picked.values()].sort((a, b) => compareProjects(a.project, b.project));
  return {
    projects: chosen.map(({ project }) => project),
    reasons: new Map(chosen.map(({ project, reason }) => [projectKey(project), reason])),
    warnings: selection.index.warnings,
  };
}

export interface AllProjectsOptions {
  projects?: Project[];
  defaults?: ProjectDefaults;
  baseBranch?: string;
  autodiscover?: AutodiscoverMode | null;
}

/** Every project of the repository: declared ones, plus root modules where autodiscovery applies. Sorted. */
export function allProjects(checkoutRoot: string, config: RepoConfig | null, options: AllProjectsOptions = {}): Project[] {
  const configured = (options.projects ?? config?.projects ?? []).filter((project) => branchMatches(project, options.baseBranch));
  const found = [...configured];
  if (discoveryMode(config, options.autodiscover)) {
    const index = createTerraformIndex(checkoutRoot);
    const declared = new Set((options.projects ?? config?.projects ?? []).map((project) => project.dir));
    for (const root of discoverRootModules(index, config?.autodiscover.ignorePaths ?? [], new Map())) {
      if (!declared.has(root)) found.push(plainProject(root, 'default', options.defaults));
    }
  }
  return found.sort(compareProjects);
}
