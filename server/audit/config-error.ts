// A server that cannot start still leaves a trace: when its configuration is refused, the
// problems (which never carry secret values) are appended to the audit log of the data dir
// it would have used, if that much of the configuration is readable.

import { existsSync } from 'node:fs';
import { dbPath, openDb } from '../store/db.js';
import { AuditLog } from './audit-log.js';
import { SERVER_ACTOR } from './types.js';
import { SecretMasker } from '../../runners/secrets.js';

export interface ConfigErrorRecord {
  dataDir: string;
  version: string;
  problems: readonly { variable: string; message: string }[];
}

/** Returns true when the record was written; false when there is no database to write to. */
export function recordConfigError(rec: ConfigErrorRecord): boolean {
  // Only an existing server's log: a typo in TIDELINE_DATA_DIR must not create a new database.
  if (!existsSync(dbPath(rec.dataDir))) return false;
  const db = openDb({ dataDir: rec.dataDir });
  try {
    const audit = new AuditLog({ db, configDigest: 'unavailable: configuration refused', masker: new SecretMasker() });
    audit.append({ type: 'config.error', actor: SERVER_ACTOR, fields: { scope: 'server', version: rec.version, problems: rec.problems.map((p) => ({ variable: p.variable, message: p.message })) } });
    return true;
  } finally {
    db.close();
  }
}
