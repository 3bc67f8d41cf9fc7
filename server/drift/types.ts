// The shapes of drift detection: what a sweep needs (DriftDeps), what one project's check found,
// the state kept per project, and what a sweep reports.

import type { ChangeSummary, ProjectKind } from '../../runners/types.js';
import type { DriftAlertSwitches } from '../../config/drift-settings.js';
import type { JobContext } from '../jobs/context.js';

export type DriftState = 'clean' | 'drifted' | 'error' | 'skipped';

/** Each alert channel, switchable in the server config (`drift.alerts`). */
export type DriftAlertConfig = DriftAlertSwitches;

export interface DriftDeps {
  ctx: JobContext;
  alerts: DriftAlertConfig;
  /** TIDELINE_DRIFT_WEBHOOK_URL + TIDELINE_DRIFT_WEBHOOK_SECRET; null sends no webhook. */
  webhook: { url: string; secret: string } | null;
  /** `drift.lock_timeout` of the server config; default `60s`. */
  lockTimeout?: string;
  /** `drift.remediate` of the server config: the default when no repo rule says; default false. */
  remediate?: boolean;
  /** TIDELINE_REPO_ALLOWLIST: a repository taken off it is no longer swept; absent: every one is. */
  isAllowed?: (repoFullName: string) => boolean;
  now?: () => Date;
  fetchImpl?: typeof fetch;
}

/** What checking one project came to, before it is compared with what was known. */
export interface ProjectCheck {
  state: DriftState;
  /** Why a project was skipped, or what went wrong; null when clean or drifted. */
  reason: string | null;
  /** sha256 of the normalised plan; set exactly when drifted. */
  fingerprint: string | null;
  summary: ChangeSummary | null;
  /** Masked plan (or error) output. */
  output: string;
  exitCode: number;
  durationMs: number;
  /** The saved plan, kept only while remediation may still apply it. */
  planFile?: string;
}

/** A project's drift record, as the UI and `GET /api/drift` show it. */
export interface DriftProjectState {
  key: string;
  repo: string;
  dir: string;
  workspace: string;
  name: string | null;
  kind: ProjectKind;
  state: DriftState;
  reason: string | null;
  summary: ChangeSummary | null;
  /** Default-branch commit of the last check. */
  headSha: string | null;
  /** The open drift's fingerprint; null when no drift is open. */
  fingerprint: string | null;
  /** When the open drift (with any fingerprint) was first seen. */
  firstSeen: string | null;
  /** When drift with the current fingerprint was last seen. */
  lastSeen: string | null;
  issue: { number: number; url: string | null } | null;
  remediatedAt: string | null;
  lastChecked: string;
  lastChanged: string;
  /** A cut of the last plan or error output. */
  excerpt: string | null;
  /** The project's own drift schedule (repo config), when it has one. */
  schedule: string | null;
}

/** What a transition means for the alerts. */
export type DriftEvent = 'detected' | 'changed' | 'resolved' | 'remediated';

export interface ProjectResult {
  key: string;
  dir: string;
  workspace: string;
  name: string | null;
  kind: ProjectKind;
  state: DriftState;
  reason: string | null;
  event: DriftEvent | null;
  fingerprint: string | null;
  summary: ChangeSummary | null;
  /** When remediation ran: whether its apply succeeded. */
  remediation: 'applied' | 'failed' | null;
}

export interface SweepSummary {
  repo: string;
  trigger: 'schedule' | 'api';
  /** False when the sweep did not run: another held the repository, or it could not start. */
  ran: boolean;
  /** Why it did not run, or why it stopped before checking projects (checkout, repo config). */
  reason: string | null;
  headSha: string | null;
  startedAt: string;
  durationMs: number;
  projects: ProjectResult[];
  counts: Record<DriftState, number>;
}

/** A sweep refused before checking anything (lease held, repo unknown): typed for callers. */
export class DriftSweepError extends Error {
  override readonly name = 'DriftSweepError';
}
