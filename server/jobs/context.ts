// Everything a job needs, passed explicitly (no module-level state). Built once by main.ts.

import type { Logger } from 'pino';
import type { AuditLog } from '../audit/index.js';
import type { ExecContext } from '../../runners/exec.js';
import type { SecretMasker } from '../../runners/secrets.js';
import type { TerraformRunner } from '../../runners/terraform.js';
import type { KubernetesRunner } from '../../runners/kubernetes.js';
import type { KubernetesServerSettings } from '../../config/kubernetes-settings.js';
import type { RenderContext } from '../comments/types.js';
import type { Forge } from '../github/forge.js';
import type { Metrics } from '../metrics/index.js';
import type { LiveOutput } from './live-output.js';
import type { ServerRepoConfig } from '../projects/index.js';
import type { Db } from '../store/db.js';
import type { GitContext } from '../workspace/git.js';
import type { TerraformDistribution } from '../../runners/tool-versions.js';

export interface JobContext {
  db: Db;
  audit: AuditLog;
  forge: Forge;
  log: Logger;
  masker: SecretMasker;
  exec: ExecContext;
  /** Git settings without the token: the token is asked of the forge per repository. */
  git: Omit<GitContext, 'token'>;
  terraform: TerraformRunner;
  kubernetes: KubernetesRunner;
  kubectlBin: string;
  /** Cluster names → kubeconfig files, and whether `--force-conflicts` is allowed. */
  kube: KubernetesServerSettings;
  render: RenderContext;
  /** Where saved plan files live: `$TIDELINE_DATA_DIR/plans`. */
  plansDir: string;
  /**
   * What TIDELINE_TERRAFORM_BIN said it is at start-up: a project whose `terraform_distribution`
   * names the other one is refused. Absent or null (not told) counts as `terraform`; a refusal
   * under null says the probe could not tell, not that the server runs Terraform.
   */
  terraformDistribution?: TerraformDistribution | null;
  /** The server's `repos:` rules and workflows (TIDELINE_CONFIG). */
  repoRules: ServerRepoConfig;
  metrics: Metrics;
  /** Live output of running jobs, for the web UI. */
  live: LiveOutput;
  /** The job being run (set per job by the handlers); its output goes to `live`. */
  jobId?: number;
  /** Aborts when the server shuts down without waiting for this job; children are killed. */
  signal?: AbortSignal;
  /** How many projects of one execution group run at once. */
  parallelism: number;
  /** TIDELINE_ALLOW_FORK_PRS; absent is false: commands on a fork's pull request are refused. */
  allowForkPulls?: boolean;
  /** TIDELINE_FAIL_ON_PRE_WORKFLOW_HOOK_ERROR; absent is false: a failing pre hook does not stop its command. */
  failOnPreWorkflowHookError?: boolean;
  /** Wake the worker pool after enqueueing follow-up work. */
  notify: () => void;
}

export const STATUS_CONTEXT = {
  plan: 'tideline/plan',
  apply: 'tideline/apply',
  drift: 'tideline/drift',
} as const;
