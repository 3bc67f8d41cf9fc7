// Repo config rules that span keys or projects, checked on the raw data so they are reported
// together with the per-key problems (not only once those are fixed): kind-specific keys, `dir`
// inside the checkout through symlinks, unique names, dir+workspace pairs, and `depends_on`.
// Names, pairs and `depends_on` are checked among the projects of the base branch only, as
// Atlantis drops the projects whose `branch` does not match before it checks them: one name may
// be declared once per branch.

import { existsSync } from 'node:fs';
import { posix } from 'node:path';
import { nearestKey } from '../../config/server-repos-yaml.js';
import type { KeyPath, YamlProblem } from '../../config/server-repos-yaml.js';
import { codeSpan } from '../commands/code-span.js';
import { normaliseDir } from '../commands/repo-dir.js';
import { ensureInside, PathEscapeError } from '../workspace/ensure-inside.js';
import { onBaseBranch } from './branch.js';
import type { TerraformDistribution } from '../../runners/tool-versions.js';

const KUBERNETES_ONLY = ['namespace', 'cluster', 'prune', 'field_manager'] as const;
const TERRAFORM_ONLY = ['terraform_version', 'terraform_distribution', 'workflow'] as const;

interface RawProject {
  index: number;
  fields: Record<string, unknown>;
  name: string | null;
  dir: string | null;
  workspace: string;
  group: number;
  /** Declared for the base branch (no `branch`, a matching one, or no base branch known). */
  onBranch: boolean;
}

function rawProjects(raw: unknown, baseBranch: string | undefined): RawProject[] {
  if (raw === null || typeof raw !== 'object' || !('projects' in raw) || !Array.isArray(raw.projects)) return [];
  const projects: RawProject[] = [];
  for (const [index, item] of (raw.projects as unknown[]).entries()) {
    if (item === null || typeof item !== 'object' || Array.isArray(item)) continue;
    const fields = item as Record<string, unknown>;
    const dir = typeof fields['dir'] === 'string' ? normaliseDir(fields['dir']) : null;
    projects.push({
      index,
      fields,
      name: typeof fields['name'] === 'string' && fields['name'] !== '' ? fields['name'] : null,
      dir: dir?.ok === true ? dir.dir : null,
      workspace: typeof fields['workspace'] === 'string' && fields['workspace'] !== '' ? fields['workspace'] : 'default',
      group: typeof fields['execution_order_group'] === 'number' ? fields['execution_order_group'] : 0,
      onBranch: onBaseBranch(typeof fields['branch'] === 'string' ? fields['branch'] : undefined, baseBranch),
    });
  }
  return projects;
}

/**
 * ensureInside on `dir`, or on its nearest existing ancestor when it does not exist yet:
 * ensureInside resolves symlinks only in paths that exist, so `escape/new` under a symlink
 * `escape -> /etc` would pass it otherwise.
 */
function escapesCheckout(checkoutRoot: string, dir: string): boolean {
  let existing = dir;
  while (existing !== '.' && !existsSync(posix.join(checkoutRoot, existing))) existing = posix.dirname(existing);
  try {
    ensureInside(checkoutRoot, existing);
    return false;
  } catch (err: unknown) {
    if (err instanceof PathEscapeError) return true;
    throw err;
  }
}

function label(project: RawProject): string {
  return project.name === null ? `projects[${project.index}]` : `projects[${project.index}] (${codeSpan(project.name)})`;
}

function kindProblems(project: RawProject, add: (path: KeyPath, message: string) => void): void {
  const at = ['projects', project.index];
  if (project.fields['kind'] === 'kubernetes') {
    for (const key of TERRAFORM_ONLY) {
      if (project.fields[key] !== undefined) {
        add([...at, key], 'does not apply to kubernetes projects (they run kubectl server-side diff and apply, not Terraform steps): remove it, or set `kind: terraform`');
      }
    }
  } else if (project.fields['kind'] === undefined || project.fields['kind'] === 'terraform') {
    for (const key of KUBERNETES_ONLY) {
      if (project.fields[key] !== undefined) add([...at, key], `applies to kubernetes projects only: add \`kind: kubernetes\` to this project, or remove \`${key}\``);
    }
  }
  if (project.fields['glob_file_match'] !== undefined) {
    add([...at, 'glob_file_match'], 'only applies to a glob `dir`, which Tideline does not expand yet: remove it and list each directory as its own project');
  }
}

/**
 * A project that names the other distribution than the server's binary: running it would plan
 * and apply with a different program than the one its state was written by, so it is refused
 * until the operator decides. Naming the server's own is what runs, and needs no word.
 */
function distributionProblems(project: RawProject, server: TerraformDistribution | null, add: (path: KeyPath, message: string) => void): void {
  const wanted = project.fields['terraform_distribution'];
  // Untold (the start-up probe failed) counts as Terraform, Atlantis's default.
  if ((wanted !== 'terraform' && wanted !== 'opentofu') || wanted === (server ?? 'terraform')) return;
  const at: KeyPath = ['projects', project.index, 'terraform_distribution'];
  if (server === null) {
    // Not "the server runs Terraform": on an OpenTofu server whose probe failed, that is false.
    add(at, `is \`${wanted}\`, but this server could not tell at start-up whether TIDELINE_TERRAFORM_BIN is Terraform or OpenTofu (its \`version\` output named neither; the start-up log has what it said): fix that and restart the server, or remove this key if the project may run with Terraform`);
    return;
  }
  const bin = server === 'opentofu' ? 'OpenTofu' : 'Terraform';
  add(
    at,
    `is \`${wanted}\`, but this server's TIDELINE_TERRAFORM_BIN is ${bin}, and Tideline runs one binary for every project: run it with TIDELINE_TERRAFORM_BIN pointing at \`${wanted === 'opentofu' ? 'tofu' : 'terraform'}\`, or remove this key if the project may run with ${bin}`,
  );
}

function dependsOnProblems(projects: readonly RawProject[], offBranch: ReadonlySet<string>, add: (path: KeyPath, message: string) => void): void {
  const byName = new Map<string, RawProject>();
  for (const project of projects) if (project.name !== null && !byName.has(project.name)) byName.set(project.name, project);
  const names = [...byName.keys()].sort();
  const edges = new Map<string, string[]>();
  for (const project of projects) {
    const deps = project.fields['depends_on'];
    if (!Array.isArray(deps)) continue;
    const valid: string[] = [];
    for (const [item, dep] of (deps as unknown[]).entries()) {
      if (typeof dep !== 'string') continue;
      const path = ['projects', project.index, 'depends_on', item];
      const target = byName.get(dep);
      if (target === undefined && offBranch.has(dep)) {
        add(path, `names \`${dep}\`, which is declared only for other base branches (its \`branch\` does not match this one): give \`${dep}\` a \`branch\` that matches here too, or remove it from \`depends_on\``);
      } else if (target === undefined) {
        const near = nearestKey(dep, names);
        const choice = names.length === 0 ? 'name the projects it depends on (add `name:` to them)' : `use one of ${names.map(codeSpan).join(', ')}`;
        add(path, `names ${codeSpan(dep)}, which is not the name of any project in this file: ${near === null ? choice : `did you mean ${codeSpan(near)}?`}`);
      } else if (target === project || (project.name !== null && dep === project.name)) {
        add(path, 'names the project itself: a project cannot depend on itself, remove it');
      } else if (target.group > project.group) {
        add(path, `names ${codeSpan(dep)}, which runs in execution_order_group ${target.group}, after this project's group ${project.group}: move one of them so the dependency's group is not later`);
      } else {
        valid.push(dep);
      }
    }
    if (project.name !== null) edges.set(project.name, [...(edges.get(project.name) ?? []), ...valid]);
  }
  // Cycles: depth-first from each name in order; each cycle reported once, at its first project.
  const state = new Map<string, 'visiting' | 'done'>();
  const stack: string[] = [];
  function walk(name: string): void {
    if (state.get(name) === 'done') return;
    if (state.get(name) === 'visiting') {
      const cycle = [...stack.slice(stack.indexOf(name)), name];
      const first = byName.get(cycle[0] ?? name);
      if (first !== undefined) add(['projects', first.index, 'depends_on'], `forms a cycle ${cycle.map(codeSpan).join(' → ')}: remove one of these dependencies`);
      return;
    }
    state.set(name, 'visiting');
    stack.push(name);
    for (const dep of edges.get(name) ?? []) walk(dep);
    stack.pop();
    state.set(name, 'done');
  }
  for (const name of names) walk(name);
}

/**
 * Cross-key and cross-project problems of a raw repo config; `lineOf` places them. With
 * `baseBranch`, names, dir+workspace pairs and `depends_on` are checked among the projects
 * declared for that base branch; without it, among all of them.
 */
export function repoConfigCrossChecks(
  raw: unknown,
  checkoutRoot: string,
  lineOf: (path: KeyPath) => number | null,
  opts: { baseBranch?: string; distribution: TerraformDistribution | null },
): YamlProblem[] {
  const { baseBranch } = opts;
  const problems: YamlProblem[] = [];
  function add(path: KeyPath, message: string): void {
    problems.push({ path, message, line: lineOf(path) });
  }
  const all = rawProjects(raw, baseBranch);
  for (const project of all) {
    kindProblems(project, add);
    distributionProblems(project, opts.distribution, add);
    if (project.dir !== null && escapesCheckout(checkoutRoot, project.dir)) {
      add(['projects', project.index, 'dir'], `${codeSpan(project.dir)} resolves outside the repository (through a symlink): point \`dir\` at a directory inside it`);
    }
  }
  const projects = all.filter((project) => project.onBranch);
  const offBranch = new Set(all.flatMap((project) => (project.onBranch || project.name === null ? [] : [project.name])));
  const seenNames = new Map<string, RawProject>();
  const seenPlaces = new Map<string, RawProject[]>();
  for (const project of projects) {
    if (project.name !== null) {
      const first = seenNames.get(project.name);
      if (first === undefined) seenNames.set(project.name, project);
      else add(['projects', project.index, 'name'], `${codeSpan(project.name)} is also the name of ${label(first)}: give each project a unique name`);
    }
    if (project.dir !== null) {
      const key = `${project.dir}\u0000${project.workspace}`;
      seenPlaces.set(key, [...(seenPlaces.get(key) ?? []), project]);
    }
  }
  for (const group of seenPlaces.values()) {
    const [first] = group;
    if (first === undefined || group.length < 2 || group.every((project) => project.name !== null)) continue;
    for (const project of group.slice(1)) {
      add(
        ['projects', project.index],
        `has the same dir ${codeSpan(project.dir ?? '')} and workspace ${codeSpan(project.workspace)} as ${label(first)}: give every project sharing them a distinct \`name\`, so \`-p\` can tell them apart`,
      );
    }
  }
  dependsOnProblems(projects, offBranch, add);
  return problems;
}
