// TIDELINE_DATA_DIR must be a directory the server user can write, or one it can create. Checked
// with every other setting, because start-up would otherwise stop deep inside with
// `EACCES: permission denied, mkdir '/data/repos'` or SQLite's bare "unable to open database
// file", naming neither the variable nor the fix (a volume mounted with the host's owner is the
// usual cause). Nothing is created here: a typo must not leave directories behind.

import { accessSync, constants, statSync } from 'node:fs';
import path from 'node:path';

const FIX = 'let the server user write it (the image runs as uid 10001: `chown -R 10001:10001` the volume), or point it at a directory that user can write';

function code(error: unknown): string {
  return error instanceof Error && 'code' in error && typeof error.code === 'string' ? error.code : String(error);
}

function writable(target: string, mode: number): string | null {
  try {
    accessSync(target, mode);
    return null;
  } catch (error: unknown) {
    return code(error);
  }
}

/**
 * Null when `dir` (absolute) is a writable directory, or does not exist and its nearest existing
 * ancestor is one; else what is wrong, reading on from "names <dir>, ".
 */
export function dataDirProblem(dir: string): string | null {
  let probe = dir;
  for (;;) {
    let isDirectory: boolean;
    try {
      isDirectory = statSync(probe).isDirectory();
    } catch (error: unknown) {
      const parent = path.dirname(probe);
      // ENOTDIR: a file stands somewhere above; the next round up finds and names it.
      if ((code(error) === 'ENOENT' || code(error) === 'ENOTDIR') && parent !== probe) {
        probe = parent;
        continue;
      }
      return `which cannot be read (${code(error)}): ${FIX}`;
    }
    if (!isDirectory) {
      return probe === dir ? `which is a file, not a directory: point it at a directory` : `but ${probe} is a file, not a directory: point it at a directory`;
    }
    const denied = writable(probe, constants.W_OK | constants.X_OK);
    if (denied !== null) {
      return probe === dir ? `which the server user cannot write (${denied}): ${FIX}` : `which the server user cannot create, as ${probe} is not writable (${denied}): ${FIX}`;
    }
    // A database copied in by another user (a restore as root) is refused by SQLite later. The
    // name is server/store's `dbPath`, which config/ may not import.
    const db = path.join(dir, 'tideline.db');
    if (probe === dir && exists(db)) {
      const dbDenied = writable(db, constants.R_OK | constants.W_OK);
      if (dbDenied !== null) return `whose ${db} the server user cannot write (${dbDenied}): ${FIX}`;
    }
    return null;
  }
}

function exists(file: string): boolean {
  try {
    statSync(file);
    return true;
  } catch {
    return false;
  }
}
