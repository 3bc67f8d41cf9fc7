// `tideline audit verify`: walks the chain in seq order (one streaming pass with .iterate(), then
// a few point lookups to explain a break) and names the FIRST record that breaks it.
//
// Rules, for each record R after its predecessor P in seq order (the first record of a log that
// was never pruned has seq 1 and a virtual predecessor {seq 0, hash = 64 zeros}):
//
//  1. seq gap (R.seq > P.seq + 1)                        → deleted at P.seq + 1.
//     Appends are contiguous and pruning only removes a prefix, so any gap is a deletion.
//  2. R.prevHash ≠ P.hash (the link is broken); look up which record has hash R.prevHash:
//     a. one at seq q > R.seq                            → reordered at R.seq
//        (R's predecessor in the chain comes after it in seq order: rows were moved).
//     b. one at seq q < P.seq                            → inserted at q + 1
//        (R links past P: records q+1 … P.seq are not part of the chain).
//     c. none, and the next record N links to P          → inserted at R.seq (the chain skips R).
//     d. none, and R's content does not hash to R.hash:
//        - it does hash correctly under a later seq s   → deleted at R.seq
//          (records were deleted and the rest renumbered down to close the gap);
//        - otherwise                                     → edited at R.seq.
//     e. none, and R is the last record                  → inserted at R.seq
//        (a record appended with a link to nothing).
//     f. none otherwise                                  → edited at P.seq
//        (P's content was rewritten and its hash recomputed; R still holds P's old hash;
//        when R is seq 1, R itself was rewritten with a link other than the genesis hash).
//  3. link intact but R's content does not hash to R.hash → edited at R.seq.
//     "Content" includes the `fields` text itself: it must be exactly the canonical JSON that
//     was hashed, or a duplicate key could show other readers a value the hash never covered.
//
// Pruned logs: when the first record has seq > 1, its prevHash must be vouched for by a later
// `audit.pruned` record whose fields say lastSeq = first seq − 1 and lastPrunedHash = that
// prevHash. Otherwise the missing prefix is reported as deleted at the first seq no
// `audit.pruned` record accounts for (1 when there is none).
//
// Against a checkpoint {headSeq, headHash} (after its signature, when it has one or a public key
// is given, verifies):
//  - the log ends before headSeq                          → truncated at (last seq + 1);
//  - the record at headSeq has another hash               → checkpoint-mismatch at headSeq;
//  - headSeq was pruned: checked against the `audit.pruned` record whose lastSeq is headSeq
//    when there is one; otherwise the checkpoint only proves the log has moved past it.
// The problem reported is the one at the lowest seq; a bad checkpoint signature comes first.
//
// What a keyless chain cannot catch on its own: someone with write access to the file can
// rewrite the tail after the last checkpoint and recompute every hash, or append well-formed
// records — an `audit.pruned` among them, after deleting the oldest records (a checkpoint's head
// included), which the rules above then accept as retention. Keep signed checkpoints outside the
// server and/or stream records to the audit webhook.

import type { Db } from '../store/db.js';
import { verifyCheckpointSignature, type Checkpoint } from './checkpoint.js';
import { rowHashMatches, type AuditRow } from './record.js';
import { GENESIS_HASH } from './types.js';

export type VerifyProblemKind = 'edited' | 'deleted' | 'inserted' | 'reordered' | 'truncated' | 'checkpoint-mismatch';

export interface VerifyProblem {
  seq: number;
  kind: VerifyProblemKind;
  message: string;
}

export interface VerifyResult {
  ok: boolean;
  count: number;
  headSeq: number | null;
  headHash: string | null;
  problem?: VerifyProblem;
}

export interface VerifyOptions {
  checkpoint?: Checkpoint;
  /** PEM (SPKI) Ed25519 public key the checkpoint's signature must verify with. */
  publicKeyPem?: string;
}

/** How far under a record's seq a renumbered record is looked for (rule 2d). */
const RENUMBER_PROBE = 10_000;

interface Link {
  seq: number;
  hash: string;
}

export interface PrunedMark {
  seq: number;
  lastSeq: number;
  lastPrunedHash: string;
}

export function verifyAudit(db: Db, opts: VerifyOptions = {}): VerifyResult {
  const cp = opts.checkpoint;
  let count = 0;
  let first: AuditRow | null = null;
  let prev: Link | null = null;
  let problem: VerifyProblem | null = null;
  let linkBreak: { p: Link; r: AuditRow } | null = null;
  let hashAtCheckpoint: string | null = null;
  const pruned: PrunedMark[] = [];

  const rows = db.prepare('SELECT * FROM audit ORDER BY seq').iterate() as IterableIterator<AuditRow>;
  for (const row of rows) {
    count += 1;
    if (cp !== undefined && row.seq === cp.headSeq) hashAtCheckpoint = row.hash;
    const mark = prunedMark(row);
    if (mark !== null) pruned.push(mark);
    if (first === null) {
      first = row;
      // A pruned log starts mid-chain: its first link is checked against audit.pruned below.
      prev = row.seq === 1 ? { seq: 0, hash: GENESIS_HASH } : null;
    }
    if (problem === null && linkBreak === null) {
      if (prev !== null && row.seq !== prev.seq + 1) {
        problem = deletedBetween(prev.seq, row.seq);
      } else if (prev !== null && row.prev_hash !== prev.hash) {
        linkBreak = { p: prev, r: row }; // explained after the scan, when lookups are allowed
      } else if (!rowHashMatches(row)) {
        problem = { seq: row.seq, kind: 'edited', message: `record ${row.seq} does not match its hash: its content was changed` };
      }
    }
    prev = { seq: row.seq, hash: row.hash };
  }

  const head = prev !== null && first !== null ? prev : null;
  const result: VerifyResult = { ok: true, count, headSeq: head?.seq ?? null, headHash: head?.hash ?? null };
  if (linkBreak !== null) problem = explainBrokenLink(db, linkBreak.p, linkBreak.r);
  const found = [problem, first === null ? null : unanchoredStart(first, pruned)];
  if (cp !== undefined) {
    const signature = checkpointSignatureProblem(cp, opts.publicKeyPem);
    if (signature !== null) return { ...result, ok: false, problem: signature };
    found.push(checkpointProblem(cp, head, hashAtCheckpoint, first, pruned));
  }
  const lowest = found
    .filter((p): p is VerifyProblem => p !== null)
    .sort((a, b) => a.seq - b.seq)[0];
  return lowest === undefined ? result : { ...result, ok: false, problem: lowest };
}

function deletedBetween(prevSeq: number, seq: number): VerifyProblem {
  const missing = seq - prevSeq - 1;
  const which = missing === 1 ? `record ${prevSeq + 1} is` : `records ${prevSeq + 1} to ${seq - 1} are`;
  return { seq: prevSeq + 1, kind: 'deleted', message: `${which} missing: the log jumps from seq ${prevSeq} to ${seq}` };
}

export function prunedMark(row: AuditRow): PrunedMark | null {
  if (row.type !== 'audit.pruned') return null;
  try {
    const fields = JSON.parse(row.fields) as Record<string, unknown>;
    const { lastSeq, lastPrunedHash } = fields;
    if (typeof lastSeq !== 'number' || typeof lastPrunedHash !== 'string') return null;
    return { seq: row.seq, lastSeq, lastPrunedHash };
  } catch {
    return null;
  }
}

/** Rule 2, with the lookups a streaming pass cannot make. */
function explainBrokenLink(db: Db, p: Link, r: AuditRow): VerifyProblem {
  const q = db.prepare('SELECT seq FROM audit WHERE hash = ? ORDER BY seq LIMIT 1').pluck().get(r.prev_hash) as number | undefined;
  if (q !== undefined && q > r.seq) {
    return { seq: r.seq, kind: 'reordered', message: `record ${r.seq} links to record ${q}, which comes after it: records were reordered` };
  }
  if (q !== undefined && q < p.seq) {
    const which = q + 1 === p.seq ? `record ${p.seq} is` : `records ${q + 1} to ${p.seq} are`;
    return { seq: q + 1, kind: 'inserted', message: `record ${r.seq} links to record ${q}: ${which} not part of the chain` };
  }
  const next = db.prepare('SELECT * FROM audit WHERE seq > ? ORDER BY seq LIMIT 1').get(r.seq) as AuditRow | undefined;
  if (next !== undefined && next.prev_hash === p.hash) {
    return { seq: r.seq, kind: 'inserted', message: `record ${r.seq} is not part of the chain: record ${next.seq} links past it to record ${p.seq}` };
  }
  if (!rowHashMatches(r)) {
    const from = renumberedFrom(r);
    return from === null
      ? { seq: r.seq, kind: 'edited', message: `record ${r.seq} does not match its hash and links to no record: its content was changed` }
      : { seq: r.seq, kind: 'deleted', message: `record ${r.seq} was record ${from}: ${from - r.seq} record(s) from seq ${r.seq} were deleted and the rest renumbered` };
  }
  if (next === undefined) {
    return { seq: r.seq, kind: 'inserted', message: `record ${r.seq} links to no record in the log: it was added outside the chain` };
  }
  if (p.seq === 0) {
    return { seq: r.seq, kind: 'edited', message: `record ${r.seq} was rewritten: the first record must link to the genesis hash` };
  }
  return { seq: p.seq, kind: 'edited', message: `record ${p.seq} was rewritten: record ${r.seq} holds a different hash for it` };
}

/** The seq under which the row's content matches its hash, when it was moved to a lower seq. */
function renumberedFrom(row: AuditRow): number | null {
  for (let seq = row.seq + 1; seq <= row.seq + RENUMBER_PROBE; seq += 1) {
    if (rowHashMatches(row, seq)) return seq;
  }
  return null;
}

/** A log whose first record is not seq 1 must have an audit.pruned record that vouches for it. */
export function unanchoredStart(first: AuditRow, pruned: readonly PrunedMark[]): VerifyProblem | null {
  if (first.seq === 1) return null;
  if (pruned.some((m) => m.lastSeq === first.seq - 1 && m.lastPrunedHash === first.prev_hash)) return null;
  const accounted = Math.max(0, ...pruned.filter((m) => m.lastSeq < first.seq).map((m) => m.lastSeq));
  const from = accounted + 1;
  const which = from === first.seq - 1 ? `record ${from} is` : `records ${from} to ${first.seq - 1} are`;
  return { seq: from, kind: 'deleted', message: `${which} missing from the start of the log and no audit.pruned record accounts for them` };
}

function checkpointSignatureProblem(cp: Checkpoint, publicKeyPem: string | undefined): VerifyProblem | null {
  if (cp.signature === undefined && publicKeyPem === undefined) return null;
  if (verifyCheckpointSignature(cp, publicKeyPem)) return null;
  const why =
    cp.signature === undefined
      ? 'the checkpoint is not signed but a public key was given'
      : `the checkpoint's signature does not verify with ${publicKeyPem === undefined ? 'the public key it carries' : 'the given public key'}`;
  return { seq: cp.headSeq, kind: 'checkpoint-mismatch', message: `${why}: it was altered or signed by another key` };
}

function checkpointProblem(
  cp: Checkpoint,
  head: Link | null,
  hashAtCheckpoint: string | null,
  first: AuditRow | null,
  pruned: readonly PrunedMark[],
): VerifyProblem | null {
  if (cp.headSeq === 0) return null;
  if (head === null || head.seq < cp.headSeq) {
    const ends = head === null ? 'the log is empty' : `the log ends at seq ${head.seq}`;
    return { seq: (head?.seq ?? 0) + 1, kind: 'truncated', message: `the checkpoint's head is seq ${cp.headSeq} but ${ends}: records were removed from the end` };
  }
  if (hashAtCheckpoint !== null) {
    return hashAtCheckpoint === cp.headHash
      ? null
      : { seq: cp.headSeq, kind: 'checkpoint-mismatch', message: `record ${cp.headSeq} has hash ${hashAtCheckpoint}, the checkpoint says ${cp.headHash}: the log was rewritten` };
  }
  if (first !== null && cp.headSeq < first.seq) {
    const mark = pruned.find((m) => m.lastSeq === cp.headSeq);
    if (mark !== undefined && mark.lastPrunedHash !== cp.headHash) {
      return { seq: cp.headSeq, kind: 'checkpoint-mismatch', message: `the audit.pruned record ${mark.seq} says record ${cp.headSeq} had hash ${mark.lastPrunedHash}, the checkpoint says ${cp.headHash}` };
    }
  }
  // Otherwise the checkpoint's head lies in a gap, which the chain checks already report.
  return null;
}
