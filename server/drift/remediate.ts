// Remediation (self-heal): apply the desired state the check just computed (for Terraform, the
// plan the sweep made), so the infrastructure matches the default branch again. Only when no
// pull request holds the project's lock: the apply takes the lock itself under pull number 0
// (reserved: "the default branch", branch-lock.ts) and always gives it back. The audit record
// says what was corrected.

import { existsSync } from 'node:fs';
import { SERVER_ACTOR } from '../audit/index.js';
import { sha256, sha256File } from '../jobs/digest.js';
import { lockForBranch, unlockForBranch } from './branch-lock.js';
import type { CheckInput, ProjectChecker } from './check-project.js';
import type { ProjectCheck } from './types.js';

export interface RemediationResult {
  result: 'applied' | 'failed' | 'locked';
  /** Masked apply output, or why nothing was applied. */
  output: string;
}

export async function remediateProject(
  input: CheckInput,
  key: string,
  check: ProjectCheck,
  apply: NonNullable<ProjectChecker['apply']>,
  trigger: string,
): Promise<RemediationResult> {
  const { ctx, repo, project } = input;
  const lock = lockForBranch(ctx.db, ctx.audit, repo.fullName, repo.defaultBranch, project);
  if (!lock.acquired) return { result: 'locked', output: `not re-applied: locked by #${lock.holder.pull}` };
  try {
    const planSha256 = check.planFile !== undefined && existsSync(check.planFile) ? sha256File(check.planFile) : null;
    ctx.log.info({ project: key, sha: input.headSha }, 'drift remediation started');
    const outcome = await apply(input, check);
    ctx.log.info({ project: key, result: outcome.result, ms: outcome.durationMs }, 'drift remediation finished');
    ctx.audit.append({
      type: 'drift.remediation',
      actor: SERVER_ACTOR,
      repo: repo.fullName,
      project: key,
      fields: {
        dir: project.dir,
        workspace: project.workspace,
        name: project.name ?? null,
        kind: project.kind,
        headSha: input.headSha,
        trigger,
        result: outcome.result,
        corrected: check.summary,
        fingerprint: check.fingerprint,
        exitCode: outcome.exitCode,
        durationMs: Math.round(outcome.durationMs),
        planSha256,
        outputSha256: sha256(outcome.output),
      },
    });
    return { result: outcome.result === 'applied' ? 'applied' : 'failed', output: outcome.output };
  } finally {
    unlockForBranch(ctx.db, ctx.audit, lock.key, repo.defaultBranch, 'drift remediation finished');
  }
}
