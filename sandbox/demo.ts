// `npm run demo`: a self-contained tour, offline. Starts the GitHub double, the real server
// and an example repository, then walks one pull request through plan → apply → merge with
// real terraform, printing every comment the server posts; then changes the infrastructure by
// hand and lets a drift sweep of the default branch find it.

import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { readEnv } from '../config/read-env.js';
import { startServer } from '../server/server.js';
import { startGitHubDouble, type GitHubDouble } from './github/index.js';

const REPO = 'acme/infra';
const SECRET = 'demo-webhook-secret';
const API_SECRET = 'demo-api-secret';

function module(stateFile: string, size: string): string {
  return `terraform {
  backend "local" { path = ${JSON.stringify(stateFile)} }
}

variable "size" { default = ${JSON.stringify(size)} }

resource "terraform_data" "cluster" {
  input = { name = "demo", size = var.size }
}

output "size" { value = terraform_data.cluster.output.size }
`;
}

/** `terraform apply -var size=huge` on the same state, from outside Tideline: real drift. */
function outOfBand(workDir: string, stateFile: string, home: string): void {
  mkdirSync(workDir, { recursive: true });
  writeFileSync(join(workDir, 'main.tf'), module(stateFile, 'large'));
  const env = { PATH: process.env['PATH'] ?? '/usr/bin:/bin', HOME: home, TF_CLI_CONFIG_FILE: '/dev/null', TF_IN_AUTOMATION: '1' };
  execFileSync('terraform', ['init', '-input=false', '-no-color'], { cwd: workDir, env, stdio: 'ignore' });
  execFileSync('terraform', ['apply', '-auto-approve', '-input=false', '-no-color', '-var', 'size=huge'], { cwd: workDir, env, stdio: 'ignore' });
}

function say(text: string): void {
  process.stdout.write(`${text}\n`);
}

async function step(double: GitHubDouble, pull: number, title: string, act: () => Promise<unknown>, marker: string): Promise<void> {
  say(`\n\u001b[1m▶ ${title}\u001b[0m`);
  const before = double.comments(REPO, pull).length;
  await act();
  const reply = await double.waitFor(`a reply containing ${marker}`, () =>
    double.comments(REPO, pull).slice(before).find((c) => c.user === double.botLogin && c.body.includes(marker)),
    120_000,
  );
  say(`\u001b[2m── comment by @${reply.user} on ${REPO}#${pull} ──\u001b[0m`);
  say(reply.body.replace(/<!-- tideline:[a-z-]+ -->\n?/g, '').trimEnd());
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'tideline-demo-'));
  const home = join(dir, 'home');
  mkdirSync(home, { recursive: true });
  const double = await startGitHubDouble({ webhookSecret: SECRET, rootDir: join(dir, 'github') });
  const read = readEnv(
    {
      PATH: process.env['PATH'] ?? '/usr/bin:/bin',
      HOME: home,
      TF_CLI_CONFIG_FILE: '/dev/null',
      TIDELINE_WEBHOOK_SECRET: SECRET,
      TIDELINE_GITHUB_TOKEN: double.token,
      TIDELINE_GITHUB_API_URL: double.url,
      TIDELINE_REPO_ALLOWLIST: 'acme/*',
      TIDELINE_DATA_DIR: join(dir, 'data'),
      TIDELINE_API_SECRET: API_SECRET,
      TIDELINE_DRIFT_SCHEDULE: 'off',
    },
    { cwd: dir },
  );
  if (!read.ok) throw new Error(read.problems.map((p) => `${p.variable} ${p.message}`).join('\n'));
  const logFile = join(dir, 'server.log');
  const server = await startServer({
    settings: { ...read.settings, port: 0 },
    host: '127.0.0.1',
    githubThrottle: false,
    log: pino({ level: 'info' }, pino.destination({ dest: logFile, sync: true })),
  });
  double.setWebhookTarget(`${server.url}/events`);
  say(`Tideline ${server.version} listening on ${server.url}; GitHub double on ${double.url}`);
  say(`terraform runs for real; state lives in ${join(dir, 'state')}`);

  try {
    const stateFile = join(dir, 'state', 'cluster.tfstate');
    mkdirSync(join(dir, 'state'), { recursive: true });
    await double.createRepo(REPO, { 'README.md': '# acme infra\n', 'cluster/main.tf': module(stateFile, 'small') });
    const pr = await double.openPull(REPO, {
      branch: 'grow-cluster',
      title: 'Grow the demo cluster',
      author: 'alice',
      files: { 'cluster/main.tf': module(stateFile, 'large') },
    });
    await step(double, pr.number, `@alice opens ${REPO}#${pr.number} "Grow the demo cluster": Tideline autoplans it`, () => double.sendPullRequestEvent(REPO, pr.number, 'opened'), 'Ran Plan');
    await step(double, pr.number, '@alice comments `tideline apply`', () => double.sendComment(REPO, pr.number, 'tideline apply', { user: 'alice' }), 'Ran Apply');
    await step(
      double,
      pr.number,
      `${REPO}#${pr.number} is merged`,
      async () => {
        await double.mergePull(REPO, pr.number);
        return double.sendPullRequestEvent(REPO, pr.number, 'closed');
      },
      'tideline:released',
    );
    // Newest first: the first entry of each context is its current state.
    const latest = new Map<string, string>();
    for (const s of double.statuses(REPO, pr.headSha)) if (!latest.has(s.context)) latest.set(s.context, s.state);
    say(`\nCommit statuses on ${pr.headSha.slice(0, 7)}: ${[...latest].map(([c, s]) => `${c}=${s}`).join(', ')}`);

    // Drift: someone changes the cluster by hand, outside Git; a sweep of main notices.
    say('\n\u001b[1m▶ someone runs `terraform apply -var size=huge` by hand, outside Git\u001b[0m');
    outOfBand(join(dir, 'outside'), stateFile, home);
    say('\u001b[1m▶ POST /api/drift/run: Tideline re-plans the default branch\u001b[0m');
    const run = await fetch(`${server.url}/api/drift/run`, { method: 'POST', headers: { authorization: `Bearer ${API_SECRET}` } });
    if (run.status !== 202) throw new Error(`drift run answered ${run.status}`);
    await server.pool.idle();
    const issue = double.issues(REPO)[0];
    if (issue === undefined) throw new Error('the drift sweep opened no issue');
    say(`\u001b[2m── issue #${issue.number} "${issue.title}" [${issue.labels.join(', ')}] ──\u001b[0m`);
    say(issue.body.trimEnd());
    if (double.violations.length > 0) throw new Error(`GitHub double saw invalid requests:\n${double.violations.join('\n')}`);
    say('Every request the server made was a valid GitHub API operation. Demo complete.');
  } finally {
    await server.close(10_000);
    await double.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`demo failed: ${err instanceof Error ? err.stack ?? err.message : String(err)}\n`);
    process.exit(1);
  },
);
