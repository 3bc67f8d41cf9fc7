import type { ProjectKind } from '../../runners/types.js';
import type { ApplyRequirement, AutodiscoverMode, DriftSettings, Step, Workflow } from '../../config/server-repos-types.js';

export type { ApplyRequirement, AutodiscoverMode, DriftSettings, Step, Workflow } from '../../config/server-repos-types.js';

/**
 * One project: a directory of a repository planned in one workspace. Its lock key is
 * repo + dir + workspace + name, so one directory in two workspaces is two projects.
 * Autodiscovered and ad-hoc (`-d`) projects carry only the first four fields, plus the server's
 * `applyRequirements` / `workflow` when the caller passes them as defaults.
 */
export interface Project {
  /** Declared name from repo config; absent for autodiscovered projects. */
  name?: string;
  /** Repo-relative directory, normalised: `.` for the root, no leading `./`, no trailing `/`. */
  dir: string;
  workspace: string;
  kind: ProjectKind;
  /**
   * Workflow name. From the repo config: what the repo asked for. After `applyServerRules`: the
   * effective name (the server's default when not overridden), a key of its `workflows`.
   * Never set on kubernetes projects.
   */
  workflow?: string;
  /** From the repo config: what the repo asked for; after `applyServerRules`: the effective list. */
  applyRequirements?: ApplyRequirement[];
  /** `plan_requirements`, as `applyRequirements`: what must hold before this project is planned; absent: none. */
  planRequirements?: ApplyRequirement[];
  /** `execution_order_group`; 0 when not given. */
  executionOrderGroup?: number;
  /** Names of projects that must be applied first (`depends_on`). */
  dependsOn?: string[];
  /** `autoplan`; `whenModified` globs are relative to `dir`. Set on every configured project. */
  autoplan?: { enabled: boolean; whenModified: string[] };
  terraformVersion?: string;
  /** Kubernetes-only settings; set on every kubernetes project. */
  kubernetes?: { namespace?: string; cluster?: string; prune: boolean; fieldManager: string };
  drift?: { enabled?: boolean; schedule?: string };
  /** `branch: /regex/` as written, slashes included: the project exists only for matching base branches (`onBaseBranch`). */
  branch?: string;
}

/** The server's defaults for projects the repo config does not declare (autodiscovered, `-d`). */
export interface ProjectDefaults {
  applyRequirements: ApplyRequirement[];
  /** Absent or empty: none. */
  planRequirements?: ApplyRequirement[];
  workflow: string;
}

/**
 * One thing wrong with a repo config. `path` is the key path (`projects[2].workspace`, `''` for the
 * file as a whole); `message` reads on from it and names the fix; `line` is 1-based when known.
 */
export interface ConfigProblem {
  path: string;
  message: string;
  line?: number;
}

/** `tideline.yaml`, `atlantis.yaml`, or the server's `repo_config_file` for the repository (repo-relative). */
export type RepoConfigFile = string;

/** A repo config, validated and normalised. */
export interface RepoConfig {
  version: 3;
  file: RepoConfigFile;
  automerge: boolean;
  parallelPlan: boolean;
  parallelApply: boolean;
  abortOnExecutionOrderFail: boolean;
  autodiscover: { mode: AutodiscoverMode; ignorePaths: string[] };
  projects: Project[];
  /** Workflows the repo defines (usable only where the server allows custom workflows). */
  workflows: Record<string, Workflow>;
  allowedRegexpPrefixes: string[];
  drift?: DriftSettings;
  /** Keys accepted but not supported yet, each naming the key; show them in the reply. */
  warnings: string[];
  /** Lines of the keys `applyServerRules` may refuse (`projects[1].workflow` → 7), for its messages. */
  lines?: Record<string, number>;
}

export type ReadRepoConfigResult =
  | { ok: true; config: RepoConfig | null }
  | { ok: false; file: string; problems: ConfigProblem[] };
