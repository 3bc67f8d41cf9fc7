// Digests the audit log records of plans and applies: of the plan file and of the output shown.

import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';

export function sha256(text: string | Buffer): string {
  return createHash('sha256').update(text).digest('hex');
}

/** Null when the file cannot be read (a failed plan leaves none). */
export function sha256File(file: string): string | null {
  try {
    return sha256(readFileSync(file));
  } catch {
    return null;
  }
}
