// TIDELINE_TERRAFORM_BIN and TIDELINE_KUBECTL_BIN, when set, must name a program the server user
// can run. Checked with every other setting, because otherwise start-up succeeds, logs the tool
// as "not found" at info level, and every plan of that kind fails later in a PR comment. Unset,
// they stay optional: a Kubernetes-only install has no terraform (server.ts warns instead). The
// check only looks at the filesystem; nothing is run here.

import { accessSync, constants, statSync } from 'node:fs';
import path from 'node:path';

function code(error: unknown): string {
  return error instanceof Error && 'code' in error && typeof error.code === 'string' ? error.code : String(error);
}

type FileCheck = { ok: true } | { ok: false; missing: boolean; reason: string };

/** Whether `file` is a regular file the server user may execute, and if not, why. */
function checkFile(file: string): FileCheck {
  let isFile: boolean;
  try {
    isFile = statSync(file).isFile();
  } catch (error: unknown) {
    const missing = code(error) === 'ENOENT' || code(error) === 'ENOTDIR';
    return { ok: false, missing, reason: missing ? 'which does not exist' : `which cannot be read (${code(error)})` };
  }
  if (!isFile) return { ok: false, missing: false, reason: 'which is not a file' };
  try {
    accessSync(file, constants.X_OK);
    return { ok: true };
  } catch (error: unknown) {
    return { ok: false, missing: false, reason: `which the server user cannot execute (${code(error)})` };
  }
}

/**
 * Null when `command` can be run: a path (absolute, as read-env resolves it) to an executable
 * file, or a bare name found as one on `searchPath` (the PATH children get, where the spawn
 * looks it up too). Else what is wrong, reading on from "names <command>, ".
 */
export function commandProblem(command: string, searchPath: string | undefined): string | null {
  if (command.includes('/')) {
    const check = checkFile(command);
    return check.ok ? null : check.reason;
  }
  // Empty entries (the current directory to a shell) are skipped: the server's cwd is not a bin dir.
  const dirs = (searchPath ?? '').split(path.delimiter).filter((dir) => dir !== '');
  if (dirs.length === 0) return 'which cannot be looked up: PATH is not set';
  let unusable: { file: string; reason: string } | null = null;
  for (const dir of dirs) {
    const file = path.join(dir, command);
    const check = checkFile(file);
    if (check.ok) return null;
    if (!check.missing) unusable ??= { file, reason: check.reason };
  }
  return unusable === null ? `which is not on PATH (${dirs.join(path.delimiter)})` : `found on PATH as ${unusable.file}, ${unusable.reason}`;
}
