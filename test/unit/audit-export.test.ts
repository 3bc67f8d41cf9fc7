import { createHash } from 'node:crypto';
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { SecretMasker } from '../../runners/secrets.js';
import { AuditLog } from '../../server/audit/audit-log.js';
import { canonicalJson } from '../../server/audit/canonical-json.js';
import { AuditFilterError, ExportAbortedError } from '../../server/audit/errors.js';
import { CSV_COLUMNS, exportQueryPlan, iterateAudit, writeExport, type AuditFilter } from '../../server/audit/export.js';
import type { AuditRecord, AuditType } from '../../server/audit/types.js';
import { openDb, type Db } from '../../server/store/db.js';

const HOUR = 3_600_000;
const START = Date.parse('2025-02-01T00:00:00.000Z');
const TYPES: AuditType[] = ['webhook.accepted', 'command', 'lock.taken', 'plan', 'apply', 'lock.released', 'webhook.ignored'];
const REPOS = ['acme/infra', 'acme/app', undefined];
const ACTORS = ['alice', 'bob', 'tideline', 'carol'];

/** `n` records an hour apart, except every 7th, whose clock ran 3 hours behind. */
function seeded(n: number): { db: Db; log: AuditLog; all: AuditRecord[] } {
  const db = openDb({ dataDir: ':memory:' });
  let i = 0;
  const log = new AuditLog({ db, configDigest: 'c'.repeat(64), masker: new SecretMasker(), now: () => new Date(START + i * HOUR - (i % 7 === 0 ? 3 * HOUR : 0)) });
  const all: AuditRecord[] = [];
  for (i = 0; i < n; i += 1) {
    const repo = REPOS[i % 3];
    all.push(
      log.append({
        type: TYPES[i % TYPES.length] ?? 'plan',
        actor: ACTORS[i % 4] ?? 'alice',
        ...(repo === undefined ? {} : { repo, pull: (i % 5) + 1 }),
        fields: { i, note: i % 11 === 0 ? 'has "quotes", commas\nand a newline' : `n${i}`, '10': 'a', '9': 'b' },
      }),
    );
  }
  return { db, log, all };
}

function at(hours: number): string {
  return new Date(START + hours * HOUR).toISOString();
}

function matches(r: AuditRecord, f: AuditFilter): boolean {
  const types = f.type?.endsWith('.*') ? TYPES.filter((t) => t.startsWith(f.type?.slice(0, -1) ?? '')) : f.type === undefined ? null : [f.type];
  return (
    (f.since === undefined || Date.parse(r.time) >= Date.parse(f.since)) &&
    (f.until === undefined || Date.parse(r.time) < Date.parse(f.until)) &&
    (f.repo === undefined || r.repo === f.repo) &&
    (f.actor === undefined || r.actor === f.actor) &&
    (types === null || (types as string[]).includes(r.type))
  );
}

/** Collects what a Writable receives. */
function sink(): { out: Writable; text: () => string } {
  const chunks: Buffer[] = [];
  const out = new Writable({
    write(chunk: Buffer, _enc, done): void {
      chunks.push(chunk);
      done();
    },
  });
  return { out, text: () => Buffer.concat(chunks).toString('utf8') };
}

/** A minimal RFC 4180 reader, to prove the CSV parses back to the records. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let cell = '';
  let quoted = false;
  for (let i = 0; i < text.length; i += 1) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        cell += '"';
        i += 1;
      } else if (c === '"') quoted = false;
      else cell += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      row.push(cell);
      cell = '';
    } else if (c === '\r' && text[i + 1] === '\n') {
      row.push(cell);
      rows.push(row);
      row = [];
      cell = '';
      i += 1;
    } else cell += c;
  }
  expect(cell).toBe('');
  return rows;
}

const N = 2600; // more than two pages
const data = seeded(N);

const FILTERS: [string, AuditFilter][] = [
  ['no filter', {}],
  ['repo', { repo: 'acme/infra' }],
  ['actor', { actor: 'bob' }],
  ['type', { type: 'plan' }],
  ['type family', { type: 'lock.*' }],
  ['since (inclusive)', { since: at(700) }],
  ['until (exclusive)', { until: at(1500) }],
  ['since and until around skewed clocks', { since: at(998), until: at(1003) }],
  ['since as a date', { since: '2025-03-15' }],
  ['since with an offset', { since: '2025-02-20T05:00:00+02:00' }],
  ['everything at once', { since: at(100), until: at(2000), repo: 'acme/app', actor: 'alice', type: 'webhook.*' }],
  ['repo and actor', { repo: 'acme/infra', actor: 'carol' }],
  ['no match', { repo: 'acme/infra', actor: 'bob', type: 'apply' }],
  ['since after the last record', { since: at(N + 10) }],
  ['until before the first record', { until: at(-10) }],
];

describe('iterateAudit', () => {
  it.each(FILTERS)('returns exactly the matching records: %s', (_name, filter) => {
    const expected = data.all.filter((r) => matches(r, filter)).map((r) => r.seq);
    const got = [...iterateAudit(data.db, filter)];
    expect(got.map((r) => r.seq)).toEqual(expected);
    expect(got).toEqual(data.all.filter((r) => matches(r, filter)));
  });

  it('keeps since inclusive and until exclusive for bounds finer than a millisecond', () => {
    const db = openDb({ dataDir: ':memory:' });
    const log = new AuditLog({ db, configDigest: 'c'.repeat(64), masker: new SecretMasker(), now: () => new Date('2025-03-01T00:00:00.000Z') });
    log.append({ type: 'plan', actor: 'octocat', fields: {} });
    // The record is at .000, before the bound .0005: since leaves it out, until keeps it.
    expect([...iterateAudit(db, { since: '2025-03-01T00:00:00.0005Z' })]).toHaveLength(0);
    expect([...iterateAudit(db, { until: '2025-03-01T00:00:00.0005Z' })]).toHaveLength(1);
    expect([...iterateAudit(db, { since: '2025-03-01T00:00:00.0000Z', until: '2025-03-01T00:00:00.0010Z' })]).toHaveLength(1);
  });

  it.each(FILTERS)('needs no sort for %s', (_name, filter) => {
    expect(exportQueryPlan(data.db, filter).join('\n')).not.toMatch(/TEMP B-TREE/);
  });

  it.each<[AuditFilter, string, RegExp]>([
    [{ since: 'yesterday' }, 'since', /must be an ISO 8601 date/],
    [{ until: '2025-02-30T25:00:00Z' }, 'until', /must be an ISO 8601 date/],
    [{ since: '2025-02-01T10:00:00' }, 'since', /with a zone/],
    [{ until: '2025-02-30' }, 'until', /must be an ISO 8601 date/],
    [{ since: '2025-04-31T00:00:00Z' }, 'since', /must be an ISO 8601 date/],
    [{ type: 'plans' }, 'type', /must be a record type or a family/],
    [{ type: 'nothing.*' }, 'type', /must be a record type or a family/],
    [{ repo: '' }, 'repo', /is empty/],
  ])('refuses %j, naming %s', (filter, param, message) => {
    let caught: unknown;
    try {
      iterateAudit(data.db, filter).next();
    } catch (error: unknown) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(AuditFilterError);
    expect((caught as AuditFilterError).param).toBe(param);
    expect((caught as AuditFilterError).message).toMatch(message);
  });

  it('leaves out records appended after the export began', () => {
    const { db, log } = seeded(1500);
    const it = iterateAudit(db, {});
    expect(it.next().value?.seq).toBe(1);
    log.append({ type: 'plan', actor: 'late', fields: {} });
    expect(1 + [...it].length).toBe(1500);
  });
});

describe('writeExport', () => {
  it.each(FILTERS.slice(0, 6))('writes JSON Lines that parse back to the records: %s', async (_name, filter) => {
    const { out, text } = sink();
    const expected = data.all.filter((r) => matches(r, filter));
    expect(await writeExport(iterateAudit(data.db, filter), 'jsonl', out)).toBe(expected.length);
    const lines = text().split('\n');
    expect(lines.pop()).toBe('');
    expect(lines.map((line) => JSON.parse(line) as AuditRecord)).toEqual(expected);
  });

  it.each(FILTERS.slice(0, 6))('writes RFC 4180 CSV that parses back to the records: %s', async (_name, filter) => {
    const { out, text } = sink();
    const expected = data.all.filter((r) => matches(r, filter));
    expect(await writeExport(iterateAudit(data.db, filter), 'csv', out)).toBe(expected.length);
    const [header, ...rows] = parseCsv(text());
    expect(header).toEqual([...CSV_COLUMNS]);
    expect(rows).toEqual(
      expected.map((r) => [String(r.seq), r.time, r.type, r.actor, r.repo ?? '', r.pull === null ? '' : String(r.pull), r.project ?? '', r.configDigest, canonicalJson(r.fields), r.prevHash, r.hash]),
    );
  });

  it('writes cells a spreadsheet would run as formulas as text, with one leading quote', async () => {
    const db = openDb({ dataDir: ':memory:' });
    const log = new AuditLog({ db, configDigest: 'c'.repeat(64), masker: new SecretMasker() });
    const projects = ['=HYPERLINK("http://127.0.0.1/x","open")|default|', '+1|default|', '-2+3|default|', '@SUM(A1)|default|', '\tx|default|', "'x|default|", 'plain|default|'];
    for (const project of projects) log.append({ type: 'plan', actor: 'octocat', repo: 'acme/infra', pull: 1, project, fields: {} });
    const { out, text } = sink();
    await writeExport(iterateAudit(db, {}), 'csv', out);
    const cells = parseCsv(text()).slice(1).map((cells) => cells[CSV_COLUMNS.indexOf('project')]);
    expect(cells).toEqual([...projects.slice(0, -1).map((p) => `'${p}`), 'plain|default|']);
    // Dropping the one leading quote gives back exactly what was recorded.
    expect(cells.map((c) => c?.replace(/^'/, ''))).toEqual(projects);
  });

  it('writes only the header for an empty CSV export', async () => {
    const { out, text } = sink();
    expect(await writeExport([], 'csv', out)).toBe(0);
    expect(text()).toBe(`${CSV_COLUMNS.join(',')}\r\n`);
  });

  it('exports what an auditor can re-hash without Tideline: sha256(prevHash ‖ JCS(record minus hashes))', async () => {
    const { out, text } = sink();
    await writeExport(iterateAudit(data.db, { until: at(50) }), 'jsonl', out);
    let prev = '0'.repeat(64);
    for (const line of text().trim().split('\n')) {
      const { prevHash, hash, ...content } = JSON.parse(line) as AuditRecord;
      expect(prevHash).toBe(prev);
      expect(createHash('sha256').update(prevHash + canonicalJson(content)).digest('hex')).toBe(hash);
      prev = hash;
    }
  });

  it('waits for drain, and the database takes writes while the export is paused', async () => {
    const { db, log } = seeded(3000);
    const pending: (() => void)[] = [];
    let bytes = 0;
    let drains = 0;
    const slow = new Writable({
      highWaterMark: 16 * 1024,
      write(chunk: Buffer, _enc, done): void {
        bytes += chunk.length;
        pending.push(done);
      },
    });
    slow.on('drain', () => (drains += 1));
    let done = false;
    const exported = writeExport(iterateAudit(db, {}), 'jsonl', slow).finally(() => (done = true));
    let appendedDuringExport = 0;
    while (!done) {
      await new Promise((resolve) => setTimeout(resolve, 1));
      expect(slow.writableLength).toBeLessThanOrEqual(CHUNK_LIMIT);
      if (pending.length > 0) {
        log.append({ type: 'plan', actor: 'writer', fields: {} }); // would throw "connection is busy" with an open cursor
        appendedDuringExport += 1;
      }
      pending.shift()?.();
    }
    expect(await exported).toBe(3000);
    expect(drains).toBeGreaterThan(5);
    expect(bytes).toBeGreaterThan(500_000);
    expect(appendedDuringExport).toBeGreaterThan(5);
  });

  it('stops with ExportAbortedError when the destination is destroyed, and frees the connection', async () => {
    const { db, log } = seeded(3000);
    const out = new Writable({
      highWaterMark: 1024,
      write(_chunk, _enc, done): void {
        setTimeout(done, 5);
      },
    });
    const exported = writeExport(iterateAudit(db, {}), 'csv', out);
    setTimeout(() => out.destroy(), 20);
    await expect(exported).rejects.toBeInstanceOf(ExportAbortedError);
    expect(log.append({ type: 'plan', actor: 'after', fields: {} }).seq).toBe(3001);
  });
});

/** writeExport gathers up to 64 KiB before a write, plus one record. */
const CHUNK_LIMIT = 64 * 1024 + 4096;
