// An end-to-end rig: the GitHub double, the real server in-process on a loopback port, real
// terraform, git and SQLite, all under one temp dir that close() removes.

import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { readEnv } from '../../config/read-env.js';
import type { Settings } from '../../config/settings.js';
import { startGitHubDouble, type GitHubDouble } from '../../sandbox/github/index.js';
import type { Forge } from '../../server/github/forge.js';
import { createOctokitForge } from '../../server/github/octokit-forge.js';
import { startServer, type RunningServer } from '../../server/server.js';

export const WEBHOOK_SECRET = 'e2e-webhook-secret-5b0c';

export interface Harness {
  dir: string;
  double: GitHubDouble;
  server: RunningServer;
  settings: Settings;
  /** Directory for terraform state files that outlive any checkout (a stand-in for a remote backend). */
  stateDir: string;
  /** Log lines the server wrote, as text. */
  logs: () => string;
  /** Closes the server (running applies get `timeoutMs`, default 5 s), and what the harness made. */
  close: (timeoutMs?: number) => Promise<void>;
}

export interface HarnessOptions {
  env?: Record<string, string>;
  /** Reuse a data dir (restart tests). */
  dataDir?: string;
  /** Reuse a double (restart tests). */
  double?: GitHubDouble;
  dir?: string;
  /** Stands in front of the server's forge (the Octokit forge on the double): a test's hook into what it sends. */
  forge?: (inner: Forge) => Forge;
}

export function testEnv(dir: string, double: Pick<GitHubDouble, 'url' | 'token'>, extra: Record<string, string> = {}): Record<string, string> {
  const home = join(dir, 'home');
  mkdirSync(home, { recursive: true });
  return {
    PATH: process.env['PATH'] ?? '/usr/bin:/bin',
    HOME: home,
    TF_CLI_CONFIG_FILE: '/dev/null',
    TIDELINE_WEBHOOK_SECRET: WEBHOOK_SECRET,
    TIDELINE_GITHUB_TOKEN: double.token,
    TIDELINE_GITHUB_API_URL: double.url,
    TIDELINE_REPO_ALLOWLIST: 'acme/*',
    TIDELINE_DATA_DIR: join(dir, 'data'),
    TIDELINE_PARALLELISM: '2',
    TIDELINE_LOG_LEVEL: 'debug',
    ...extra,
  };
}

export async function startHarness(opts: HarnessOptions = {}): Promise<Harness> {
  const dir = opts.dir ?? mkdtempSync(join(tmpdir(), 'tideline-e2e-'));
  const double = opts.double ?? (await startGitHubDouble({ webhookSecret: WEBHOOK_SECRET, rootDir: join(dir, 'github') }));
  const env = testEnv(dir, double, { ...(opts.dataDir === undefined ? {} : { TIDELINE_DATA_DIR: opts.dataDir }), ...opts.env });
  const read = readEnv(env, { cwd: dir });
  if (!read.ok) throw new Error(`test settings invalid: ${JSON.stringify(read.problems)}`);
  const settings: Settings = { ...read.settings, port: 0 };
  const lines: string[] = [];
  const log = pino({ level: 'debug' }, { write: (s: string) => void lines.push(s) });
  const forge = opts.forge?.(createOctokitForge({ apiUrl: double.url, auth: { kind: 'token', token: double.token }, log, retries: 0, throttle: false }));
  const server = await startServer({ settings, host: '127.0.0.1', log, githubRetries: 0, githubThrottle: false, ...(forge === undefined ? {} : { forge }) });
  double.setWebhookTarget(`${server.url}/events`);
  const stateDir = join(dir, 'state');
  mkdirSync(stateDir, { recursive: true });
  let closed = false;
  return {
    dir,
    double,
    server,
    settings,
    stateDir,
    logs: () => lines.join(''),
    close: async (timeoutMs = 5_000) => {
      if (closed) return;
      closed = true;
      await server.close(timeoutMs);
      if (opts.double === undefined) await double.close();
      if (opts.dir === undefined) rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A Terraform root module on the built-in provider whose state lives outside any checkout. */
export function terraformProject(stateFile: string, value = 'one'): string {
  return [
    'terraform {',
    `  backend "local" { path = ${JSON.stringify(stateFile)} }`,
    '}',
    '',
    `variable "v" { default = ${JSON.stringify(value)} }`,
    '',
    'resource "terraform_data" "x" {',
    '  input = var.v',
    '}',
    '',
    'output "v" { value = terraform_data.x.output }',
    '',
  ].join('\n');
}
