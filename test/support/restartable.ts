// For tests that stop and start the server over one data dir: a temp dir, its data dir, one
// GitHub double for every start, and clean-up of whatever is still running after the file.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from 'vitest';
import { startGitHubDouble, type GitHubDouble } from '../../sandbox/github/index.js';
import { startHarness, WEBHOOK_SECRET, type Harness, type HarnessOptions } from './harness.js';

export interface Restartable {
  dir: string;
  dataDir: string;
  /** The double, started on first use and kept across restarts. */
  double(): Promise<GitHubDouble>;
  /** Starts a server on the data dir, closing the one before if it still runs. */
  start(opts?: Pick<HarnessOptions, 'env' | 'forge'>): Promise<Harness>;
}

export function restartable(prefix: string): Restartable {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  const dataDir = join(dir, 'data');
  let double: GitHubDouble | undefined;
  let current: Harness | undefined;
  let closed = false;

  afterAll(async () => {
    if (!closed) await current?.close();
    await double?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const theDouble = async (): Promise<GitHubDouble> => (double ??= await startGitHubDouble({ webhookSecret: WEBHOOK_SECRET, rootDir: join(dir, 'github') }));
  return {
    dir,
    dataDir,
    double: theDouble,
    async start(opts = {}) {
      if (current !== undefined && !closed) await current.close();
      const harness = await startHarness({ ...opts, double: await theDouble(), dir, dataDir });
      closed = false;
      // A test may close it itself (to change the data dir in between); afterAll then does not.
      const close = harness.close;
      current = { ...harness, close: async (timeoutMs?: number) => { closed = true; await close(timeoutMs); } };
      return current;
    },
  };
}
