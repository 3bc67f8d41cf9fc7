// What the terraform runner refuses or owns: extra arguments that would move files it
// chooses, the TF_* variables that would bypass that, and workspace names that are not names.

/**
 * Extra-argument flags refused because they would make terraform read or write files the
 * runner does not choose (outside the project, or instead of the plan file it owns). Matched
 * on the flag name, so `-out=x`, `--out=x` and `-out x` are all refused. Kept short on
 * purpose: everything else (-target, -var, -var-file, -parallelism, -refresh=false, …) is the
 * commenter's business, as in Atlantis.
 */
const REFUSED_FLAGS: ReadonlyMap<string, string> = new Map([
  ['chdir', 'Tideline runs terraform in the project directory'],
  ['out', 'Tideline owns the plan file path'],
  ['state', 'state stays where the backend keeps it'],
  ['state-out', 'state stays where the backend keeps it'],
  ['backup', 'state backups stay where the backend keeps them'],
  ['generate-config-out', 'it writes generated configuration to a path of its own'],
  ['detailed-exitcode', 'Tideline reads the plan result from that exit code: it is always on'],
]);

/**
 * Variables the runner owns, removed from the base env and from `ctx.env`:
 * TF_WORKSPACE (the workspace is chosen by `workspace select`, and terraform refuses to
 * select while it is set), TF_DATA_DIR (`.terraform` stays inside the project dir), and
 * TF_CLI_ARGS / TF_CLI_ARGS_<cmd> (they would bypass the refusal list above).
 */
function isRunnerOwnedVar(name: string): boolean {
  return (
    name === 'TF_WORKSPACE' ||
    name === 'TF_DATA_DIR' ||
    name === 'TF_CLI_ARGS' ||
    name.startsWith('TF_CLI_ARGS_')
  );
}

export function withoutRunnerOwnedVars(
  env: Readonly<Record<string, string>> | undefined,
): Record<string, string> {
  const kept: Record<string, string> = {};
  for (const [name, value] of Object.entries(env ?? {})) {
    if (!isRunnerOwnedVar(name)) kept[name] = value;
  }
  return kept;
}

/** Letters, digits, `_`, `.`, `-`, not starting with `-` or `.` (so never a flag or `..`). */
const WORKSPACE_NAME = /^[A-Za-z0-9_][A-Za-z0-9_.-]*$/;

/** The first refused extra argument, as a message naming it and why; null when all are fine. */
export function refuseExtraArgs(extraArgs: readonly string[]): string | null {
  for (const arg of extraArgs) {
    const flag = /^--?([A-Za-z][\w-]*)(?:=|$)/.exec(arg)?.[1];
    if (flag === undefined) continue;
    const reason = REFUSED_FLAGS.get(flag);
    if (reason !== undefined) {
      return `extra argument -${flag} is not allowed: ${reason}`;
    }
  }
  return null;
}

/** A message when `workspace` is not a safe workspace name; null when it is. */
export function refuseWorkspace(workspace: string): string | null {
  if (WORKSPACE_NAME.test(workspace)) return null;
  return (
    `invalid workspace name ${JSON.stringify(workspace)}: ` +
    'use letters, digits, "_", "." and "-", starting with a letter, digit or "_"'
  );
}
