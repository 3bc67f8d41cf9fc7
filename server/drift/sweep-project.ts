// One project of a sweep: skip it when a pull request holds its lock, else check it, re-apply
// it when remediation is on and it drifted, then move its drift state and write the
// `drift.check` (and `drift.transition`) audit records in the same transaction as the state.

import { removePlanFiles } from '../../runners/plan-files.js';
import { SERVER_ACTOR } from '../audit/index.js';
import { sha256 } from '../jobs/digest.js';
import { JobInterruptedError } from '../jobs/worker-pool.js';
import { getLock, lockKey } from '../locks/locks.js';
import type { Project } from '../projects/index.js';
import { skippedCheck, type CheckInput, type ProjectChecker } from './check-project.js';
import { planExcerpt } from './render.js';
import { DEFAULT_BRANCH_PULL } from './branch-lock.js';
import { remediateProject, type RemediationResult } from './remediate.js';
import { nextDriftState, type DriftTransition } from './state-machine.js';
import { getDriftRecord, saveDriftRecord, type DriftRecord } from './store.js';
import type { ProjectCheck } from './types.js';

export interface ProjectRun {
  input: CheckInput;
  checker: ProjectChecker;
  remediate: boolean;
  trigger: 'schedule' | 'api';
  now: () => Date;
}

export interface ProjectOutcome {
  key: string;
  project: Project;
  check: ProjectCheck;
  transition: DriftTransition;
  before: DriftRecord | null;
  after: DriftRecord;
  remediation: RemediationResult | null;
  excerpt: string;
}

export async function sweepProject(run: ProjectRun): Promise<ProjectOutcome> {
  const { ctx, repo, project } = run.input;
  const key = lockKey(repo.fullName, project);
  const interrupted = (): boolean => ctx.signal?.aborted === true;
  try {
    if (interrupted()) throw new JobInterruptedError('drift sweep stopped by shutdown');
    let check = await checkUnlessLocked(run, key);
    // A pull request that took the lock while the plan ran may have applied: that is no drift.
    const holder = heldByPull(run, key);
    if (holder !== null && check.state !== 'skipped') check = skippedCheck(`locked by #${holder}`);
    let remediation: RemediationResult | null = null;
    const apply = run.checker.apply;
    if (check.state === 'drifted' && run.remediate && apply !== undefined) {
      remediation = await remediateProject(run.input, key, check, apply, run.trigger);
    }
    // A check cut short by shutdown says nothing about drift: record nothing, the next sweep looks again.
    if (interrupted()) throw new JobInterruptedError('drift sweep stopped by shutdown');
    return record(run, key, check, remediation);
  } finally {
    removePlanFiles(run.input.planFile);
  }
}

async function checkUnlessLocked(run: ProjectRun, key: string): Promise<ProjectCheck> {
  const holder = heldByPull(run, key);
  if (holder !== null) return skippedCheck(`locked by #${holder}`);
  if (run.input.project.drift?.enabled === false) return skippedCheck('drift checks are disabled for this project in the repo config');
  return run.checker.check(run.input);
}

/** The pull request holding the project's lock; null when free or held for the default branch. */
function heldByPull(run: ProjectRun, key: string): number | null {
  const lock = getLock(run.input.ctx.db, key);
  return lock === null || lock.pull === DEFAULT_BRANCH_PULL ? null : lock.pull;
}

function record(run: ProjectRun, key: string, check: ProjectCheck, remediation: RemediationResult | null): ProjectOutcome {
  const { ctx, repo, project, headSha } = run.input;
  const now = run.now().toISOString();
  const before = getDriftRecord(ctx.db, key);
  const remediated = remediation?.result === 'applied';
  const transition = nextDriftState(
    { state: before?.state ?? null, fingerprint: before?.fingerprint ?? null },
    { state: check.state, fingerprint: check.fingerprint, remediated },
  );
  const excerpt = planExcerpt(check.output);
  const after: DriftRecord = {
    key,
    repo: repo.fullName,
    dir: project.dir,
    workspace: project.workspace,
    name: project.name ?? null,
    kind: project.kind,
    state: transition.state,
    reason: reasonOf(check, remediation),
    summary: check.summary,
    excerpt: excerpt === '' ? null : excerpt,
    headSha,
    schedule: project.drift?.schedule ?? null,
    fingerprint: transition.fingerprint,
    firstSeen: transition.opened ? now : transition.fingerprint === null ? null : (before?.firstSeen ?? now),
    lastSeen: transition.opened || transition.seenAgain ? now : transition.fingerprint === null ? null : (before?.lastSeen ?? null),
    issueNumber: before?.issueNumber ?? null,
    issueUrl: before?.issueUrl ?? null,
    remediatedAt: remediated ? now : (before?.remediatedAt ?? null),
    lastChecked: now,
    lastChanged: transition.stateChanged || before === null ? now : before.lastChanged,
  };
  const fields = {
    dir: project.dir,
    workspace: project.workspace,
    name: project.name ?? null,
    kind: project.kind,
    headSha,
    trigger: run.trigger,
    state: check.state,
    reason: check.reason,
    fingerprint: check.fingerprint,
    summary: check.summary,
    exitCode: check.exitCode,
    durationMs: Math.round(check.durationMs),
    outputSha256: sha256(check.output),
  };
  ctx.db.transaction(() => {
    saveDriftRecord(ctx.db, after);
    ctx.audit.append({ type: 'drift.check', actor: SERVER_ACTOR, repo: repo.fullName, project: key, fields });
    if (transition.stateChanged || transition.event !== null) {
      ctx.audit.append({
        type: 'drift.transition',
        actor: SERVER_ACTOR,
        repo: repo.fullName,
        project: key,
        fields: {
          from: before?.state ?? null,
          to: transition.state,
          event: transition.event,
          fingerprint: transition.fingerprint,
          previousFingerprint: before?.fingerprint ?? null,
          headSha,
          ...(remediation === null ? {} : { remediation: remediation.result, corrected: check.summary }),
        },
      });
    }
  })();
  return { key, project, check, transition, before, after, remediation, excerpt };
}

function reasonOf(check: ProjectCheck, remediation: RemediationResult | null): string | null {
  if (remediation === null) return check.reason;
  switch (remediation.result) {
    case 'applied':
      return 'drift corrected: Tideline re-applied the default branch';
    case 'locked':
      return remediation.output;
    case 'failed':
      return `remediation failed: ${remediation.output.split('\n').find((l) => l.trim() !== '')?.trim() ?? 'no output'}`;
  }
}
