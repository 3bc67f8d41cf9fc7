// Whether a directory named by `-d` can be planned as an ad-hoc Terraform project.

import { existsSync, readdirSync, statSync } from 'node:fs';
import { ensureInside, PathEscapeError } from '../workspace/ensure-inside.js';

const TERRAFORM_FILE = /\.(tf|tf\.json)$/;

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
