// Where a project's saved plan and its JSON form (`terraform show -json`, Atlantis's $SHOWFILE)
// live, and how they are cleared before a plan: the JSON sits next to the plan file so that
// whatever deletes one can delete the other, and a failed plan never leaves either behind.

import { mkdir, rm, stat } from 'node:fs/promises';
import { rmSync } from 'node:fs';
import path from 'node:path';

export async function exists(file: string): Promise<boolean> {
  try {
    await stat(file);
    return true;
  } catch {
    return false;
  }
}

/** `<plan>.json` beside `<plan>.tfplan` (Atlantis: `<project>-<workspace>.json` beside the plan). */
export function showFilePath(planPath: string): string {
  return planPath.endsWith('.tfplan') ? `${planPath.slice(0, -'.tfplan'.length)}.json` : `${planPath}.json`;
}

/**
 * Remove any earlier file at `planPath` and its show file (so a failed plan never leaves an old
 * plan, or an old plan's JSON, behind to be applied or read) and make its directory. A message
 * when that fails; null when done.
 */
export async function preparePlanFile(planPath: string): Promise<string | null> {
  try {
    await rm(planPath, { force: true });
    await rm(showFilePath(planPath), { force: true });
    await mkdir(path.dirname(planPath), { recursive: true });
    return null;
  } catch (error: unknown) {
    const reason = error instanceof Error ? error.message : String(error);
    return `cannot prepare plan file ${planPath}: ${reason}`;
  }
}

/** Deletes a plan file and its show file, if they exist. */
export function removePlanFiles(planPath: string): void {
  rmSync(planPath, { force: true });
  rmSync(showFilePath(planPath), { force: true });
}
