// Drift of a kubernetes project: the default branch's rendered manifests against the cluster,
// by the same server-side dry-run diff a PR plan uses. Any `+`, `~` or `-` is drift; the
// rendered bundle is what remediation applies.

import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { ApplyOutcome } from '../../runners/types.js';
import { applyKubernetes, planKubernetes, renderProject } from '../jobs/kube-project.js';
import { checkFromPlan, errorCheck, errorReason, type CheckInput, type ProjectChecker } from './check-project.js';
import type { ProjectCheck } from './types.js';

export const kubernetesChecker: ProjectChecker = { check: checkKubernetes, apply: applyKubernetesBundle };

async function checkKubernetes(input: CheckInput): Promise<ProjectCheck> {
  const { ctx, project, tree } = input;
  if (!existsSync(join(tree, project.dir))) {
    return errorCheck(`dir \`${project.dir}\` does not exist on ${input.repo.defaultBranch} at ${input.headSha.slice(0, 7)}: fix the repo config`);
  }
  const rendered = await renderProject(ctx, project, tree);
  if (!rendered.ok) return errorCheck(errorReason(rendered.outcome.output));
  const outcome = await planKubernetes(ctx, input.repo.fullName, project, tree, rendered.bundle, input.planFile, []);
  // The per-object diff, not the whole text: its header names the field manager and counts.
  return checkFromPlan(outcome, outcome.diff ?? outcome.output);
}

/**
 * Applies the bundle the check rendered, with prune, as a PR apply would (pull 0: the branch).
 * Conflicts are forced: whoever edited the drifted fields took them over, and self-heal
 * gives them back to Git.
 */
async function applyKubernetesBundle(input: CheckInput, check: ProjectCheck): Promise<ApplyOutcome> {
  if (check.planFile === undefined) return { result: 'error', output: 'no rendered bundle to apply', exitCode: -1, durationMs: 0 };
  return applyKubernetes(input.ctx, input.repo.fullName, 0, input.project, input.tree, check.planFile, [], { forceConflicts: true });
}
