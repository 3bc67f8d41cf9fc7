// `tideline audit verify | checkpoint | export`: the audit log from the command line, run beside
// (or instead of) the server on the same data directory. Exit codes: 0 ok, 1 verification
// failed, 2 usage or configuration error.

import { createWriteStream, existsSync, openSync, readFileSync } from 'node:fs';
import { finished } from 'node:stream/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { formatProblems, readCliEnv } from '../../config/read-env.js';
import { dbPath, openDb, type Db } from '../store/db.js';
import { makeCheckpoint, parseCheckpoint, type Checkpoint } from './checkpoint.js';
import { AuditFilterError, CheckpointError } from './errors.js';
import { EXPORT_FORMATS, iterateAudit, normalizeAuditFilter, writeExport, type AuditFilter } from './export.js';
import { verifyAudit, type VerifyResult } from './verify.js';

export interface CliIo {
  /** Default: the process environment, read by config/. */
  env?: NodeJS.ProcessEnv;
  cwd: string;
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
}

export const EXIT = { ok: 0, verifyFailed: 1, usage: 2 } as const;

export const AUDIT_USAGE = `  tideline audit verify [--checkpoint FILE] [--public-key FILE]
      Walk the audit log's hash chain and name the first record that breaks it. With a
      checkpoint, also prove the log still extends it (catches truncation); with a public key
      (PEM), require the checkpoint to be signed by it.
  tideline audit checkpoint [--key FILE]
      Verify the log, then print its head seq, hash and record count as JSON, signed with the
      Ed25519 private key FILE (default TIDELINE_AUDIT_SIGNING_KEY_FILE; unsigned without one).
  tideline audit export [--since ISO] [--until ISO] [--repo OWNER/REPO] [--actor LOGIN]
                        [--type TYPE|FAMILY.*] [--format jsonl|csv] [--out FILE]
      Write the matching records (since ≤ time < until) to FILE, or stdout.`;

/** A usage problem: printed with the usage text, exit 2. */
class UsageError extends Error {
  override name = 'UsageError';
}

export async function runAuditCommand(args: readonly string[], io: CliIo): Promise<number> {
  const [command, ...rest] = args;
  switch (command) {
    case 'verify':
      return verifyCommand(rest, io);
    case 'checkpoint':
      return checkpointCommand(rest, io);
    case 'export':
      return exportCommand(rest, io);
    default:
      throw new UsageError(command === undefined ? 'audit needs a command' : `unknown audit command ${JSON.stringify(command)}`);
  }
}

export function isUsageError(error: unknown): boolean {
  return error instanceof UsageError || (error instanceof TypeError && 'code' in error && String(error.code).startsWith('ERR_PARSE_ARGS'));
}

/** Settings problems and unreadable files: stderr, exit 2 (thrown as ConfigExit by helpers). */
class ConfigExit extends Error {
  override name = 'ConfigExit';
}

export function configExitMessage(error: unknown): string | null {
  return error instanceof ConfigExit ? error.message : null;
}

function openAuditDb(io: CliIo): { db: Db; signingKeyPem: string | null } {
  const read = readCliEnv(io.env, { cwd: io.cwd });
  if (!read.ok) throw new ConfigExit(formatProblems(read.problems));
  const file = dbPath(read.settings.dataDir);
  if (!existsSync(file)) {
    throw new ConfigExit(`no database at ${file}: set TIDELINE_DATA_DIR to the server's data directory`);
  }
  return { db: openDb({ dataDir: read.settings.dataDir }), signingKeyPem: read.settings.audit.signingKeyPem };
}

function readText(io: CliIo, flag: string, file: string): string {
  const full = path.resolve(io.cwd, file);
  try {
    return readFileSync(full, 'utf8');
  } catch (error: unknown) {
    const code = error instanceof Error && 'code' in error ? String(error.code) : String(error);
    throw new ConfigExit(`${flag} ${full} cannot be read (${code})`);
  }
}

/**
 * Opens the export's destination before any record is read: a stream opened lazily fails with
 * a bare "ENOENT: no such file or directory" as an internal error (exit 70), naming no flag.
 */
function openOut(file: string): number {
  try {
    return openSync(file, 'w');
  } catch (error: unknown) {
    const code = error instanceof Error && 'code' in error ? String(error.code) : String(error);
    throw new ConfigExit(`--out ${file} cannot be written (${code}): point it at a file in a directory that exists and that you can write`);
  }
}

function problemLine(result: VerifyResult): string {
  const p = result.problem;
  return p === undefined ? '' : `tideline: audit verify failed at seq ${p.seq}: ${p.kind}: ${p.message}\n`;
}

/**
 * What a verified checkpoint's signature proves. Checked only with the key the checkpoint itself
 * carries, it proves nothing about who signed: anyone who rewrites the log can sign a new
 * checkpoint with a key of their own, so "signature valid" alone would mislead.
 */
function signatureNote(cp: Checkpoint, publicKeyPem: string | undefined): string {
  if (cp.signature === undefined) return '';
  if (publicKeyPem !== undefined) return ' (signature valid for the given public key)';
  return ' (signed by the public key inside the checkpoint, not checked against yours: pass --public-key FILE to prove who signed it)';
}

function verifyCommand(args: readonly string[], io: CliIo): number {
  const { values, positionals } = parseArgs({ args: [...args], options: { checkpoint: { type: 'string' }, 'public-key': { type: 'string' } }, allowPositionals: true });
  if (positionals.length > 0) throw new UsageError(`audit verify takes no arguments, got ${positionals.join(' ')}`);
  let checkpoint: Checkpoint | undefined;
  if (values.checkpoint !== undefined) {
    try {
      checkpoint = parseCheckpoint(readText(io, '--checkpoint', values.checkpoint));
    } catch (error: unknown) {
      if (error instanceof CheckpointError) throw new ConfigExit(`--checkpoint ${values.checkpoint} ${error.message}`);
      throw error;
    }
  }
  const publicKeyPem = values['public-key'] === undefined ? undefined : readText(io, '--public-key', values['public-key']);
  if (publicKeyPem !== undefined && checkpoint === undefined) throw new UsageError('--public-key checks a checkpoint: give --checkpoint FILE too');
  const { db } = openAuditDb(io);
  try {
    const result = verifyAudit(db, { ...(checkpoint === undefined ? {} : { checkpoint }), ...(publicKeyPem === undefined ? {} : { publicKeyPem }) });
    if (!result.ok) {
      io.stderr.write(problemLine(result));
      return EXIT.verifyFailed;
    }
    const extends_ = checkpoint === undefined ? '' : `; extends the checkpoint at seq ${checkpoint.headSeq}${signatureNote(checkpoint, publicKeyPem)}`;
    io.stdout.write(`audit log ok: ${result.count} records, head seq ${result.headSeq ?? 0}${result.headHash === null ? '' : ` hash ${result.headHash}`}${extends_}\n`);
    return EXIT.ok;
  } finally {
    db.close();
  }
}

function checkpointCommand(args: readonly string[], io: CliIo): number {
  const { values, positionals } = parseArgs({ args: [...args], options: { key: { type: 'string' } }, allowPositionals: true });
  if (positionals.length > 0) throw new UsageError(`audit checkpoint takes no arguments, got ${positionals.join(' ')}`);
  const keyFromFlag = values.key === undefined ? null : readText(io, '--key', values.key);
  const { db, signingKeyPem } = openAuditDb(io);
  try {
    const result = verifyAudit(db);
    if (!result.ok) {
      io.stderr.write(`${problemLine(result)}tideline: no checkpoint made: a checkpoint of a broken log would vouch for it\n`);
      return EXIT.verifyFailed;
    }
    const key = keyFromFlag ?? signingKeyPem;
    let cp: Checkpoint;
    try {
      cp = makeCheckpoint(db, key ?? undefined);
    } catch (error: unknown) {
      if (error instanceof CheckpointError) throw new ConfigExit(`${values.key === undefined ? 'TIDELINE_AUDIT_SIGNING_KEY_FILE' : `--key ${values.key}`}: ${error.message}`);
      throw error;
    }
    io.stdout.write(`${JSON.stringify(cp, null, 2)}\n`);
    return EXIT.ok;
  } finally {
    db.close();
  }
}

async function exportCommand(args: readonly string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseArgs({
    args: [...args],
    options: {
      since: { type: 'string' },
      until: { type: 'string' },
      repo: { type: 'string' },
      actor: { type: 'string' },
      type: { type: 'string' },
      format: { type: 'string', default: 'jsonl' },
      out: { type: 'string' },
    },
    allowPositionals: true,
  });
  if (positionals.length > 0) throw new UsageError(`audit export takes no arguments, got ${positionals.join(' ')}`);
  const format = EXPORT_FORMATS.find((f) => f === values.format);
  if (format === undefined) throw new UsageError(`--format must be jsonl or csv, got ${JSON.stringify(values.format)}`);
  const filter: AuditFilter = {};
  for (const name of ['since', 'until', 'repo', 'actor', 'type'] as const) {
    const value = values[name];
    if (value !== undefined) filter[name] = value;
  }
  try {
    normalizeAuditFilter(filter);
  } catch (error: unknown) {
    if (error instanceof AuditFilterError) throw new UsageError(`--${error.message}`);
    throw error;
  }
  const { db } = openAuditDb(io);
  try {
    if (values.out === undefined) {
      const count = await writeExport(iterateAudit(db, filter), format, io.stdout);
      io.stderr.write(`exported ${count} records\n`);
      return EXIT.ok;
    }
    const file = path.resolve(io.cwd, values.out);
    const out = createWriteStream(file, { fd: openOut(file) });
    const count = await writeExport(iterateAudit(db, filter), format, out);
    out.end();
    await finished(out);
    io.stderr.write(`exported ${count} records to ${file}\n`);
    return EXIT.ok;
  } finally {
    db.close();
  }
}
