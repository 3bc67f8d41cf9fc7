// Checkpoints: the log's head (seq, hash) and record count at a moment, optionally signed with
// an Ed25519 key, for an operator to keep outside the server. `verify --checkpoint` then proves
// the log still extends that head, which catches truncation and rewriting of older records.

import { createPrivateKey, createPublicKey, sign, verify, type KeyObject } from 'node:crypto';
import { z } from 'zod';
import type { Db } from '../store/db.js';
import { canonicalJson } from './canonical-json.js';
import { CheckpointError } from './errors.js';
import { GENESIS_HASH } from './types.js';

export interface Checkpoint {
  /** Records in the log when the checkpoint was made (pruning lowers it later). */
  count: number;
  /** Seq of the last record; 0 for an empty log. */
  headSeq: number;
  /** Hash of the last record; 64 zeros for an empty log. */
  headHash: string;
  time: string;
  /** base64 Ed25519 signature over canonicalJson of every other field (publicKey included). */
  signature?: string;
  /** PEM (SPKI) public key of the signing key. Verifying with it alone proves integrity, not origin. */
  publicKey?: string;
}

const CheckpointSchema = z
  .object({
    count: z.number().int().nonnegative(),
    headSeq: z.number().int().nonnegative(),
    headHash: z.string().regex(/^[0-9a-f]{64}$/, 'must be 64 lowercase hex characters'),
    time: z.string(),
    signature: z.string().optional(),
    publicKey: z.string().optional(),
  })
  .strict();

interface HeadRow {
  seq: number;
  hash: string;
}

export function makeCheckpoint(db: Db, privateKeyPem?: string): Checkpoint {
  const key = privateKeyPem === undefined ? null : ed25519PrivateKey(privateKeyPem);
  // One read transaction, so the count and the head are of the same moment.
  const { count, head } = db.transaction(() => ({
    count: db.prepare('SELECT COUNT(*) FROM audit').pluck().get() as number,
    head: db.prepare('SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1').get() as HeadRow | undefined,
  }))();
  const unsigned: Checkpoint = { count, headSeq: head?.seq ?? 0, headHash: head?.hash ?? GENESIS_HASH, time: new Date().toISOString() };
  if (key === null) return unsigned;
  const withKey: Checkpoint = { ...unsigned, publicKey: createPublicKey(key).export({ type: 'spki', format: 'pem' }).toString() };
  return { ...withKey, signature: sign(null, Buffer.from(signedText(withKey)), key).toString('base64') };
}

/**
 * True when `cp.signature` is a valid Ed25519 signature over its other fields, checked with
 * `publicKeyPem` when given (proves who signed), else with the key the checkpoint carries
 * (proves only that the file was not altered). False when unsigned or on any malformed input.
 */
export function verifyCheckpointSignature(cp: Checkpoint, publicKeyPem?: string): boolean {
  const keyPem = publicKeyPem ?? cp.publicKey;
  if (cp.signature === undefined || keyPem === undefined) return false;
  try {
    const key = createPublicKey(keyPem);
    if (key.asymmetricKeyType !== 'ed25519') return false;
    return verify(null, Buffer.from(signedText(cp)), key, Buffer.from(cp.signature, 'base64'));
  } catch {
    return false;
  }
}

/** Parses a checkpoint file's text; throws CheckpointError saying what is wrong. */
export function parseCheckpoint(text: string): Checkpoint {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error: unknown) {
    throw new CheckpointError(`is not JSON (${error instanceof Error ? error.message : String(error)}): give the file \`tideline audit checkpoint\` printed`);
  }
  const parsed = CheckpointSchema.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue === undefined || issue.path.length === 0 ? 'it' : issue.path.join('.');
    throw new CheckpointError(`is not a checkpoint: ${where} ${issue?.message ?? 'is invalid'}`);
  }
  const { signature, publicKey, ...rest } = parsed.data;
  return { ...rest, ...(signature === undefined ? {} : { signature }), ...(publicKey === undefined ? {} : { publicKey }) };
}

/** The PEM's key, which must be an unencrypted Ed25519 private key. */
export function ed25519PrivateKey(pem: string): KeyObject {
  let key: KeyObject;
  try {
    key = createPrivateKey(pem);
  } catch (error: unknown) {
    throw new CheckpointError(`the signing key is not a readable PEM private key (${error instanceof Error ? error.message : String(error)}): generate one with \`openssl genpkey -algorithm ed25519\``);
  }
  if (key.asymmetricKeyType !== 'ed25519') {
    throw new CheckpointError(`the signing key is ${key.asymmetricKeyType ?? 'of an unknown type'}, not Ed25519: generate one with \`openssl genpkey -algorithm ed25519\``);
  }
  return key;
}

function signedText(cp: Checkpoint): string {
  const { signature: _signature, ...signed } = cp;
  return canonicalJson(signed);
}
