// Hands on the audit log's names: append (AuditLog), verify, checkpoints, export, retention and
// the audit webhook.

export { AuditLog, type AuditLogOptions } from './audit-log.js';
export { canonicalJson } from './canonical-json.js';
export { configDigest, redactedSettings } from './config-digest.js';
export { makeCheckpoint, parseCheckpoint, verifyCheckpointSignature, type Checkpoint } from './checkpoint.js';
export {
  AuditError,
  AuditFilterError,
  AuditInputError,
  AuditPruneError,
  CanonicalJsonError,
  CheckpointError,
  ExportAbortedError,
} from './errors.js';
export { CSV_COLUMNS, EXPORT_FORMATS, iterateAudit, normalizeAuditFilter, writeExport, type AuditFilter, type ExportFormat } from './export.js';
export { pruneAudit } from './prune.js';
export { chainHash } from './record.js';
export { AUDIT_TYPES, GENESIS_HASH, SERVER_ACTOR, isAuditType, type AuditInput, type AuditRecord, type AuditType, type PrunedFields } from './types.js';
export { verifyAudit, type VerifyOptions, type VerifyProblem, type VerifyProblemKind, type VerifyResult } from './verify.js';
export { auditSignature, auditWebhookSink, SEQ_HEADER, SIGNATURE_HEADER, type AuditWebhookSink, type AuditWebhookSinkOptions } from './webhook-sink.js';
