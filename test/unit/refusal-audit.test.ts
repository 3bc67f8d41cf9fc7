// Refused deliveries are recorded one by one up to a rate, and counted beyond it: a stranger
// looping unsigned POSTs cannot grow the append-only log without bound, and every refusal is
// still accounted for, by the minute's summary or, at shutdown, by flush.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { SecretMasker } from '../../runners/secrets.js';
import { AuditLog } from '../../server/audit/audit-log.js';
import { verifyAudit } from '../../server/audit/verify.js';
import { RefusalAudit } from '../../server/http/refusal-audit.js';
import { openDb } from '../../server/store/db.js';

const dir = mkdtempSync(join(tmpdir(), 'tideline-refusal-audit-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function fresh(name: string): { audit: AuditLog; rows: () => Record<string, unknown>[]; verify: () => unknown } {
  const db = openDb({ dataDir: join(dir, name) });
  const audit = new AuditLog({ db, configDigest: 'c'.repeat(64), masker: new SecretMasker() });
  const rows = (): Record<string, unknown>[] =>
    (db.prepare("SELECT fields FROM audit WHERE type = 'webhook.refused' ORDER BY seq").all() as { fields: string }[]).map((r) => JSON.parse(r.fields) as Record<string, unknown>);
  return { audit, rows, verify: () => verifyAudit(db) };
}

describe('RefusalAudit', () => {
  it('records the first refusals of a window one by one and counts the rest in one record when it ends', async () => {
    const { audit, rows, verify } = fresh('window');
    const refusals = new RefusalAudit(audit, { perWindow: 3, windowMs: 400 });
    for (let i = 0; i < 10; i++) refusals.record({ status: i % 2 === 0 ? 401 : 400, reason: `r${i}` });
    expect(rows().map((r) => r['reason'])).toEqual(['r0', 'r1', 'r2']);
    await new Promise((resolve) => setTimeout(resolve, 600));
    const summary = rows()[3];
    expect(summary).toMatchObject({ suppressed: 7, byStatus: { '400': 4, '401': 3 } });
    expect(String(summary?.['reason'])).toMatch(/more than 3 deliveries were refused within 0\.4 s/);
    expect(Date.parse(String(summary?.['firstAt']))).toBeLessThanOrEqual(Date.parse(String(summary?.['lastAt'])));
    // A new window records one by one again.
    refusals.record({ status: 401, reason: 'next' });
    expect(rows().map((r) => r['reason'] ?? 'summary')).toEqual(['r0', 'r1', 'r2', expect.stringMatching(/^more than/), 'next']);
    expect(verify()).toMatchObject({ ok: true });
  });

  it('writes what it counted when flushed, as the server does when it stops', () => {
    const { audit, rows } = fresh('flush');
    const refusals = new RefusalAudit(audit, { perWindow: 1, windowMs: 3_600_000 });
    refusals.record({ status: 401 });
    refusals.record({ status: 401 });
    refusals.record({ status: 415 });
    expect(rows()).toHaveLength(1);
    refusals.flush();
    expect(rows()[1]).toMatchObject({ suppressed: 2, byStatus: { '401': 1, '415': 1 } });
    refusals.flush();
    expect(rows()).toHaveLength(2);
  });
});
