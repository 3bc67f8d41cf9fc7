// Atlantis's step variables as a custom workflow step sees them: only the documented names
// reach the environment, whatever else the caller's object holds.

import type { StepVariables } from './types.js';

/** Every name of StepVariables; `satisfies` keeps the list and the interface in step. */
const STEP_VARIABLE_NAMES = Object.keys({
  WORKSPACE: true, DIR: true, PLANFILE: true, SHOWFILE: true, BASE_REPO_NAME: true,
  BASE_REPO_OWNER: true, HEAD_REPO_NAME: true, HEAD_REPO_OWNER: true, HEAD_BRANCH_NAME: true,
  HEAD_COMMIT: true, BASE_BRANCH_NAME: true, PROJECT_NAME: true, PULL_NUM: true, PULL_URL: true,
  PULL_AUTHOR: true, REPO_REL_DIR: true, USER_NAME: true, COMMENT_ARGS: true,
  ATLANTIS_TERRAFORM_VERSION: true, ATLANTIS_PR_APPROVED: true, ATLANTIS_PR_MERGEABLE: true,
} satisfies Record<keyof StepVariables, true>) as (keyof StepVariables)[];

/** The documented step variables that are set, as environment entries. */
export function stepVariableEnv(variables: StepVariables): Record<string, string> {
  const env: Record<string, string> = {};
  for (const name of STEP_VARIABLE_NAMES) {
    const value = variables[name];
    if (typeof value === 'string') env[name] = value;
  }
  return env;
}

/**
 * Atlantis's COMMENT_ARGS: each argument with a backslash before every character, joined
 * with commas (`-- -target=a b` → `\-\t\a\r\g\e\t\=\a,\b`), so a step can pass them on to a
 * shell word by word without the shell interpreting anything in them.
 */
export function commentArgsVariable(extraArgs: readonly string[]): string {
  return extraArgs.map((arg) => [...arg].map((char) => `\\${char}`).join('')).join(',');
}
