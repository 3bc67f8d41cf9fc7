// Export: the records matching a filter, in seq order, written as JSON Lines or CSV.
//
// iterateAudit reads in keyset pages (`seq > last ORDER BY seq LIMIT n`) rather than holding one
// better-sqlite3 `.iterate()` cursor open across yields: while a cursor is open its connection
// refuses every write ("This database connection is busy executing a query"), so an HTTP export
// paused on a slow client would stop the whole server from taking locks or queueing webhooks.
// Each page is read completely before the first of its rows is handed on; memory stays at one
// page whatever the table's size. The set is fixed when iteration starts (records appended
// later are not included). Every filter is served by an index ending in seq, and time bounds are
// turned into a seq range, so no page needs a sort.

import type { Db } from '../store/db.js';
import { canonicalJson } from './canonical-json.js';
import { AuditFilterError, ExportAbortedError } from './errors.js';
import { recordFromRow, type AuditRow } from './record.js';
import { AUDIT_TYPES, isAuditType, type AuditRecord } from './types.js';

export interface AuditFilter {
  /** Records at or after this instant (ISO 8601 date, or date-time with a zone). */
  since?: string;
  /** Records strictly before this instant. */
  until?: string;
  repo?: string;
  actor?: string;
  /** A record type (`plan`), or a family ending in `.*` (`webhook.*`). */
  type?: string;
}

export type ExportFormat = 'jsonl' | 'csv';

export const EXPORT_FORMATS: readonly ExportFormat[] = ['jsonl', 'csv'];

/** Records read per page; small enough to keep memory flat, large enough to amortise the query. */
const PAGE_SIZE = 1000;

/** Bytes gathered before one write to the destination. */
const CHUNK_BYTES = 64 * 1024;

interface NormalizedFilter {
  since: string | null;
  until: string | null;
  repo: string | null;
  actor: string | null;
  types: string[] | null;
}

const ISO_INSTANT = /^(\d{4})-(\d{2})-(\d{2})(?:T\d{2}:\d{2}(?::\d{2}(?:\.(\d{1,9}))?)?(?:Z|[+-]\d{2}:\d{2}))?$/;

/** True when the day exists in its month: Date.parse reads 2025-02-30 as 2 March. */
function isCalendarDay(year: number, month: number, day: number): boolean {
  const date = new Date(0);
  date.setUTCFullYear(year, month - 1, day); // not Date.UTC, which reads years 0-99 as 19xx
  return date.getUTCFullYear() === year && date.getUTCMonth() === month - 1 && date.getUTCDate() === day;
}

/**
 * The bound as an ISO string of whole milliseconds, the precision records carry. Date.parse
 * drops digits past the third, which would move the bound earlier: a record at .000 would fall
 * inside `since=…00.0005Z` and outside `until=…00.0005Z`. Rounding up keeps both exact, since
 * for a record time t in whole ms, t ≥ x ⟺ t ≥ ⌈x⌉ and t < x ⟺ t < ⌈x⌉.
 */
function instant(param: 'since' | 'until', text: string): string {
  const match = ISO_INSTANT.exec(text);
  let ms = match === null ? Number.NaN : Date.parse(text);
  if (match === null || Number.isNaN(ms) || !isCalendarDay(Number(match[1]), Number(match[2]), Number(match[3]))) {
    throw new AuditFilterError(param, `must be an ISO 8601 date or date-time with a zone, got ${JSON.stringify(text)}: e.g. 2025-01-31 or 2025-01-31T12:00:00Z`);
  }
  if (/[1-9]/.test(match[4]?.slice(3) ?? '')) ms += 1;
  return new Date(ms).toISOString();
}

function text(param: 'repo' | 'actor', value: string): string {
  if (value === '') throw new AuditFilterError(param, `is empty: give a ${param === 'repo' ? 'owner/repo' : 'GitHub login'}, or leave it out`);
  return value;
}

function types(value: string): string[] {
  if (isAuditType(value)) return [value];
  const family = value.endsWith('.*') ? value.slice(0, -1) : null;
  const members = family === null ? [] : AUDIT_TYPES.filter((t) => t.startsWith(family));
  if (members.length === 0) {
    throw new AuditFilterError('type', `must be a record type or a family like webhook.*, got ${JSON.stringify(value)}: one of ${AUDIT_TYPES.join(', ')}`);
  }
  return members;
}

/** Checks and normalises a filter; throws AuditFilterError naming the bad parameter. */
export function normalizeAuditFilter(filter: AuditFilter): NormalizedFilter {
  const since = filter.since === undefined ? null : instant('since', filter.since);
  const until = filter.until === undefined ? null : instant('until', filter.until);
  // An inverted (or equal) pair matches nothing, and an export of 0 records looks like an empty
  // log rather than the swapped arguments it is.
  if (since !== null && until !== null && Date.parse(since) >= Date.parse(until)) {
    throw new AuditFilterError(
      'until',
      `${filter.until ?? ''} is not after since ${filter.since ?? ''}: the range since ≤ time < until is empty, so no record could match; give an until later than since, or swap them`,
    );
  }
  return {
    since,
    until,
    repo: filter.repo === undefined ? null : text('repo', filter.repo),
    actor: filter.actor === undefined ? null : text('actor', filter.actor),
    types: filter.type === undefined ? null : types(filter.type),
  };
}

interface PageQuery {
  where: string[];
  params: Record<string, string>;
}

/** The conditions of one page beyond the seq window, with their named parameters. */
function pageQuery(f: NormalizedFilter): PageQuery {
  const where = ['seq > @after', 'seq <= @last'];
  const params: Record<string, string> = {};
  const add = (condition: string, name: string, value: string | null): void => {
    if (value === null) return;
    where.push(condition);
    params[name] = value;
  };
  add('time >= @since', 'since', f.since);
  add('time < @until', 'until', f.until);
  add('repo = @repo', 'repo', f.repo);
  add('actor = @actor', 'actor', f.actor);
  if (f.types !== null) {
    // One type uses audit_by_type; a family is several, which that index could only serve with
    // a sort, so `+type` keeps the planner on the seq order instead.
    where.push(f.types.length === 1 ? 'type = @type0' : `+type IN (${f.types.map((_, index) => `@type${index}`).join(', ')})`);
    f.types.forEach((type, index) => {
      params[`type${index}`] = type;
    });
  }
  return { where, params };
}

function pageSql(q: PageQuery): string {
  return `SELECT * FROM audit WHERE ${q.where.join(' AND ')} ORDER BY seq LIMIT @limit`;
}

/** The records matching `filter`, in seq order, read a page at a time. */
export function* iterateAudit(db: Db, filter: AuditFilter): Generator<AuditRecord> {
  const f = normalizeAuditFilter(filter);
  const range = seqRange(db, f);
  if (range === null) return;
  const q = pageQuery(f);
  const page = db.prepare(pageSql(q));
  let after = range.first - 1;
  for (;;) {
    const rows = page.all({ ...q.params, after, last: range.last, limit: PAGE_SIZE }) as AuditRow[];
    for (const row of rows) yield recordFromRow(row);
    const last = rows.at(-1);
    if (last === undefined || rows.length < PAGE_SIZE) return;
    after = last.seq;
  }
}

/** SQLite's plan for one page of `filter` (tests check that no filter needs a sort). */
export function exportQueryPlan(db: Db, filter: AuditFilter): string[] {
  const q = pageQuery(normalizeAuditFilter(filter));
  const plan = db.prepare(`EXPLAIN QUERY PLAN ${pageSql(q)}`).all({ ...q.params, after: 0, last: 1, limit: PAGE_SIZE }) as { detail: string }[];
  return plan.map((step) => step.detail);
}

/** First and last seq the filter's time bounds allow, or null when nothing can match. */
function seqRange(db: Db, f: NormalizedFilter): { first: number; last: number } | null {
  const seqOf = (sql: string, ...args: string[]): number | null => db.prepare(sql).pluck().get(...args) as number | null;
  const first = f.since === null ? 1 : seqOf('SELECT MIN(seq) FROM audit WHERE time >= ?', f.since);
  const head = seqOf('SELECT MAX(seq) FROM audit');
  const last = f.until === null ? head : seqOf('SELECT MAX(seq) FROM audit WHERE time < ?', f.until);
  if (first === null || last === null || head === null) return null;
  return { first, last: Math.min(last, head) };
}

export const CSV_COLUMNS = ['seq', 'time', 'type', 'actor', 'repo', 'pull', 'project', 'config_digest', 'fields', 'prev_hash', 'hash'] as const;

/**
 * A cell a spreadsheet would run as a formula (OWASP "CSV injection"): the project column holds
 * repository directory names, and a PR can add a directory called `=HYPERLINK(…)`. Such a cell,
 * and one that already starts with `'`, gets one leading `'`, which spreadsheets show as text;
 * a reader that wants the exact value drops one leading `'` wherever a cell starts with it.
 */
const FORMULA_START = /^[=+\-@\t\r']/;

/** RFC 4180: quoted when it holds a quote, comma, CR or LF; quotes doubled. */
function csvField(raw: string): string {
  const value = FORMULA_START.test(raw) ? `'${raw}` : raw;
  return /[",\r\n]/.test(value) ? `"${value.replace(/"/g, '""')}"` : value;
}

function csvLine(r: AuditRecord): string {
  const cells = [String(r.seq), r.time, r.type, r.actor, r.repo ?? '', r.pull === null ? '' : String(r.pull), r.project ?? '', r.configDigest, canonicalJson(r.fields), r.prevHash, r.hash];
  return `${cells.map(csvField).join(',')}\r\n`;
}

function jsonLine(r: AuditRecord): string {
  // Fixed key order for readers; `fields` in canonical JSON, as it was hashed.
  const j = JSON.stringify;
  return `{"seq":${r.seq},"time":${j(r.time)},"type":${j(r.type)},"actor":${j(r.actor)},"repo":${j(r.repo)},"pull":${j(r.pull)},"project":${j(r.project)},"configDigest":${j(r.configDigest)},"fields":${canonicalJson(r.fields)},"prevHash":${j(r.prevHash)},"hash":${j(r.hash)}}\n`;
}

/**
 * Writes the records to `out` (JSON Lines, or CSV with a header row and RFC 4180 quoting) and
 * returns how many were written. Waits for 'drain' whenever `out` asks it to, so a slow reader
 * holds at most one chunk in memory. Does not end `out`. Throws ExportAbortedError when `out`
 * closes or fails first; the record iterator is closed either way.
 */
export async function writeExport(records: Iterable<AuditRecord>, format: ExportFormat, out: NodeJS.WritableStream): Promise<number> {
  const line = format === 'csv' ? csvLine : jsonLine;
  let count = 0;
  let chunk = format === 'csv' ? `${CSV_COLUMNS.join(',')}\r\n` : '';
  const state = { failure: null as unknown };
  const onError = (error: unknown): void => {
    state.failure = error;
  };
  const onClose = (): void => {
    state.failure ??= new Error('destination closed');
  };
  out.on('error', onError);
  out.on('close', onClose);
  async function flush(): Promise<void> {
    if (state.failure !== null) throw new ExportAbortedError(count, state.failure);
    if (chunk === '') return;
    const ok = out.write(chunk);
    chunk = '';
    if (!ok) await drained(out);
    if (state.failure !== null) throw new ExportAbortedError(count, state.failure);
  }
  try {
    for (const record of records) {
      chunk += line(record);
      count += 1;
      if (chunk.length >= CHUNK_BYTES) await flush();
    }
    await flush();
    return count;
  } finally {
    out.off('error', onError);
    out.off('close', onClose);
  }
}

/** Resolves on 'drain', or on 'close' / 'error' (the caller then sees the failure). */
function drained(out: NodeJS.WritableStream): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      out.off('drain', done);
      out.off('close', done);
      out.off('error', done);
      resolve();
    };
    out.on('drain', done);
    out.on('close', done);
    out.on('error', done);
  });
}
