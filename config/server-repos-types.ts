// Shapes shared by the server-side repo rules (`repos:` / `workflows:` of the TIDELINE_CONFIG file)
// and the repo config (`tideline.yaml` / `atlantis.yaml`): apply requirements, workflows, steps and
// the drift settings. They live in config/ because config/ imports nothing of server/; the repo
// config reader in server/projects re-exports them.

export const APPLY_REQUIREMENTS = ['approved', 'mergeable', 'undiverged'] as const;
export type ApplyRequirement = (typeof APPLY_REQUIREMENTS)[number];

/**
 * Keys a server `repos[]` entry may let a repo config set (`allowed_overrides`). Tideline acts on
 * `apply_requirements`, `plan_requirements`, `workflow` and `drift`; the others are Atlantis keys it accepts so an
 * Atlantis server config loads unchanged, and whose repo-side keys it warns about and ignores.
 */
export const ALLOWED_OVERRIDE_KEYS = [
  'apply_requirements',
  'workflow',
  'drift',
  'delete_source_branch_on_merge',
  'plan_requirements',
  'import_requirements',
  'repo_locking',
  'repo_locks',
  'policy_check',
  'custom_policy_check',
  'silence_pr_comments',
] as const;
export type AllowedOverride = (typeof ALLOWED_OVERRIDE_KEYS)[number];

/** Atlantis's `output` of a run step; the two `custom_regex` ones redact what `regex_filter` matches. */
export const RUN_OUTPUTS = ['show', 'hide', 'strip_refreshing', 'custom_regex', 'strip_refreshing_with_custom_regex'] as const;
export type RunOutput = (typeof RUN_OUTPUTS)[number];

/** One step of a workflow stage, in Atlantis's terms. */
export type Step =
  | { kind: 'init'; extraArgs: string[] }
  | { kind: 'plan'; extraArgs: string[] }
  | { kind: 'apply'; extraArgs: string[] }
  /** `terraform show -json` of the plan, written to $SHOWFILE for later steps. */
  | { kind: 'show' }
  /** A shell command, run as `<shell> <shellArgs…> <command>` (Atlantis: `sh -c`). */
  | { kind: 'run'; command: string; shell?: string; shellArgs?: string[]; output?: RunOutput; regexFilter?: string }
  /** Sets `name` for later steps: to `value`, or to the output of `command`. */
  | { kind: 'env'; name: string; value?: string; command?: string; shell?: string; shellArgs?: string[] }
  /** Sets every `NAME=value` pair `command` prints (comma-separated) for later steps; `hide` does not list the names. */
  | { kind: 'multienv'; command: string; shell?: string; shellArgs?: string[]; output?: 'show' | 'hide' };

export interface Workflow {
  plan: Step[];
  apply: Step[];
}

export const DEFAULT_WORKFLOW_NAME = 'default';

/** Atlantis's built-in workflow: `init` then `plan`; `apply`. A fresh object on every call. */
export function builtInDefaultWorkflow(): Workflow {
  return {
    plan: [
      { kind: 'init', extraArgs: [] },
      { kind: 'plan', extraArgs: [] },
    ],
    apply: [{ kind: 'apply', extraArgs: [] }],
  };
}

export const AUTODISCOVER_MODES = ['auto', 'enabled', 'disabled'] as const;
export type AutodiscoverMode = (typeof AUTODISCOVER_MODES)[number];

/** Drift settings a server rule or a repo config may give (issue 6). */
export interface DriftSettings {
  enabled?: boolean;
  /** A cron expression (5 fields, or 6 with seconds first). */
  schedule?: string;
  /** Re-apply the default branch when drift is found; off unless set. */
  remediate?: boolean;
}

/** One `repos[]` entry of the server config, validated. */
export interface ServerRepoRule {
  /** Exact `owner/repo` (or Atlantis's `host/owner/repo`), or a regex written `/…/`. */
  id: string | RegExp;
  /** `branch: /regex/`: the rule applies only to pull requests into a matching base branch. */
  branch?: RegExp;
  applyRequirements?: ApplyRequirement[];
  /** `plan_requirements`: what must hold before a plan runs (Atlantis's plan requirements). */
  planRequirements?: ApplyRequirement[];
  allowedOverrides?: AllowedOverride[];
  allowedWorkflows?: string[];
  allowCustomWorkflows?: boolean;
  workflow?: string;
  drift?: DriftSettings;
  autodiscover?: { mode: AutodiscoverMode };
  /** `repo_config_file`: where in the repository its Atlantis config is, instead of `atlantis.yaml`. */
  repoConfigFile?: string;
  /** Atlantis's `pre_workflow_hooks`: run in the repository root before its config is read. */
  preWorkflowHooks?: WorkflowHook[];
  /** Atlantis's `post_workflow_hooks`: run in the repository root after the command. */
  postWorkflowHooks?: WorkflowHook[];
  /** Where the entry is, for messages: `repos[1] in /etc/tideline.yaml line 4`. */
  origin: string;
}

/** A server-side workflow hook: `<shell> <shellArgs…> <run>` (default `sh -c`) in the repo root. */
export interface WorkflowHook {
  run: string;
  description?: string;
  shell?: string;
  shellArgs?: string[];
  /** The commands it runs for (`plan`, `apply`, `autoplan`, `unlock`); absent: every command. */
  commands?: string[];
}

export interface ServerRepoConfig {
  rules: ServerRepoRule[];
  /** Server-side workflows by name; `default` here replaces the built-in default. */
  workflows: Record<string, Workflow>;
  /** Keys accepted but not acted on yet, each naming the key and where it is. */
  warnings: string[];
}

/** What the server rules say for one repository, after every matching rule applied in order. */
export interface EffectiveRepoRules {
  applyRequirements: ApplyRequirement[];
  planRequirements: ApplyRequirement[];
  allowedOverrides: AllowedOverride[];
  /** Empty: every defined workflow may be chosen. */
  allowedWorkflows: string[];
  allowCustomWorkflows: boolean;
  /** The server's workflow for this repository; null means `default`. */
  workflow: string | null;
  drift: DriftSettings;
  /** The server's autodiscover mode for this repository; null leaves it to the repo config. */
  autodiscoverMode: AutodiscoverMode | null;
  /** The repository's Atlantis config file (`repo_config_file`, repo-relative); null: `atlantis.yaml`. */
  repoConfigFile: string | null;
  /** Origins of the rules that matched, in order (for logs and messages). */
  matched: string[];
}
