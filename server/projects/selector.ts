// `-p name`, `-d dir` and `-w workspace` → projects. A name must be declared in the repo config; a
// dir selects the declared projects there (in the workspace given, `default` otherwise, as in
// Atlantis), or an ad-hoc terraform project when none is declared at that dir.

import { nearestKey } from '../../config/server-repos-yaml.js';
import type { ProjectSelector } from '../commands/types.js';
import { ensureInside, PathEscapeError } from '../workspace/ensure-inside.js';
import { compareProjects, plainProject } from './discover.js';
import { checkTerraformDir } from './resolve.js';
import type { Project, ProjectDefaults, RepoConfig } from './types.js';

export type SelectorResult = { ok: true; projects: Project[] } | { ok: false; message: string };

function listed(values: readonly string[]): string {
  return values.map((value) => `\`${value}\``).join(', ');
}

export function projectsForSelector(
  checkoutRoot: string,
  config: RepoConfig | null,
  projects: readonly Project[],
  selector: ProjectSelector,
  options: { defaults?: ProjectDefaults } = {},
): SelectorResult {
  if (selector.project !== undefined) {
    const wanted = selector.project;
    if (config === null) {
      return {
        ok: false,
        message: `there is no project named \`${wanted}\`: this repository has no repo config declaring projects, so select a directory with \`-d dir\` instead`,
      };
    }
    const named = projects.filter((project) => project.name === wanted && (selector.workspace === undefined || project.workspace === selector.workspace));
    if (named.length > 0) return { ok: true, projects: named.sort(compareProjects) };
    const names = [...new Set(projects.flatMap((project) => (project.name === undefined ? [] : [project.name])))].sort();
    const near = nearestKey(wanted, names);
    const hint = near !== null ? `did you mean \`${near}\`?` : names.length > 0 ? `use one of ${listed(names)}` : `${config.file} names no projects; select a directory with \`-d dir\``;
    return { ok: false, message: `there is no project named \`${wanted}\` in ${config.file}: ${hint}` };
  }
  if (selector.dir === undefined && selector.workspace === undefined) {
    return { ok: false, message: 'no project selected: use `-p name` or `-d dir` (and `-w workspace`)' };
  }
  const dir = selector.dir ?? '.';
  try {
    ensureInside(checkoutRoot, dir);
  } catch (err: unknown) {
    if (err instanceof PathEscapeError) return { ok: false, message: `directory \`${dir}\` resolves outside the repository: use a path inside it` };
    throw err;
  }
  const atDir = projects.filter((project) => project.dir === dir);
  const workspace = selector.workspace ?? 'default';
  if (atDir.length > 0 && config !== null) {
    const matches = atDir.filter((project) => project.workspace === workspace);
    if (matches.length > 0) return { ok: true, projects: matches.sort(compareProjects) };
    const workspaces = [...new Set(atDir.map((project) => project.workspace))].sort();
    if (selector.workspace === undefined) {
      return { ok: false, message: `directory \`${dir}\` is declared in ${config.file} for workspace ${listed(workspaces)} only: add \`-w ${workspaces[0] ?? 'name'}\`` };
    }
    return {
      ok: false,
      message: `directory \`${dir}\` is declared in ${config.file} for workspace ${listed(workspaces)} only, not \`${workspace}\`: use one of those with \`-w\`, or declare a project for \`${workspace}\``,
    };
  }
  const problem = checkTerraformDir(checkoutRoot, dir);
  if (problem !== null) return { ok: false, message: problem };
  return { ok: true, projects: [plainProject(dir, workspace, options.defaults)] };
}
