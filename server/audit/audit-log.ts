// The append side of the audit log. `append` is synchronous and joins the caller's transaction
// when there is one, so a state change (a lock, a job) and the record describing it commit or
// roll back together: neither can exist without the other.

import type { SecretMasker } from '../../runners/secrets.js';
import type { Db } from '../store/db.js';
import { canonicalJson } from './canonical-json.js';
import { AuditInputError, CanonicalJsonError } from './errors.js';
import { chainHash } from './record.js';
import { GENESIS_HASH, isAuditType, type AuditInput, type AuditRecord } from './types.js';

export interface AuditLogOptions {
  db: Db;
  /** `configDigest(settings)` of the running server; stamped on every record. */
  configDigest: string;
  /** Every string in `fields` (keys and values, at any depth) passes through it before hashing. */
  masker: SecretMasker;
  now?: () => Date;
  /**
   * Called with each record once it is committed (the audit webhook's `send`). Outside a
   * transaction: right after `append` commits. Inside a caller's `db.transaction()`: on the next
   * microtask, after that transaction has ended, and only if it committed — a rolled-back record
   * is never announced. Must not throw; an exception it throws is ignored.
   */
  onAppend?: (record: AuditRecord) => void;
}

interface HeadRow {
  seq: number;
  hash: string;
}

export class AuditLog {
  readonly #db: Db;
  readonly #configDigest: string;
  readonly #masker: SecretMasker;
  readonly #now: () => Date;
  readonly #onAppend: ((record: AuditRecord) => void) | undefined;
  readonly #head: () => HeadRow | undefined;
  readonly #insert: (record: AuditRecord, fieldsJson: string) => void;
  readonly #hashAt: (seq: number) => string | undefined;
  readonly #appendImmediate: (input: NormalizedInput) => AuditRecord;
  /** Records appended inside a caller's transaction, waiting to be announced after it ends. */
  #pending: AuditRecord[] = [];

  constructor(opts: AuditLogOptions) {
    this.#db = opts.db;
    this.#configDigest = opts.configDigest;
    this.#masker = opts.masker;
    this.#now = opts.now ?? ((): Date => new Date());
    this.#onAppend = opts.onAppend;
    const head = opts.db.prepare('SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1');
    this.#head = (): HeadRow | undefined => head.get() as HeadRow | undefined;
    const insert = opts.db.prepare(
      `INSERT INTO audit (seq, time, type, actor, repo, pull, project, config_digest, fields, prev_hash, hash)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    this.#insert = (r, fieldsJson): void => {
      insert.run(r.seq, r.time, r.type, r.actor, r.repo, r.pull, r.project, r.configDigest, fieldsJson, r.prevHash, r.hash);
    };
    const hashAt = opts.db.prepare('SELECT hash FROM audit WHERE seq = ?').pluck();
    this.#hashAt = (seq): string | undefined => hashAt.get(seq) as string | undefined;
    const transaction = opts.db.transaction((input: NormalizedInput) => this.#write(input));
    this.#appendImmediate = (input): AuditRecord => transaction.immediate(input);
  }

  /** The log's clock (pruning measures age with it). */
  now(): Date {
    return this.#now();
  }

  /**
   * Appends one record and returns it. Synchronous; joins the caller's transaction when called
   * inside `db.transaction()`, otherwise runs in its own IMMEDIATE transaction. Masks every
   * string in `fields` before hashing. Properties whose value is `undefined` are left out (as
   * JSON.stringify would) and Dates become ISO strings; anything else canonical JSON cannot hold
   * (NaN, functions, Maps, cycles …) is refused with an `AuditInputError`, before anything is
   * written.
   */
  append(input: AuditInput): AuditRecord {
    const normalized = this.#normalize(input);
    const joined = this.#db.inTransaction;
    const record = joined ? this.#write(normalized) : this.#appendImmediate(normalized);
    if (this.#onAppend !== undefined) {
      // Records still waiting for their transaction go first, to keep the announced order.
      if (joined || this.#pending.length > 0) this.#announceAfterCommit(record);
      else this.#announce(record);
    }
    return record;
  }

  #normalize(input: AuditInput): NormalizedInput {
    if (!isAuditType(input.type)) {
      throw new AuditInputError(`unknown audit record type ${JSON.stringify(input.type)}: add it to AUDIT_TYPES in server/audit/types.ts`);
    }
    if (typeof input.actor !== 'string' || input.actor === '') {
      throw new AuditInputError('actor must be a GitHub login, or "tideline" for the server itself');
    }
    if (input.pull !== undefined && !(Number.isSafeInteger(input.pull) && input.pull > 0)) {
      throw new AuditInputError(`pull must be a pull request number, got ${String(input.pull)}`);
    }
    let fields: Record<string, unknown>;
    let fieldsJson: string;
    try {
      fields = sanitize(input.fields, this.#masker, '$') as Record<string, unknown>;
      fieldsJson = canonicalJson(fields);
    } catch (error: unknown) {
      if (error instanceof CanonicalJsonError) {
        throw new AuditInputError(`cannot record ${input.type}: fields${error.path.slice(1)} ${error.detail}`, { cause: error });
      }
      throw error;
    }
    if (typeof fields !== 'object' || fields === null || Array.isArray(fields)) {
      throw new AuditInputError(`fields of ${input.type} must be a plain object`);
    }
    return {
      type: input.type,
      actor: asStored(input.actor),
      repo: input.repo === undefined ? null : asStored(input.repo),
      pull: input.pull ?? null,
      project: input.project === undefined ? null : asStored(input.project),
      fields,
      fieldsJson,
    };
  }

  #write(input: NormalizedInput): AuditRecord {
    const head = this.#head();
    const content = {
      seq: (head?.seq ?? 0) + 1,
      time: this.#now().toISOString(),
      type: input.type,
      actor: input.actor,
      repo: input.repo,
      pull: input.pull,
      project: input.project,
      configDigest: this.#configDigest,
      fields: input.fields,
    };
    const prevHash = head?.hash ?? GENESIS_HASH;
    const record: AuditRecord = { ...content, prevHash, hash: chainHash(prevHash, content) };
    this.#insert(record, input.fieldsJson);
    return record;
  }

  #announce(record: AuditRecord): void {
    try {
      this.#onAppend?.(record);
    } catch {
      // onAppend is a fire-and-forget notifier (the webhook sink's send, which never throws);
      // a failure there must not turn a committed append into a reported failure.
    }
  }

  /**
   * better-sqlite3 transactions are synchronous, so by the next microtask the caller's
   * `db.transaction()` has committed or rolled back. A record is announced only if it is in the
   * table with the same hash (a rolled-back seq may since have been reused by another record).
   */
  #announceAfterCommit(record: AuditRecord): void {
    this.#pending.push(record);
    if (this.#pending.length > 1) return;
    const settle = (): void => {
      if (!this.#db.open) {
        this.#pending = [];
        return;
      }
      if (this.#db.inTransaction) {
        // A hand-rolled BEGIN … COMMIT spanning an await: look again shortly.
        setTimeout(settle, 5).unref();
        return;
      }
      const pending = this.#pending;
      this.#pending = [];
      for (const r of pending) {
        if (this.#hashAt(r.seq) === r.hash) this.#announce(r);
      }
    };
    queueMicrotask(settle);
  }
}

interface NormalizedInput {
  type: AuditRecord['type'];
  actor: string;
  repo: string | null;
  pull: number | null;
  project: string | null;
  fields: Record<string, unknown>;
  fieldsJson: string;
}

/**
 * The text as SQLite will hand it back. A column holds UTF-8, so a lone UTF-16 surrogate (a YAML
 * `"\uD800"` escape in a repo config's `dir` can make one) is stored as U+FFFD; hashing the
 * string before that change would make an untouched record fail `verify` as "edited". `fields`
 * needs no such care: canonical JSON writes a lone surrogate as an ASCII `\ud800` escape.
 */
function asStored(text: string): string {
  return text.replace(/\p{Cs}/gu, '\uFFFD');
}

function isPlainObject(value: object): value is Record<string, unknown> {
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/** A masked copy of `value`: strings masked, undefined properties dropped, Dates as ISO strings. */
function sanitize(value: unknown, masker: SecretMasker, path: string): unknown {
  if (typeof value === 'string') return masker.mask(value);
  if (typeof value !== 'object' || value === null) return value;
  if (value instanceof Date) {
    if (Number.isNaN(value.getTime())) throw new CanonicalJsonError(path, 'is an invalid Date');
    return value.toISOString();
  }
  if (Array.isArray(value)) return value.map((item, index) => sanitize(item, masker, `${path}[${index}]`));
  if (!isPlainObject(value)) return value; // refused by canonicalJson with its path
  const entries: [string, unknown][] = [];
  for (const [key, item] of Object.entries(value)) {
    if (item === undefined) continue;
    entries.push([masker.mask(key), sanitize(item, masker, `${path}.${key}`)]);
  }
  return Object.fromEntries(entries);
}
