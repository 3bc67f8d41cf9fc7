// Atlantis's autodiscovery: the projects of a repository without declared projects are its root
// modules — directories holding `*.tf` / `*.tf.json` files that no other directory calls as a
// local module — each in workspace `default`.

import { compileGlob, matchesPatternList } from './glob.js';
import type { CompiledGlob, GlobCache } from './glob.js';
import { localModules, terraformDirs } from './terraform-index.js';
import type { TerraformIndex } from './terraform-index.js';
import type { Project, ProjectDefaults } from './types.js';

/** Root module dirs, sorted. `ignorePaths` are `autodiscover.ignore_paths` globs (repo-relative); they hide projects, not the modules those call. */
export function discoverRootModules(index: TerraformIndex, ignorePaths: readonly string[], cache: GlobCache): string[] {
  const ignores = ignorePaths.map((pattern) => compileGlob('.', pattern, cache)).filter((glob): glob is CompiledGlob => glob !== null);
  const ignored = (dir: string): boolean => ignores.length > 0 && matchesPatternList(ignores, dir);
  const dirs = terraformDirs(index);
  const used = new Set<string>(); // modules called from ignored dirs are still modules
  for (const dir of dirs) for (const module of localModules(index, dir)) used.add(module);
  return dirs.filter((dir) => !used.has(dir) && !ignored(dir));
}

/** An autodiscovered or ad-hoc project: terraform, with the server's defaults when given. */
export function plainProject(dir: string, workspace: string, defaults: ProjectDefaults | undefined): Project {
  const project: Project = { dir, workspace, kind: 'terraform' };
  if (defaults !== undefined) {
    project.applyRequirements = [...defaults.applyRequirements];
    if (defaults.planRequirements !== undefined && defaults.planRequirements.length > 0) project.planRequirements = [...defaults.planRequirements];
    project.workflow = defaults.workflow;
  }
  return project;
}

/** Deterministic order: dir, then workspace, then name. */
export function compareProjects(a: Project, b: Project): number {
  return cmp(a.dir, b.dir) || cmp(a.workspace, b.workspace) || cmp(a.name ?? '', b.name ?? '');
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** The key `selectProjects` uses in `reasons`: dir, workspace and name, as the lock key has them. */
export function projectKey(project: Pick<Project, 'dir' | 'workspace' | 'name'>): string {
  return `${project.dir}|${project.workspace}|${project.name ?? ''}`;
}
