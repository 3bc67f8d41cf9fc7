import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { exec, ExecError } from '../../runners/exec.js';
import type { ExecContext, ExecSpec } from '../../runners/exec.js';
import { SecretMasker } from '../../runners/secrets.js';
import { alive } from '../support/server-process.js';

const SECRET = 'canary-Zq8vR2xT7pL';

let tmp = '';
let ctx: ExecContext;

beforeEach(async () => {
  tmp = await mkdtemp(path.join(tmpdir(), 'tideline-exec-'));
  const masker = new SecretMasker();
  masker.add(SECRET);
  ctx = { baseEnv: { PATH: process.env.PATH ?? '', HOME: tmp, LANG: 'C.UTF-8' }, masker };
});

afterEach(async () => {
  await rm(tmp, { recursive: true, force: true });
});

function sh(script: string, extra: Partial<ExecSpec> = {}): ExecSpec {
  return { file: 'sh', args: ['-c', script], cwd: tmp, timeoutMs: 10_000, ...extra };
}

async function execError(spec: ExecSpec): Promise<ExecError> {
  const error: unknown = await exec(ctx, spec).then(
    () => new Error('expected exec to reject'),
    (reason: unknown) => reason,
  );
  if (!(error instanceof ExecError)) throw error;
  return error;
}

/** Alive and not a zombie (this VM's init may reap orphans late). */
async function isAlive(pid: number): Promise<boolean> {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

async function waitUntilGone(pid: number, withinMs: number): Promise<boolean> {
  const deadline = Date.now() + withinMs;
  while (Date.now() < deadline) {
    if (!(await isAlive(pid))) return true;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return !(await isAlive(pid));
}

function envNames(stdout: string): string[] {
  return stdout
    .split('\n')
    .filter((line) => line.includes('='))
    .map((line) => line.slice(0, line.indexOf('=')))
    .sort();
}

describe('exec', () => {
  it('passes arguments as an argv array, never through a shell', async () => {
    const args = ['%s|%s|%s\n', '$HOME', '; echo pwned', '`id`'];
    const result = await exec(ctx, { file: 'printf', args, cwd: tmp, timeoutMs: 5_000 });
    expect(result.stdout).toBe('$HOME|; echo pwned|`id`\n');
    expect(result.exitCode).toBe(0);
  });

  it('gives the child only the base env plus spec.env', async () => {
    process.env.TIDELINE_EXEC_TEST_LEAK = 'leaked';
    try {
      const result = await exec(ctx, {
        file: 'env',
        args: [],
        cwd: tmp,
        env: { EXTRA: 'yes', LANG: 'C' },
        timeoutMs: 5_000,
      });
      expect(envNames(result.stdout)).toEqual(['EXTRA', 'HOME', 'LANG', 'PATH']);
      expect(result.stdout).toContain('LANG=C\n');
      expect(result.stdout).not.toContain('leaked');
    } finally {
      delete process.env.TIDELINE_EXEC_TEST_LEAK;
    }
  });

  it('keeps stdout and stderr apart and interleaves them in arrival order', async () => {
    const script = 'echo one; sleep 0.1; echo two >&2; sleep 0.1; echo three';
    const result = await exec(ctx, sh(script));
    expect(result.stdout).toBe('one\nthree\n');
    expect(result.stderr).toBe('two\n');
    expect(result.output).toBe('one\ntwo\nthree\n');
    expect(result.display).toBe(`sh -c '${script}'`);
  });

  it('runs in the given cwd and feeds stdin', async () => {
    const result = await exec(ctx, sh('pwd; cat', { stdin: 'from stdin' }));
    expect(result.stdout).toBe(`${tmp}\nfrom stdin`);
  });

  it('accepts exit codes listed in okExitCodes', async () => {
    const result = await exec(ctx, sh('exit 2', { okExitCodes: [0, 2] }));
    expect(result.exitCode).toBe(2);
  });

  it('rejects a non-zero exit code by default with the code and stderr', async () => {
    const error = await execError(sh('echo out; echo "bad thing" >&2; exit 2'));
    expect(error).toBeInstanceOf(Error);
    expect(error.exitCode).toBe(2);
    expect(error.signal).toBeNull();
    expect(error.timedOut).toBe(false);
    expect(error.stdout).toBe('out\n');
    expect(error.message).toContain('failed with exit code 2');
    expect(error.message).toContain('bad thing');
  });

  it('names the missing binary on ENOENT', async () => {
    const error = await execError({
      file: 'tideline-no-such-binary',
      args: ['--version'],
      cwd: tmp,
      timeoutMs: 5_000,
    });
    expect(error.exitCode).toBeNull();
    expect(error.message).toMatch(/"tideline-no-such-binary" not found \(ENOENT\)/);
  });

  it('says so when the working directory is missing', async () => {
    const cwd = path.join(tmp, 'gone');
    const error = await execError(sh('true', { cwd }));
    expect(error.message).toContain(`working directory ${cwd} does not exist`);
  });

  it('kills the whole process group on timeout, grandchildren included', async () => {
    const started = Date.now();
    const error = await execError(
      sh('sleep 100 & echo "grandchild $!"; sleep 100', { timeoutMs: 500 }),
    );
    expect(Date.now() - started).toBeLessThan(4_000);
    expect(error.timedOut).toBe(true);
    expect(error.signal).toBe('SIGTERM');
    expect(error.message).toContain('timed out after 500 ms');
    const pid = Number(/grandchild (\d+)/.exec(error.stdout)?.[1]);
    expect(pid).toBeGreaterThan(0);
    expect(await waitUntilGone(pid, 3_000)).toBe(true);
  }, 15_000);

  it('kills a child that writes more than maxOutputBytes and says so', async () => {
    const error = await execError({
      file: 'yes',
      args: ['0123456789'],
      cwd: tmp,
      timeoutMs: 10_000,
      maxOutputBytes: 1_000,
    });
    expect(error.outputCapped).toBe(true);
    expect(error.timedOut).toBe(false);
    expect(Buffer.byteLength(error.output)).toBe(1_000);
    expect(error.message).toContain('more than 1000 bytes');
  });

  it('never shows a secret in an ExecError, in any form', async () => {
    const b64 = Buffer.from(SECRET).toString('base64');
    const error = await execError({
      file: 'sh',
      args: ['-c', `echo "$TOKEN"; echo ${b64}; echo "$TOKEN" >&2; exit 1`, SECRET],
      cwd: tmp,
      env: { TOKEN: SECRET },
      timeoutMs: 5_000,
    });
    for (const text of [error.message, error.command, error.stdout, error.stderr, error.output]) {
      expect(text).not.toContain(SECRET);
      expect(text).not.toContain(b64);
    }
    expect(error.stdout).toBe('***\n***\n');
    expect(error.command).toContain('***');
    expect(String(error.stack)).not.toContain(SECRET);
  });

  it('masks a display override too', async () => {
    const result = await exec(ctx, sh('true', { display: `git clone https://t:${SECRET}@h/r` }));
    expect(result.display).toBe('git clone https://t:***@h/r');
  });

  it('streams masked whole lines, even when a secret arrives in two chunks', async () => {
    const chunks: string[] = [];
    const half = SECRET.length / 2;
    const script = `printf '${SECRET.slice(0, half)}'; sleep 0.2; printf '${SECRET.slice(half)}\\nnext\\n'`;
    const result = await exec(ctx, sh(script, { onOutput: (chunk) => chunks.push(chunk) }));
    expect(chunks.join('')).toBe('***\nnext\n');
    expect(result.output).toBe('***\nnext\n');
  });

  it('refuses to run without a positive timeout', async () => {
    await expect(exec(ctx, sh('true', { timeoutMs: 0 }))).rejects.toBeInstanceOf(RangeError);
  });
});

describe('exec abort', () => {
  it('kills the process group when its signal aborts, and says why', async () => {
    const controller = new AbortController();
    const started = Date.now();
    const pending = exec(
      { baseEnv: { PATH: process.env['PATH'] ?? '' }, masker: new SecretMasker() },
      { file: 'sh', args: ['-c', 'sleep 30'], cwd: process.cwd(), timeoutMs: 60_000, signal: controller.signal },
    );
    setTimeout(() => controller.abort(), 100);
    const error = await pending.then(() => null, (e: unknown) => e);
    expect(error).toBeInstanceOf(ExecError);
    expect((error as Error).message).toContain('shutting down');
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it('reports a child that exited before the abort as it exited, and ends what it left', async () => {
    const controller = new AbortController();
    // The child exits at once; a background member of its group keeps the pipes open.
    const pidFile = path.join(tmp, 'pid');
    const pending = exec(ctx, sh(`echo $$ > ${pidFile}; (sleep 30; echo late) & echo done; exit 0`, { signal: controller.signal, timeoutMs: 60_000 }));
    // Wait until the child is gone (reaped, so its exit was seen), then stop.
    for (;;) {
      const pid = Number((await readFile(pidFile, 'utf8').catch(() => '')).trim());
      if (pid > 0 && !alive(pid)) break;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    const started = Date.now();
    controller.abort();
    const result = await pending;
    expect(result).toMatchObject({ exitCode: 0, output: 'done\n' });
    expect(Date.now() - started).toBeLessThan(5_000);
  });
});
