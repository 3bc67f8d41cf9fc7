// The production entry point: bad configuration stops start-up with one line per problem.

import { spawnSync } from 'node:child_process';
import { chmodSync, chownSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { once } from 'node:events';
import { createServer, type AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { readEnv } from '../../config/read-env.js';
import { startGitHubDouble } from '../../sandbox/github/index.js';
import { startServer } from '../../server/server.js';
import { lockDataDir } from '../../server/store/data-dir-lock.js';
import { openDb } from '../../server/store/db.js';
import { startHarness, testEnv, WEBHOOK_SECRET } from '../support/harness.js';

const TSX = new URL('../../node_modules/.bin/tsx', import.meta.url).pathname;
const MAIN = new URL('../../server/main.ts', import.meta.url).pathname;
const ROOT = new URL('../../', import.meta.url).pathname;

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

  it('records a refused configuration in the audit log of an existing data dir', () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'tideline-cfgerr-'));
    try {
      openDb({ dataDir }).close();
      const res = spawnSync(TSX, [MAIN], { env: { PATH: process.env['PATH'] ?? '', TIDELINE_DATA_DIR: dataDir, TIDELINE_GITHUB_TOKEN: 'tok-abcdef' }, encoding: 'utf8', timeout: 30_000 });
      expect(res.status).toBe(1);
      const db = openDb({ dataDir });
      const rows = db.prepare("SELECT type, fields FROM audit WHERE type = 'config.error'").all() as { fields: string }[];
      db.close();
      expect(rows).toHaveLength(1);
      expect(rows[0]?.fields).toContain('TIDELINE_WEBHOOK_SECRET');
      expect(rows[0]?.fields).not.toContain('tok-abcdef');
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it('exits 1 naming the key and line of a bad repos section in TIDELINE_CONFIG', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tideline-badcfg-'));
    try {
      const file = join(dir, 'tideline.yaml');
      writeFileSync(file, 'repos:\n  - id: acme/infra\n    apply_requirments: [approved]\n');
      const res = spawnSync(TSX, [MAIN], {
        env: { PATH: process.env['PATH'] ?? '', TIDELINE_WEBHOOK_SECRET: 's3cret-value', TIDELINE_GITHUB_TOKEN: 't0ken-value', TIDELINE_REPO_ALLOWLIST: 'acme/*', TIDELINE_CONFIG: file, TIDELINE_DATA_DIR: join(dir, 'data') },
        encoding: 'utf8',
        timeout: 30_000,
      });
      expect(res.status).toBe(1);
      expect(res.stderr).toContain('apply_requirments');
      expect(res.stderr).toMatch(/line 3/);
      expect(res.stderr).toContain('apply_requirements');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('exits 1 listing a bad repos section together with a missing variable', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tideline-badcfg-'));
    try {
      const file = join(dir, 'tideline.yaml');
      writeFileSync(file, 'repos:\n  - id: acme/infra\n    apply_requirments: [approved]\n');
      const res = spawnSync(TSX, [MAIN], {
        env: { PATH: process.env['PATH'] ?? '', TIDELINE_GITHUB_TOKEN: 't0ken-value', TIDELINE_REPO_ALLOWLIST: 'acme/*', TIDELINE_CONFIG: file, TIDELINE_DATA_DIR: join(dir, 'data') },
        encoding: 'utf8',
        timeout: 30_000,
      });
      expect(res.status).toBe(1);
      const lines = res.stderr.split('\n');
      expect(lines.some((l) => l.startsWith('TIDELINE_WEBHOOK_SECRET is required'))).toBe(true);
      expect(lines.some((l) => l.startsWith(`repos[0].apply_requirments in ${file} line 3 is not a valid key`))).toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('exits 1 naming an explicitly set terraform or kubectl binary that does not exist, with the fix', () => {
    const res = spawnSync(TSX, [MAIN], {
      env: { PATH: process.env['PATH'] ?? '', TIDELINE_WEBHOOK_SECRET: 's3cret-value', TIDELINE_GITHUB_TOKEN: 't0ken-value', TIDELINE_REPO_ALLOWLIST: 'acme/*', TIDELINE_TERRAFORM_BIN: '/nope/terraform', TIDELINE_KUBECTL_BIN: 'kubectl-0.0' },
      encoding: 'utf8',
      timeout: 30_000,
    });
    expect(res.status).toBe(1);
    const lines = res.stderr.split('\n');
    expect(lines).toEqual(
      expect.arrayContaining([
        'TIDELINE_TERRAFORM_BIN names /nope/terraform, which does not exist: point it at the terraform binary, or unset it to use `terraform` from PATH (only Terraform projects need it)',
        expect.stringMatching(/^TIDELINE_KUBECTL_BIN names kubectl-0\.0, which is not on PATH \(.*\): point it at the kubectl binary, or unset it to use `kubectl` from PATH/),
      ]),
    );
  });

  it('exits 1 when the git on PATH is too old for worktrees of the object cache', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tideline-oldgit-'));
    try {
      const bin = join(dir, 'bin');
      mkdirSync(bin);
      writeFileSync(join(bin, 'git'), '#!/bin/sh\necho "git version 2.25.1"\n');
      chmodSync(join(bin, 'git'), 0o755);
      const res = spawnSync(TSX, [MAIN], {
        env: { PATH: `${bin}:${process.env['PATH'] ?? ''}`, TIDELINE_WEBHOOK_SECRET: 's3cret-value', TIDELINE_GITHUB_TOKEN: 't0ken-value', TIDELINE_REPO_ALLOWLIST: 'acme/*', TIDELINE_DATA_DIR: join(dir, 'data') },
        encoding: 'utf8',
        timeout: 30_000,
      });
      expect(res.status).toBe(1);
      expect(res.stderr).toContain('git 2.25.1 on PATH is too old: Tideline needs git 2.31 or newer');
      expect(res.stderr).not.toContain('s3cret-value');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  // Root may write anywhere, so the server runs as `nobody` when the tests run as root. That
  // needs a checkout `nobody` can read: a clone inside a 0700 dir (`mktemp -d`) is not one,
  // and there the two tests below cannot run at all, so they say they were skipped.
  const unprivilegedCannotRun =
    process.getuid?.() === 0 && spawnSync(process.execPath, ['-e', `require('fs').accessSync(${JSON.stringify(TSX)})`], { uid: 65534, gid: 65534, timeout: 30_000 }).status !== 0;

  it.skipIf(unprivilegedCannotRun)('exits 1 naming a data dir the server user cannot write, with the other problems', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tideline-rodata-'));
    try {
      const locked = join(dir, 'locked');
      mkdirSync(locked);
      chmodSync(dir, 0o755);
      chmodSync(locked, 0o555);
      const asRoot = process.getuid?.() === 0;
      const res = spawnSync(process.execPath, ['--import', 'tsx', MAIN], {
        cwd: ROOT,
        env: { PATH: process.env['PATH'] ?? '', HOME: dir, TIDELINE_GITHUB_TOKEN: 't0ken-value', TIDELINE_GITHUB_API_URL: 'http://127.0.0.1:9', TIDELINE_REPO_ALLOWLIST: 'acme/*', TIDELINE_DATA_DIR: join(locked, 'data') },
        encoding: 'utf8',
        timeout: 30_000,
        ...(asRoot ? { uid: 65534, gid: 65534 } : {}),
      });
      expect(res.status).toBe(1);
      const lines = res.stderr.split('\n');
      expect(lines).toEqual(expect.arrayContaining([expect.stringMatching(new RegExp(`^TIDELINE_DATA_DIR names ${join(locked, 'data')}, which the server user cannot create, as ${locked} is not writable \\(EACCES\\): let the server user write it`))]));
      expect(lines.some((l) => l.startsWith('TIDELINE_WEBHOOK_SECRET is required'))).toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it.skipIf(unprivilegedCannotRun)('exits 1 naming a database in the data dir that the server user cannot write', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tideline-rodb-'));
    try {
      const dataDir = join(dir, 'data');
      openDb({ dataDir }).close();
      const asRoot = process.getuid?.() === 0;
      chmodSync(dir, 0o755);
      // As root: the directory is the server user's, the database root's (a restore done as root).
      if (asRoot) chownSync(dataDir, 65534, 65534);
      else chmodSync(join(dataDir, 'tideline.db'), 0o444);
      const res = spawnSync(process.execPath, ['--import', 'tsx', MAIN], {
        cwd: ROOT,
        env: { PATH: process.env['PATH'] ?? '', HOME: dir, TIDELINE_WEBHOOK_SECRET: 's3cret-value', TIDELINE_GITHUB_TOKEN: 't0ken-value', TIDELINE_GITHUB_API_URL: 'http://127.0.0.1:9', TIDELINE_REPO_ALLOWLIST: 'acme/*', TIDELINE_DATA_DIR: dataDir },
        encoding: 'utf8',
        timeout: 30_000,
        ...(asRoot ? { uid: 65534, gid: 65534 } : {}),
      });
      expect(res.status).toBe(1);
      expect(res.stderr.split('\n')).toEqual(expect.arrayContaining([expect.stringMatching(new RegExp(`^TIDELINE_DATA_DIR names ${dataDir}, whose ${join(dataDir, 'tideline.db')} the server user cannot write \\(EACCES\\)`))]));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('server start-up on a port in use', () => {
  it('names TIDELINE_PORT and the fix', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tideline-port-'));
    const double = await startGitHubDouble({ webhookSecret: WEBHOOK_SECRET, rootDir: join(dir, 'github') });
    const blocker = createServer().listen(0, '127.0.0.1');
    try {
      await once(blocker, 'listening');
      const port = (blocker.address() as AddressInfo).port;
      const read = readEnv(testEnv(dir, double, { TIDELINE_LOG_LEVEL: 'silent' }), { cwd: dir });
      if (!read.ok) throw new Error(JSON.stringify(read.problems));
      await expect(startServer({ settings: { ...read.settings, port }, host: '127.0.0.1', githubRetries: 0, githubThrottle: false })).rejects.toThrow(
        `TIDELINE_PORT ${port} is in use by another process: stop that process, or set TIDELINE_PORT to a free port`,
      );
    } finally {
      blocker.close();
      await double.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('server start-up without terraform or kubectl on PATH', () => {
  it('starts, and warns once for each, naming what will fail and the fix', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tideline-notools-'));
    const bin = join(dir, 'bin');
    mkdirSync(bin);
    symlinkSync('/usr/bin/git', join(bin, 'git'));
    const h = await startHarness({ dir, env: { PATH: bin } });
    try {
      const warnings = h
        .logs()
        .split('\n')
        .filter((line) => line.includes('tool not found'))
        .map((line) => JSON.parse(line) as { level: number; tool: string; bin: string; fails: string; fix: string });
      expect(warnings).toEqual([
        expect.objectContaining({ level: 40, tool: 'terraform', bin: 'terraform', fails: 'plan, apply and drift checks of Terraform projects', fix: expect.stringContaining('TIDELINE_TERRAFORM_BIN') }),
        expect.objectContaining({ level: 40, tool: 'kubectl', bin: 'kubectl', fails: 'plan, apply and drift checks of Kubernetes projects', fix: expect.stringContaining('TIDELINE_KUBECTL_BIN') }),
      ]);
    } finally {
      await h.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('two servers on one data dir', () => {
  it('refuses the second before it touches the first one\'s jobs, and starts once the first has stopped', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tideline-twice-'));
    const double = await startGitHubDouble({ webhookSecret: WEBHOOK_SECRET, rootDir: join(dir, 'github') });
    try {
      const read = readEnv(testEnv(dir, double, { TIDELINE_LOG_LEVEL: 'silent' }), { cwd: dir });
      if (!read.ok) throw new Error(JSON.stringify(read.problems));
      const start = (): ReturnType<typeof startServer> => startServer({ settings: { ...read.settings, port: 0 }, host: '127.0.0.1', githubRetries: 0, githubThrottle: false });
      const first = await start();
      // A job the first server is running: a second server's start-up would mark it interrupted.
      first.db.prepare("INSERT INTO jobs (type, state, repo, pull, serial_key, payload, created_at, started_at) VALUES ('reply', 'running', 'acme/x', 1, 'acme/x#1', '{}', ?, ?)").run(new Date().toISOString(), new Date().toISOString());
      await expect(start()).rejects.toThrow(`another Tideline server is using TIDELINE_DATA_DIR ${read.settings.dataDir} (it holds ${join(read.settings.dataDir, 'tideline.lock')}): stop it first, or give this server a data dir of its own`);
      expect(first.db.prepare("SELECT state FROM jobs WHERE repo = 'acme/x'").all()).toEqual([{ state: 'running' }]);
      expect(first.db.prepare("SELECT COUNT(*) AS n FROM audit WHERE type = 'server.start'").get()).toEqual({ n: 1 });
      first.db.prepare("UPDATE jobs SET state = 'succeeded' WHERE repo = 'acme/x'").run();
      await first.close();
      const second = await start();
      await second.close();
    } finally {
      await double.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('is free again when the server holding it is killed', () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'tideline-killed-'));
    try {
      const LOCK = new URL('../../server/store/data-dir-lock.ts', import.meta.url).pathname;
      const holder = `import { lockDataDir } from ${JSON.stringify(LOCK)}; lockDataDir(${JSON.stringify(dataDir)}); process.stdout.write('locked\\n'); process.kill(process.pid, 'SIGKILL');`;
      const res = spawnSync(TSX, ['--eval', holder], { encoding: 'utf8', timeout: 30_000, cwd: ROOT });
      expect(res.stdout).toBe('locked\n');
      expect(res.status === 0 && res.signal === null).toBe(false); // killed, not exited: nothing released the lock
      lockDataDir(dataDir).release();
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
