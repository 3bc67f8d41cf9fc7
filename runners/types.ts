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
}

export interface ApplyOutcome {
  result: 'applied' | 'error';
  output: string;
  exitCode: number;
  durationMs: number;
}

/**
 * One step of a plan or apply workflow (Atlantis's custom workflows). `run` executes a
 * command in the project dir; `env` sets a variable for the later steps of the same stage.
 */
export type WorkflowStep =
  | { kind: 'init'; extraArgs: string[] }
  | { kind: 'plan'; extraArgs: string[] }
  | { kind: 'apply'; extraArgs: string[] }
  | { kind: 'run'; command: string; shell?: string; output?: 'show' | 'hide' | 'strip_refreshing' }
  | { kind: 'env'; name: string; value?: string; command?: string };
