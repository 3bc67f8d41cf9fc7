// TIDELINE_DATA_DIR is checked on the real filesystem with every other setting: a file in the
// way or a directory the server user cannot write is one problem line, not a stack from deep
// inside start-up.

import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { dataDirProblem } from '../../config/data-dir.js';
import { formatProblems, readEnv } from '../../config/read-env.js';

const root = mkdtempSync(join(tmpdir(), 'tideline-datadir-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const REQUIRED = { TIDELINE_WEBHOOK_SECRET: 'whs-1', TIDELINE_GITHUB_TOKEN: 'ghp_1234', TIDELINE_REPO_ALLOWLIST: 'acme/*' };

describe('dataDirProblem', () => {
  it('accepts an existing writable directory, and a missing one under it', () => {
    expect(dataDirProblem(root)).toBeNull();
    expect(dataDirProblem(join(root, 'not', 'yet', 'made'))).toBeNull();
  });

  it('names a file where the directory should be', () => {
    const file = join(root, 'a-file');
    writeFileSync(file, 'x');
    expect(dataDirProblem(file)).toBe('which is a file, not a directory: point it at a directory');
    expect(dataDirProblem(join(file, 'data'))).toBe(`but ${file} is a file, not a directory: point it at a directory`);
  });
});

describe('readEnv: TIDELINE_DATA_DIR', () => {
  it('reports a data dir that cannot be made together with every other problem', () => {
    const file = join(root, 'in-the-way');
    writeFileSync(file, 'x');
    const result = readEnv({ TIDELINE_DATA_DIR: join(file, 'data'), TIDELINE_PORT: 'x' }, { cwd: root });
    expect(result.ok).toBe(false);
    const lines = result.ok ? [] : formatProblems(result.problems).split('\n');
    expect(lines).toContain(`TIDELINE_DATA_DIR names ${join(file, 'data')}, but ${file} is a file, not a directory: point it at a directory`);
    expect(lines.map((l) => l.split(' ')[0])).toEqual(expect.arrayContaining(['TIDELINE_PORT', 'TIDELINE_WEBHOOK_SECRET', 'TIDELINE_REPO_ALLOWLIST', 'TIDELINE_GITHUB_TOKEN']));
  });

  it('names the key of the YAML file that set the data dir, resolved against that file', () => {
    const dir = join(root, 'etc');
    mkdirSync(dir);
    writeFileSync(join(dir, 'state'), 'x');
    writeFileSync(join(dir, 'tideline.yaml'), 'data_dir: state\n');
    const result = readEnv({ ...REQUIRED, TIDELINE_CONFIG: join(dir, 'tideline.yaml') }, { cwd: root });
    expect(result.ok ? [] : result.problems).toEqual([
      { variable: `data_dir in ${join(dir, 'tideline.yaml')} line 1`, message: `names ${join(dir, 'state')}, which is a file, not a directory: point it at a directory` },
    ]);
  });

  it('passes the resolved directory to the check, and reads a writable one', () => {
    const seen: string[] = [];
    const result = readEnv({ ...REQUIRED, TIDELINE_DATA_DIR: 'rel' }, { cwd: root, checkDataDir: (dir) => (seen.push(dir), null) });
    expect(seen).toEqual([join(root, 'rel')]);
    expect(result.ok && result.settings.dataDir).toBe(join(root, 'rel'));
  });
});
