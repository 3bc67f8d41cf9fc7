// Shared shapes of the runners: what a plan or an apply of one project produced.
// Terraform and Kubernetes runners both answer in these terms so the pipeline, the comments
// and the audit log never need to know which kind ran.

export type ProjectKind = 'terraform' | 'kubernetes';

/** Counts in Terraform's `Plan: X to add, Y to change, Z to destroy.` sense. */
export interface ChangeSummary {
  add: number;
  change: number;
  destroy: number;
}

/** Streams a child's output (already masked) as it arrives, e.g. to a live log. */
export type OutputListener = (chunk: string) => void;

export interface RunContext {
  /** Absolute path of the project directory inside the checkout. */
  projectDir: string;
  /** Terraform workspace (or its Kubernetes equivalent name). */
  workspace: string;
  /** Extra arguments the commenter gave after `--`. */
  extraArgs: readonly string[];
  /** Environment variables added to the allow-listed base for this run (e.g. TF_VAR_*). */
  env?: Readonly<Record<string, string>>;
  onOutput?: OutputListener;
  /** Aborted when the server shuts down: every child of the run is killed. */
  signal?: AbortSignal;
}

/** A Kubernetes object: `apiVersion` names its group (the version is not part of its identity). */
export interface ObjectRef {
  apiVersion: string;
  kind: string;
  /** null for cluster-scoped objects, and for namespaced ones left to the kubeconfig's namespace. */
  namespace: string | null;
  name: string;
}

/** `+` create, `~` update, `-` delete (prune), `=` unchanged. */
export type ObjectAction = '+' | '~' | '-' | '=';

export interface PlannedObjectChange {
  ref: ObjectRef;
  action: ObjectAction;
  /** Why apply would need `--force-conflicts` for this object (kubectl's conflict message). */
  conflict?: string;
}

export interface PlanOutcome {
  /** `changes` when the plan would change something, `no-changes`, or `error`. */
  result: 'changes' | 'no-changes' | 'error';
  summary: ChangeSummary | null;
  /** Masked, human-readable output of the plan (and of init when init failed). */
  output: string;
  /** Absolute path of the saved plan file; absent when the plan failed. */
  planFile?: string;
  exitCode: number;
  durationMs: number;
  /** Kubernetes: every object of the plan with its action, prunes included. */
  objects?: PlannedObjectChange[];
  /** Kubernetes: the unified diff of all changes (also at the end of `output`), Secret values masked. */
  diff?: string;
  /** Kubernetes: sha256 (hex) of the rendered bundle written to the plan file. */
  bundleSha256?: string;
  /** Things the reviewer should know that do not fail the plan (field-manager conflicts, …). */
  warnings?: string[];
}

export interface ApplyOutcome {
  result: 'applied' | 'error';
  output: string;
  exitCode: number;
  durationMs: number;
  /** Kubernetes: the objects applied (the planned bundle), when the apply succeeded. */
  applied?: ObjectRef[];
  /** Kubernetes: the objects deleted as no longer in Git. */
  pruned?: ObjectRef[];
  /**
   * Kubernetes: what to remember as this project's applied objects for the next plan's
   * prune (`previouslyApplied`): the bundle, plus earlier objects not pruned this time.
   */
  remember?: ObjectRef[];
  /** Kubernetes: sha256 (hex) of the bundle read from the plan file. */
  bundleSha256?: string;
}

/**
 * One step of a plan or apply workflow (Atlantis's custom workflows). `run` executes a
 * command in the project dir; `env` sets a variable for the later steps of the same stage.
 * A command runs as `<shell> ...shellArgs <command>`: shell `sh` and shellArgs `['-c']` by
 * default, as in Atlantis.
 */
export type WorkflowStep =
  | { kind: 'init'; extraArgs: string[] }
  | { kind: 'plan'; extraArgs: string[] }
  | { kind: 'apply'; extraArgs: string[] }
  /** Atlantis's `show`: `terraform show -json <planFile>` written to $SHOWFILE. */
  | { kind: 'show' }
  | {
      kind: 'run';
      command: string;
      shell?: string;
      shellArgs?: string[];
      output?: 'show' | 'hide' | 'strip_refreshing' | 'custom_regex' | 'strip_refreshing_with_custom_regex';
      /** With the two `custom_regex` outputs: what matches is shown as `<redacted>` (a JavaScript regex, global). */
      regexFilter?: string;
    }
  | {
      kind: 'env';
      name: string;
      value?: string;
      command?: string;
      shell?: string;
      shellArgs?: string[];
    }
  /**
   * Atlantis's `multienv`: runs `command` and sets every `NAME=value` pair it prints
   * (comma-separated, see multienv.ts) for the later steps. `hide` leaves out the list of names.
   */
  | { kind: 'multienv'; command: string; shell?: string; shellArgs?: string[]; output?: 'show' | 'hide' };

/**
 * The environment variables Atlantis gives `run` and `env` steps (its "native environment
 * variables"). WORKSPACE, DIR and PLANFILE are always set from the run itself (workspace,
 * projectDir, resolved planFile), whatever is given here. Nothing else reaches a step through
 * this object: only the names below are read, so a stray property can never carry a token.
 */
export interface StepVariables {
  /** Terraform workspace, e.g. `default`. */
  WORKSPACE: string;
  /** Absolute path of the project directory. */
  DIR: string;
  /** Absolute path where the plan is written (plan stage) or read from (apply stage). */
  PLANFILE: string;
  /** Absolute path of the plan in JSON (`terraform show -json`), beside the plan file, where a
   * `show` step writes it. Set from PLANFILE by the workflow runner. */
  SHOWFILE: string;
  BASE_REPO_NAME: string;
  BASE_REPO_OWNER: string;
  HEAD_REPO_NAME: string;
  HEAD_REPO_OWNER: string;
  HEAD_BRANCH_NAME: string;
  HEAD_COMMIT: string;
  BASE_BRANCH_NAME: string;
  /** Project name from the repo config; empty when the project has none. */
  PROJECT_NAME: string;
  PULL_NUM: string;
  PULL_URL: string;
  PULL_AUTHOR: string;
  /** Project dir relative to the repo root; `.` at the root. */
  REPO_REL_DIR: string;
  /** Who ran the command; the server's own user for autoplan. */
  USER_NAME: string;
  /** The comment's extra args, Atlantis-escaped: see commentArgsVariable in workflow.ts. */
  COMMENT_ARGS: string;
  /** e.g. `1.11.4`, when the server knows it. */
  ATLANTIS_TERRAFORM_VERSION?: string;
  /** `true` / `false`, when the server knows it. */
  ATLANTIS_PR_APPROVED?: string;
  /** `true` / `false`, when the server knows it. */
  ATLANTIS_PR_MERGEABLE?: string;
}

/** A plan or apply stage of a custom workflow (`workflow.ts`). */
export interface WorkflowRun extends RunContext {
  /** Where the plan is written / read; relative paths are taken from the project dir. */
  planFile: string;
  variables: StepVariables;
  /** Timeout of each `run` step and `env` command; default 30 min (workflow.ts). */
  runTimeoutMs?: number;
}
