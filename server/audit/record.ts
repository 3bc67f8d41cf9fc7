// How a record is stored and chained. The rule an external auditor needs to re-check an export:
//
//   hash = sha256_hex( prevHash ‖ canonicalJson({ seq, time, type, actor, repo, pull, project,
//                                                   configDigest, fields }) )
//
// where ‖ is plain concatenation (prevHash is always 64 hex characters), the keys are exactly
// the `AuditRecord` names above (camelCase, nulls included) and canonicalJson is RFC 8785-style
// (see canonical-json.ts). The first record's prevHash is 64 zeros. `seq` is part of the hashed
// content, so a record moved to another seq no longer matches its own hash.

import { createHash } from 'node:crypto';
import { canonicalJson } from './canonical-json.js';
import type { AuditRecord, AuditType } from './types.js';

/** A row of the `audit` table as better-sqlite3 returns it. */
export interface AuditRow {
  seq: number;
  time: string;
  type: string;
  actor: string;
  repo: string | null;
  pull: number | null;
  project: string | null;
  config_digest: string;
  fields: string;
  prev_hash: string;
  hash: string;
}

export type HashedContent = Omit<AuditRecord, 'prevHash' | 'hash' | 'type'> & { type: string };

export function contentJson(content: HashedContent): string {
  return canonicalJson({
    seq: content.seq,
    time: content.time,
    type: content.type,
    actor: content.actor,
    repo: content.repo,
    pull: content.pull,
    project: content.project,
    configDigest: content.configDigest,
    fields: content.fields,
  });
}

export function chainHash(prevHash: string, content: HashedContent): string {
  return createHash('sha256').update(prevHash).update(contentJson(content)).digest('hex');
}

/** The row's content as hashed, or null when its `fields` column is not JSON (an edit). */
export function rowContent(row: AuditRow, seq: number = row.seq): HashedContent | null {
  let fields: unknown;
  try {
    fields = JSON.parse(row.fields);
  } catch {
    return null;
  }
  if (typeof fields !== 'object' || fields === null || Array.isArray(fields)) return null;
  return {
    seq,
    time: row.time,
    type: row.type,
    actor: row.actor,
    repo: row.repo,
    pull: row.pull,
    project: row.project,
    configDigest: row.config_digest,
    fields: fields as Record<string, unknown>,
  };
}

/**
 * True when the row's stored hash is the hash of its own content (at `seq`, default its own) and
 * its `fields` column is exactly the canonical JSON that was hashed. The second half matters
 * because the hash covers the parsed value: `{"result":"succeeded","result":"failed"}` parses
 * (last key wins) to the hashed `{"result":"failed"}`, while SQLite's json_extract and other
 * readers take the first key and see "succeeded".
 */
export function rowHashMatches(row: AuditRow, seq: number = row.seq): boolean {
  const content = rowContent(row, seq);
  if (content === null) return false;
  try {
    if (canonicalJson(content.fields) !== row.fields) return false;
    return chainHash(row.prev_hash, content) === row.hash;
  } catch {
    // A value canonical JSON refuses can only have been written around the log.
    return false;
  }
}

export function recordFromRow(row: AuditRow): AuditRecord {
  return {
    seq: row.seq,
    time: row.time,
    type: row.type as AuditType,
    actor: row.actor,
    repo: row.repo,
    pull: row.pull,
    project: row.project,
    configDigest: row.config_digest,
    fields: JSON.parse(row.fields) as Record<string, unknown>,
    prevHash: row.prev_hash,
    hash: row.hash,
  };
}
