// Which projects a command is about. Without a repo config (the only case so far), a project
// is a directory holding Terraform files: the one named by `-d`, or every directory whose
// Terraform files the pull request changed, each in workspace `default` unless `-w` says.

import { existsSync, readdirSync, statSync } from 'node:fs';
import { posix } from 'node:path';
import type { ProjectSelector } from '../commands/types.js';
import { ensureInside, PathEscapeError } from '../workspace/ensure-inside.js';
import type { Project } from './types.js';

export type ResolveResult = { ok: true; projects: Project[] } | { ok: false; message: string };

const TERRAFORM_FILE = /\.(tf|tf\.json)$/;
const TERRAFORM_CHANGE = /\.(tf|tf\.json|tfvars|tfvars\.json)$/;

export async function resolveProjects(
  checkoutRoot: string,
  selector: ProjectSelector,
  changedFiles: () => Promise<string[]>,
): Promise<ResolveResult> {
  if (selector.project !== undefined) {
    return {
      ok: false,
      message: `there is no project named \`${selector.project}\`: this repository has no repo config declaring projects, so select a directory with \`-d dir\` instead`,
    };
  }
  const workspace = selector.workspace ?? 'default';
  if (selector.dir !== undefined || selector.workspace !== undefined) {
    const dir = selector.dir ?? '.';
    const problem = checkTerraformDir(checkoutRoot, dir);
    if (problem !== null) return { ok: false, message: problem };
    return { ok: true, projects: [{ dir, workspace, kind: 'terraform' }] };
  }
  const dirs = new Set<string>();
  for (const file of await changedFiles()) {
    if (TERRAFORM_CHANGE.test(file)) dirs.add(posix.dirname(file));
  }
  const projects: Project[] = [];
  for (const dir of [...dirs].sort()) {
    if (checkTerraformDir(checkoutRoot, dir) === null) projects.push({ dir, workspace, kind: 'terraform' });
  }
  return { ok: true, projects };
}

/** Null when `dir` is inside the checkout and holds Terraform files; else the problem. */
export function checkTerraformDir(checkoutRoot: string, dir: string): string | null {
  let abs: string;
  try {
    abs = ensureInside(checkoutRoot, dir);
  } catch (err: unknown) {
    if (err instanceof PathEscapeError) return `directory \`${dir}\` resolves outside the repository: use a path inside it`;
    throw err;
  }
  if (!existsSync(abs) || !statSync(abs).isDirectory()) {
    return `directory \`${dir}\` does not exist at the pull request's head commit`;
  }
  if (!readdirSync(abs).some((f) => TERRAFORM_FILE.test(f))) {
    return `directory \`${dir}\` holds no Terraform files (*.tf, *.tf.json)`;
  }
  return null;
}
