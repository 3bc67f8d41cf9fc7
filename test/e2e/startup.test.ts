// The production entry point: bad configuration stops start-up with one line per problem.

import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';

const TSX = new URL('../../node_modules/.bin/tsx', import.meta.url).pathname;
const MAIN = new URL('../../server/main.ts', import.meta.url).pathname;

describe('server start-up', () => {
  it('exits 1 naming every missing required variable and its fix', () => {
    const res = spawnSync(TSX, [MAIN], { env: { PATH: process.env['PATH'] ?? '' }, encoding: 'utf8', timeout: 30_000 });
    expect(res.status).toBe(1);
    const problems = res.stderr.split('\n').filter((l) => l.startsWith('TIDELINE_'));
    expect(problems.map((l) => l.split(' ')[0])).toEqual(
      expect.arrayContaining(['TIDELINE_WEBHOOK_SECRET', 'TIDELINE_REPO_ALLOWLIST', 'TIDELINE_GITHUB_TOKEN']),
    );
    for (const line of problems) expect(line).toMatch(/: /);
  });

  it('exits 1 on a malformed port without starting', () => {
    const res = spawnSync(TSX, [MAIN], {
      env: { PATH: process.env['PATH'] ?? '', TIDELINE_WEBHOOK_SECRET: 's3cret-value', TIDELINE_GITHUB_TOKEN: 't0ken-value', TIDELINE_REPO_ALLOWLIST: 'acme/*', TIDELINE_PORT: 'eighty' },
      encoding: 'utf8',
      timeout: 30_000,
    });
    expect(res.status).toBe(1);
    expect(res.stderr).toContain('TIDELINE_PORT');
    expect(res.stderr).not.toContain('s3cret-value');
  });
});
