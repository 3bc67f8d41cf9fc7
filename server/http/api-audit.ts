// GET /api/audit: the audit log as JSON Lines or CSV, filtered by time, repo, actor and type,
// streamed a page at a time with backpressure. Bearer auth with TIDELINE_API_SECRET; without
// that secret the route answers 404 saying how to enable it.

import { createHash, timingSafeEqual } from 'node:crypto';
import express, { type Request, type Response, type Router } from 'express';
import type { Logger } from 'pino';
import { AuditFilterError, ExportAbortedError } from '../audit/errors.js';
import type { AuditLog } from '../audit/index.js';
import { EXPORT_FORMATS, iterateAudit, normalizeAuditFilter, writeExport, type AuditFilter, type ExportFormat } from '../audit/export.js';
import type { Db } from '../store/db.js';

export interface AuditApiOptions {
  db: Db;
  /** TIDELINE_API_SECRET; null disables the route. */
  apiSecret: string | null;
  log: Logger;
  /** Where each export is itself recorded: reading the log is part of its record. */
  audit?: AuditLog;
}

const FILTER_PARAMS = ['since', 'until', 'repo', 'actor', 'type'] as const;
const KNOWN_PARAMS: readonly string[] = [...FILTER_PARAMS, 'format'];

const CONTENT_TYPES: Record<ExportFormat, string> = {
  jsonl: 'application/x-ndjson; charset=utf-8',
  csv: 'text/csv; charset=utf-8',
};

/** Compares digests, so neither the length nor the content of the secret leaks through timing. */
function sameSecret(given: string, secret: string): boolean {
  const digest = (text: string): Buffer => createHash('sha256').update(text, 'utf8').digest();
  return timingSafeEqual(digest(given), digest(secret));
}

function bearer(req: Request): string | null {
  const match = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(req.header('authorization') ?? '');
  return match?.[1] ?? null;
}

type ParsedQuery = { ok: true; filter: AuditFilter; format: ExportFormat } | { ok: false; param: string; message: string };

function parseQuery(query: Request['query']): ParsedQuery {
  const filter: AuditFilter = {};
  let format: ExportFormat = 'jsonl';
  for (const [name, value] of Object.entries(query)) {
    if (!KNOWN_PARAMS.includes(name)) {
      return { ok: false, param: name, message: `is not a query parameter of /api/audit: use ${KNOWN_PARAMS.join(', ')}` };
    }
    if (typeof value !== 'string') {
      return { ok: false, param: name, message: 'must be given once, as a plain value' };
    }
    if (name === 'format') {
      const known = EXPORT_FORMATS.find((f) => f === value);
      if (known === undefined) return { ok: false, param: 'format', message: `must be jsonl or csv, got ${JSON.stringify(value)}` };
      format = known;
    } else {
      filter[name as (typeof FILTER_PARAMS)[number]] = value;
    }
  }
  try {
    normalizeAuditFilter(filter);
  } catch (error: unknown) {
    if (error instanceof AuditFilterError) return { ok: false, param: error.param, message: error.detail };
    throw error;
  }
  return { ok: true, filter, format };
}

export function auditApi(opts: AuditApiOptions): Router {
  const router = express.Router();
  const log = opts.log.child({ route: 'GET /api/audit' });

  router.get('/api/audit', async (req: Request, res: Response): Promise<void> => {
    if (opts.apiSecret === null) {
      res.status(404).json({ error: 'the audit API is disabled: set TIDELINE_API_SECRET to enable /api/audit' });
      return;
    }
    const given = bearer(req);
    if (given === null || !sameSecret(given, opts.apiSecret)) {
      res.setHeader('WWW-Authenticate', 'Bearer realm="tideline"');
      res.status(401).json({ error: given === null ? 'missing bearer token: send Authorization: Bearer <TIDELINE_API_SECRET>' : 'wrong bearer token' });
      return;
    }
    const parsed = parseQuery(req.query);
    if (!parsed.ok) {
      res.status(400).json({ error: `query parameter ${parsed.param} ${parsed.message}`, param: parsed.param });
      return;
    }
    res.status(200);
    res.setHeader('Content-Type', CONTENT_TYPES[parsed.format]);
    res.setHeader('Cache-Control', 'no-store');
    if (parsed.format === 'csv') res.setHeader('Content-Disposition', 'attachment; filename="tideline-audit.csv"');
    // After the export, so that an export never contains its own record.
    const recordExport = (records: number, completed: boolean): void => {
      const fields = { format: parsed.format, filter: JSON.parse(JSON.stringify(parsed.filter)) as Record<string, string>, records, completed, remoteAddress: req.socket.remoteAddress ?? null };
      try {
        opts.audit?.append({ type: 'audit.exported', actor: 'api', fields });
      } catch (err: unknown) {
        log.error({ err }, 'could not record the audit export');
      }
    };
    try {
      const count = await writeExport(iterateAudit(opts.db, parsed.filter), parsed.format, res);
      res.end();
      recordExport(count, true);
      log.info({ count, format: parsed.format, filter: parsed.filter }, 'audit exported');
    } catch (error: unknown) {
      if (error instanceof ExportAbortedError) {
        recordExport(error.written, false);
        log.warn({ written: error.written }, 'audit export aborted by the client');
      } else {
        log.error({ err: error }, 'audit export failed');
      }
      if (res.headersSent || error instanceof ExportAbortedError) {
        res.destroy(); // a cut-off body must not look complete
      } else {
        res.status(500).setHeader('Content-Type', 'application/json; charset=utf-8');
        res.end(JSON.stringify({ error: 'audit export failed: see the server log' }));
      }
    }
  });
  return router;
}
