// Shared set-up for the GitHub double's own tests: a double in a temp dir and an Octokit with the
// plugins the server uses (retry + throttling, here with the throttling plugin's own pacing;
// the server's forge paces writes its own way, see write-pacing.ts), pointed at the double.

import { execFileSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { retry } from '@octokit/plugin-retry';
import { throttling } from '@octokit/plugin-throttling';
import { Octokit } from '@octokit/rest';
import { startGitHubDouble, type StartedGitHubDouble } from '../../sandbox/github/index.js';

export const WEBHOOK_SECRET = 'fixture-webhook-secret';

const ServerOctokit = Octokit.plugin(retry, throttling);
export type ServerOctokitClient = InstanceType<typeof ServerOctokit>;

export interface GitHubFixture {
  double: StartedGitHubDouble;
  octokit: ServerOctokitClient;
  tmp: string;
  close(): Promise<void>;
}

export async function startGitHubFixture(): Promise<GitHubFixture> {
  const tmp = await mkdtemp(join(tmpdir(), 'tideline-github-double-'));
  const double = await startGitHubDouble({ webhookSecret: WEBHOOK_SECRET, rootDir: join(tmp, 'repos') });
  return {
    double,
    octokit: octokitFor(double.url, double.token),
    tmp,
    async close(): Promise<void> {
      try {
        await double.close();
      } finally {
        await rm(tmp, { recursive: true, force: true });
      }
    },
  };
}

export function octokitFor(baseUrl: string, token: string): ServerOctokitClient {
  return new ServerOctokit({
    auth: token,
    baseUrl,
    retry: { retryAfterBaseValue: 10 },
    throttle: { onRateLimit: () => false, onSecondaryRateLimit: () => false },
  });
}

/** Runs git outside the double (as a client would), ignoring the machine's git config. */
export function runGit(args: string[], cwd: string): string {
  return execFileSync('git', args, {
    cwd,
    encoding: 'utf8',
    env: {
      PATH: process.env['PATH'] ?? '/usr/bin:/bin',
      HOME: cwd,
      GIT_CONFIG_NOSYSTEM: '1',
      GIT_CONFIG_GLOBAL: '/dev/null',
      GIT_TERMINAL_PROMPT: '0',
    },
  }).trim();
}
