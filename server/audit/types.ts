// The shapes of the audit log: what a caller records (`AuditInput`) and what the log holds
// (`AuditRecord`). See `record.ts` for how a record is hashed into the chain.

export const AUDIT_TYPES = [
  'webhook.accepted',
  'webhook.refused',
  'webhook.ignored',
  'command',
  'lock.taken',
  'lock.released',
  'lock.refused',
  'plan',
  'apply',
  'automerge',
  'requirement.refused',
  'permission.refused',
  'command.refused',
  'drift.check',
  'drift.transition',
  'drift.remediation',
  // Not `command.hook`: the `command.*` export filter would then sweep hook runs in with refusals.
  'workflow_hook',
  'config.error',
  'installation.suspended',
  'server.start',
  'server.stop',
  'audit.pruned',
  'audit.exported',
] as const;

export type AuditType = (typeof AUDIT_TYPES)[number];

export function isAuditType(text: string): text is AuditType {
  return (AUDIT_TYPES as readonly string[]).includes(text);
}

/** The actor of records the server writes on its own behalf (start, stop, drift, pruning). */
export const SERVER_ACTOR = 'tideline';

export interface AuditInput {
  type: AuditType;
  /** GitHub login, or `tideline` for the server itself. */
  actor: string;
  repo?: string;
  pull?: number;
  project?: string;
  fields: Record<string, unknown>;
}

export interface AuditRecord {
  seq: number;
  /** ISO 8601 UTC with milliseconds, e.g. `2025-01-31T12:00:00.000Z`. */
  time: string;
  type: AuditType;
  actor: string;
  repo: string | null;
  pull: number | null;
  project: string | null;
  configDigest: string;
  fields: Record<string, unknown>;
  prevHash: string;
  hash: string;
}

/** The fields of an `audit.pruned` record: what verify needs to accept the gap it leaves. */
export interface PrunedFields {
  prunedCount: number;
  firstSeq: number;
  lastSeq: number;
  /** Hash of record `lastSeq`: the first remaining record's `prevHash` must equal it. */
  lastPrunedHash: string;
}

/** `prev_hash` of the first record ever written. */
export const GENESIS_HASH = '0'.repeat(64);
