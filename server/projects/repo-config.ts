// Reads a repository's config: `tideline.yaml` at the checkout root, else `atlantis.yaml` (version
// 3) as it is, or the server's `repo_config_file` in its place. raw YAML → RepoConfigSchema (validated, defaults applied) + cross checks →
// `RepoConfig`. Every problem is collected with its key path and line; unsupported Atlantis keys
// are accepted and listed in `warnings`, never dropped silently.

import { existsSync, readFileSync, statSync } from 'node:fs';
import { formatKeyPath, issuesToProblems, readYaml } from '../../config/server-repos-yaml.js';
import type { KeyPath, YamlProblem } from '../../config/server-repos-yaml.js';
import { toWorkflow } from '../../config/server-repos-workflow.js';
import { ensureInside, PathEscapeError } from '../workspace/ensure-inside.js';
import { repoConfigCrossChecks } from './repo-config-checks.js';
import { NOUNS, RepoConfigSchema, STRING_KEYS, STRING_LIST_KEYS, UNSUPPORTED_PROJECT_KEYS, UNSUPPORTED_TOP_KEYS } from './repo-config-schema.js';
import type { ValidatedProject, ValidatedRepoConfig } from './repo-config-schema.js';
import type { ConfigProblem, Project, ReadRepoConfigResult, RepoConfig, RepoConfigFile, Workflow } from './types.js';
import type { TerraformDistribution } from '../../runners/tool-versions.js';

export const REPO_CONFIG_FILES: readonly RepoConfigFile[] = ['tideline.yaml', 'atlantis.yaml'];
/** Spellings Atlantis refuses rather than skip (`atlantis.yml`), and Tideline's own. */
const MISSPELT: readonly RepoConfigFile[] = ['tideline.yml', 'atlantis.yml'];
const MAX_BYTES = 1024 * 1024;

function toProblem(problem: YamlProblem): ConfigProblem {
  const out: ConfigProblem = { path: formatKeyPath(problem.path), message: problem.message };
  if (problem.line !== null) out.line = problem.line;
  return out;
}

function toProject(raw: ValidatedProject, index: number, warnings: string[]): Project {
  const project: Project = {
    dir: raw.dir,
    workspace: raw.workspace,
    kind: raw.kind,
    executionOrderGroup: raw.execution_order_group,
    dependsOn: raw.depends_on,
    autoplan: { enabled: raw.autoplan.enabled, whenModified: raw.autoplan.when_modified },
  };
  if (raw.name !== undefined) project.name = raw.name;
  if (raw.branch !== undefined) project.branch = raw.branch;
  if (raw.workflow !== undefined) project.workflow = raw.workflow;
  if (raw.apply_requirements !== undefined) project.applyRequirements = raw.apply_requirements;
  if (raw.plan_requirements !== undefined) project.planRequirements = raw.plan_requirements;
  if (raw.terraform_version !== undefined) project.terraformVersion = raw.terraform_version;
  if (raw.kind === 'kubernetes') {
    project.kubernetes = { prune: raw.prune, fieldManager: raw.field_manager };
    if (raw.namespace !== undefined) project.kubernetes.namespace = raw.namespace;
    if (raw.cluster !== undefined) project.kubernetes.cluster = raw.cluster;
  }
  if (raw.drift !== undefined) {
    project.drift = {};
    if (raw.drift.enabled !== undefined) project.drift.enabled = raw.drift.enabled;
    if (raw.drift.schedule !== undefined) project.drift.schedule = raw.drift.schedule;
  }
  for (const key of UNSUPPORTED_PROJECT_KEYS) {
    if (raw[key] !== undefined) warnings.push(`\`${formatKeyPath(['projects', index, key])}\` is not supported by Tideline yet and is ignored`);
  }
  return project;
}

function toRepoConfig(raw: ValidatedRepoConfig, file: RepoConfigFile, lineOf: (path: KeyPath) => number | null): RepoConfig {
  const warnings: string[] = [];
  for (const key of UNSUPPORTED_TOP_KEYS) {
    if (raw[key] !== undefined) warnings.push(`\`${key}\` is not supported by Tideline yet and is ignored`);
  }
  if (raw.allowed_regexp_prefixes.length > 0) warnings.push('`allowed_regexp_prefixes` is read, but Tideline has no regexp commands yet');
  const projects = raw.projects.map((project, index) => toProject(project, index, warnings));
  const workflows: Record<string, Workflow> = {};
  for (const [name, workflow] of Object.entries(raw.workflows)) workflows[name] = toWorkflow(workflow, ['workflows', name], warnings);
  const config: RepoConfig = {
    version: 3,
    file,
    automerge: raw.automerge,
    parallelPlan: raw.parallel_plan,
    parallelApply: raw.parallel_apply,
    abortOnExecutionOrderFail: raw.abort_on_execution_order_fail,
    autodiscover: { mode: raw.autodiscover.mode, ignorePaths: raw.autodiscover.ignore_paths },
    projects,
    workflows,
    allowedRegexpPrefixes: raw.allowed_regexp_prefixes,
    warnings,
  };
  if (raw.drift !== undefined) {
    config.drift = {};
    if (raw.drift.enabled !== undefined) config.drift.enabled = raw.drift.enabled;
    if (raw.drift.schedule !== undefined) config.drift.schedule = raw.drift.schedule;
    if (raw.drift.remediate !== undefined) config.drift.remediate = raw.drift.remediate;
  }
  const lines: Record<string, number> = {};
  const remember = (path: KeyPath): void => {
    const line = lineOf(path);
    if (line !== null) lines[formatKeyPath(path)] = line;
  };
  remember(['workflows']);
  remember(['drift']);
  for (const index of projects.keys()) for (const key of ['workflow', 'apply_requirements', 'plan_requirements', 'drift']) remember(['projects', index, key]);
  config.lines = lines;
  return config;
}

export interface RepoConfigOptions {
  /**
   * The pull request's base branch (the default branch for drift): project names and
   * `depends_on` are checked among the projects whose `branch` matches it, as in Atlantis.
   * The result still lists every project; `onBaseBranch` picks those of the branch.
   */
  baseBranch?: string;
  /** The server's `repo_config_file` for this repository: read instead of `atlantis.yaml` (`tideline.yaml` still wins). */
  atlantisFile?: string | null;
  /**
   * What the server's terraform binary is; default `terraform`. A project naming the other is
   * refused; null (the start-up probe could not tell) counts as `terraform`, and a refusal says so.
   */
  terraformDistribution?: TerraformDistribution | null;
}

/** Parses repo config `text` read from `file` at the root of `checkoutRoot` (which `dir`s must stay inside). */
export function parseRepoConfig(text: string, file: RepoConfigFile, checkoutRoot: string, options: RepoConfigOptions = {}): ReadRepoConfigResult {
  if (text.length > MAX_BYTES) {
    return { ok: false, file, problems: [{ path: '', message: `is larger than ${MAX_BYTES / 1024} KiB: a repo config that size is not read; split it or trim it` }] };
  }
  const read = readYaml(text, { stringKeys: STRING_KEYS, stringListKeys: STRING_LIST_KEYS });
  if (!read.ok) {
    const message =
      read.kind === 'aliases'
        ? 'expands its YAML anchors and aliases too many times: write the repeated parts out, or use fewer aliases'
        : `is not valid YAML at line ${read.line} (${read.reason}): fix the YAML on that line`;
    return { ok: false, file, problems: [{ path: '', line: read.line, message }] };
  }
  const data = read.data ?? {};
  if (typeof data !== 'object' || Array.isArray(data)) {
    return { ok: false, file, problems: [{ path: '', line: 1, message: 'must be a YAML mapping starting with `version: 3`' }] };
  }
  const parsed = RepoConfigSchema.safeParse(data);
  const problems = [
    ...(parsed.success ? [] : issuesToProblems(RepoConfigSchema, parsed.error.issues, read.lineOf, NOUNS)),
    ...repoConfigCrossChecks(data, checkoutRoot, read.lineOf, { ...(options.baseBranch === undefined ? {} : { baseBranch: options.baseBranch }), distribution: options.terraformDistribution === undefined ? 'terraform' : options.terraformDistribution }),
  ];
  if (!parsed.success || problems.length > 0) {
    const ordered = problems.map((problem, order) => ({ problem, order }));
    ordered.sort((a, b) => (a.problem.line ?? Number.MAX_SAFE_INTEGER) - (b.problem.line ?? Number.MAX_SAFE_INTEGER) || a.order - b.order);
    return { ok: false, file, problems: ordered.map(({ problem }) => toProblem(problem)) };
  }
  return { ok: true, config: toRepoConfig(parsed.data, file, read.lineOf) };
}

/** The repo config file to read at the checkout root: a result when there is none or it cannot be read, else its name and text. */
function findRepoConfig(checkoutRoot: string, atlantisFile: string | null): { file: RepoConfigFile; text: string; alsoPresent: RepoConfigFile[] } | ReadRepoConfigResult {
  const present: RepoConfigFile[] = [];
  const candidates = atlantisFile === null ? REPO_CONFIG_FILES : ['tideline.yaml', atlantisFile];
  for (const name of candidates) {
    let abs: string;
    try {
      abs = ensureInside(checkoutRoot, name);
    } catch (err: unknown) {
      if (!(err instanceof PathEscapeError)) throw err;
      return { ok: false, file: name, problems: [{ path: '', message: 'leads outside the repository (through a symlink): replace it with the file itself' }] };
    }
    if (existsSync(abs)) {
      if (!statSync(abs).isFile()) return { ok: false, file: name, problems: [{ path: '', message: 'is not a regular file: make it a YAML file at the repository root' }] };
      present.push(name);
    }
  }
  const [file, ...alsoPresent] = present;
  if (file === undefined) {
    for (const misspelt of MISSPELT) {
      if (existsSync(ensureInside(checkoutRoot, misspelt))) {
        return { ok: false, file: misspelt, problems: [{ path: '', message: `is not read (only the .yaml spelling is): rename it to ${misspelt.replace(/\.yml$/, '.yaml')}` }] };
      }
    }
    return { ok: true, config: null };
  }
  return { file, text: readFileSync(ensureInside(checkoutRoot, file), 'utf8'), alsoPresent };
}

/**
 * Reads `tideline.yaml` at the checkout root, else `atlantis.yaml` (version 3) as it is, or the
 * server's `repo_config_file` in its place, as Atlantis does. `config` is null when neither exists. Malformed YAML is one problem naming the line; otherwise every
 * problem of the file is listed with its key path.
 */
export function readRepoConfig(checkoutRoot: string, options: RepoConfigOptions = {}): ReadRepoConfigResult {
  const found = findRepoConfig(checkoutRoot, options.atlantisFile ?? null);
  if ('ok' in found) return found;
  const result = parseRepoConfig(found.text, found.file, checkoutRoot, options);
  if (result.ok && result.config !== null) {
    for (const ignored of found.alsoPresent) result.config.warnings.unshift(`${ignored} is ignored because ${found.file} exists: delete one of them`);
  }
  return result;
}
