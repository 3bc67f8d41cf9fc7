// Typed errors of the audit log, told apart with `instanceof`, never by message.

export class AuditError extends Error {
  override name = 'AuditError';
}

/** A value canonical JSON cannot represent; `path` is where in the value, e.g. `$.fields.x[2]`. */
export class CanonicalJsonError extends AuditError {
  override name = 'CanonicalJsonError';
  readonly path: string;
  /** The message without the path. */
  readonly detail: string;
  constructor(path: string, detail: string) {
    super(`${path} ${detail}`);
    this.path = path;
    this.detail = detail;
  }
}

/** An `AuditInput` the log refuses (unknown type, bad pull number, unrepresentable fields). */
export class AuditInputError extends AuditError {
  override name = 'AuditInputError';
}

/** A bad export filter; `param` is the filter's name (`since`, `type`, …) for a 400 or a usage line. */
export class AuditFilterError extends AuditError {
  override name = 'AuditFilterError';
  readonly param: string;
  /** The message without the parameter's name. */
  readonly detail: string;
  constructor(param: string, detail: string) {
    super(`${param} ${detail}`);
    this.param = param;
    this.detail = detail;
  }
}

/** Pruning refused: the records it would remove do not link to what remains. */
export class AuditPruneError extends AuditError {
  override name = 'AuditPruneError';
}

/** A checkpoint file that is not a checkpoint, or a signing key that is not Ed25519. */
export class CheckpointError extends AuditError {
  override name = 'CheckpointError';
}

/** The export's destination closed or failed before every record was written. */
export class ExportAbortedError extends AuditError {
  override name = 'ExportAbortedError';
  readonly written: number;
  constructor(written: number, cause: unknown) {
    super(`export stopped after ${written} records: the destination closed or failed`, { cause });
    this.written = written;
  }
}
