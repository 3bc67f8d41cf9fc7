// `npm run bench`: prints JSON figures. Ratios are measured within one run, because these
// machines are noisy: the comment→plan latency is divided by a raw `terraform init && terraform
// plan` of the same directory timed in the same run.

import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { startGitHubDouble, type StartedGitHubDouble } from '../sandbox/github/index.js';
import { measureIntake, percentile } from './intake-rounds.js';
import { WRITE_PACING } from '../server/github/write-pacing.js';

const REPO = 'acme/bench';
const MANUAL_REPO = 'acme/bench-manual';
const SECRET = 'bench-secret';
/** Issue 2's target for comment → plan ÷ raw init + plan, for now (1.10 later). */
const RATIO_TARGET = 1.25;
const PLAN_RUNS = Number(process.env['BENCH_PLAN_RUNS'] ?? 5);
const DELIVERIES = Number(process.env['BENCH_DELIVERIES'] ?? 2000);
const CONCURRENCY = Number(process.env['BENCH_CONCURRENCY'] ?? 16);
/** Module sizes (resources) of the comment→plan runs, e.g. BENCH_SIZES=1,200. */
const SIZES = (process.env['BENCH_SIZES'] ?? '1,200,1000').split(',').map((text) => {
  const size = Number(text);
  if (!Number.isInteger(size) || size < 1) throw new Error(`BENCH_SIZES: ${JSON.stringify(text)} is not a positive whole number of resources`);
  return size;
});

/** A root module of `resources` built-in resources; more resources mean more terraform work. */
function tfModule(stateFile: string, value: string, resources: number): string {
  return `terraform {\n  backend "local" { path = ${JSON.stringify(stateFile)} }\n}\nresource "terraform_data" "x" {\n  count = ${resources}\n  input = "${value}-\${count.index}"\n}\n`;
}

interface ServerProcess {
  url: string;
  close: () => Promise<void>;
}

/** Starts bench/server-entry.ts in a process of its own and waits for the URL it prints. */
async function startServerProcess(env: Record<string, string>): Promise<ServerProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(new URL('server-entry.ts', import.meta.url))], {
    env,
    cwd: fileURLToPath(new URL('..', import.meta.url)),
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const line = out.split('\n').find((l) => l.startsWith('{'));
      if (line !== undefined) resolve((JSON.parse(line) as { url: string }).url);
    });
    child.once('exit', (code) => reject(new Error(`bench server exited with ${code}`)));
  });
  return {
    url,
    close: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}

/** Runs another bench file in a fresh process and returns the JSON it prints. */
function runSeparately(file: string): unknown {
  const tsx = fileURLToPath(new URL('../node_modules/.bin/tsx', import.meta.url));
  const out = execFileSync(tsx, [fileURLToPath(new URL(file, import.meta.url))], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 16 * 1024 * 1024 });
  return JSON.parse(out.slice(out.indexOf('{'))) as unknown;
}

/** Sum and count of the server's successful git requests by kind, read from its /metrics. */
async function gitTimings(url: string): Promise<Map<string, { sum: number; count: number }>> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const timings = new Map<string, { sum: number; count: number }>();
  for (const m of text.matchAll(/^tideline_git_request_duration_seconds_(sum|count)\{request="([a-z_]+)",result="succeeded"\} (\S+)$/gm)) {
    const [, field, request = '', value = '0'] = m;
    const entry = timings.get(request) ?? { sum: 0, count: 0 };
    if (field === 'sum') entry.sum = Number(value);
    else entry.count = Number(value);
    timings.set(request, entry);
  }
  return timings;
}

/** Mean milliseconds per request of each kind between two readings of gitTimings. */
function meanMsBetween(before: Map<string, { sum: number; count: number }>, after: Map<string, { sum: number; count: number }>): Record<string, number> {
  const means: Record<string, number> = {};
  for (const [request, a] of after) {
    const b = before.get(request) ?? { sum: 0, count: 0 };
    if (a.count > b.count) means[request] = Math.round(((a.sum - b.sum) / (a.count - b.count)) * 10_000) / 10;
  }
  return means;
}

/** `terraform init && terraform plan` in `dir`, as an operator would type them. */
function rawInitPlan(dir: string, env: Record<string, string>): void {
  execFileSync('terraform', ['init', '-input=false', '-no-color'], { cwd: dir, env, stdio: 'ignore' });
  try {
    execFileSync('terraform', ['plan', '-input=false', '-no-color', '-detailed-exitcode', '-out=plan.tfplan'], { cwd: dir, env, stdio: 'ignore' });
  } catch (err: unknown) {
    if ((err as { status?: number }).status !== 2) throw err;
  }
}

/** Writes `content` as main.tf in `dir` (made if missing), then times rawInitPlan there: ms. */
function timedRawInitPlan(dir: string, content: string, env: Record<string, string>): number {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'main.tf'), content);
  const started = performance.now();
  rawInitPlan(dir, env);
  return performance.now() - started;
}

/** One PR state's figures: the server's median time against the raw pair's, and the target. */
function versusRaw(viaServer: readonly number[], raw: readonly number[]): Record<string, number | boolean> {
  const ratio = median(viaServer) / median(raw);
  return {
    serverMedianMs: Math.round(median(viaServer)),
    rawInitPlanMedianMs: Math.round(median(raw)),
    overheadMedianMs: Math.round(median(viaServer) - median(raw)),
    ratio: Number(ratio.toFixed(3)),
    meetsTarget: ratio <= RATIO_TARGET,
  };
}

function median(values: readonly number[]): number {
  return percentile([...values].sort((a, b) => a - b), 50);
}

const PACING_RUNS = 3;
/** Long enough for the pacers' buckets to refill after a plan (a comment every 3 s), and a margin. */
const PACER_IDLE_MS = WRITE_PACING.notifyIntervalMs + 200;

/**
 * One-resource plans of PRs never seen before, by comment, alternately on the unpaced bench
 * server (at `unpacedUrl`) and on a server started here with GitHub writes paced as in
 * production. Reports the time to the plan comment and from it to the final status.
 */
async function measureWritePacing(double: StartedGitHubDouble, unpacedUrl: string, pacedEnv: Record<string, string>, stateDir: string): Promise<Record<string, unknown>> {
  const paced = await startServerProcess(pacedEnv);
  try {
    const module = (name: string): string => tfModule(join(stateDir, `${name}.tfstate`), name, 1);
    const servers = [
      { name: 'paced', url: paced.url, repo: 'acme/bench-paced', toPlan: [] as number[], toStatus: [] as number[] },
      { name: 'unpaced', url: unpacedUrl, repo: 'acme/bench-unpaced', toPlan: [] as number[], toStatus: [] as number[] },
    ];
    for (const s of servers) {
      const files: Record<string, string> = {};
      for (let i = 0; i < PACING_RUNS; i += 1) files[`p${i}/main.tf`] = module(`${s.name}-base-${i}`);
      await double.createRepo(s.repo, files);
    }
    for (let i = 0; i < PACING_RUNS; i += 1) {
      const idleSince = performance.now();
      for (const s of servers) {
        const pr = await double.openPull(s.repo, { branch: `pacing-${i}`, files: { [`p${i}/main.tf`]: module(`${s.name}-change-${i}`) } });
        if (s.name === 'paced') await sleep(PACER_IDLE_MS - (performance.now() - idleSince));
        double.setWebhookTarget(`${s.url}/events`);
        const t0 = performance.now();
        await double.sendComment(s.repo, pr.number, `tideline plan -d p${i}`);
        await double.waitFor('the plan reply', () => double.comments(s.repo, pr.number).find((c) => c.body.includes('Ran Plan')), 120_000);
        const t1 = performance.now();
        await double.waitFor('the final plan status', () => double.statuses(s.repo, pr.headSha).find((st) => st.context === 'tideline/plan' && st.state !== 'pending'), 30_000);
        s.toPlan.push(t1 - t0);
        s.toStatus.push(performance.now() - t1);
      }
    }
    double.setWebhookTarget(`${unpacedUrl}/events`);
    const [withPacing, without] = servers.map((s) => ({ commentToPlanMedianMs: Math.round(median(s.toPlan)), finalStatusAfterPlanCommentMedianMs: Math.round(median(s.toStatus)) }));
    return {
      resources: 1,
      runs: PACING_RUNS,
      pacing: WRITE_PACING,
      paced: withPacing,
      unpaced: without,
      pacedOverUnpaced: Number(((withPacing?.commentToPlanMedianMs ?? NaN) / (without?.commentToPlanMedianMs ?? NaN)).toFixed(2)),
    };
  } finally {
    await paced.close();
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'tideline-bench-'));
  const home = join(dir, 'home');
  mkdirSync(home, { recursive: true });
  const double = await startGitHubDouble({ webhookSecret: SECRET, rootDir: join(dir, 'github') });
  const childEnv = { PATH: process.env['PATH'] ?? '/usr/bin:/bin', HOME: home, TF_CLI_CONFIG_FILE: '/dev/null' };
  const serverEnv = {
    ...childEnv,
    TIDELINE_WEBHOOK_SECRET: SECRET,
    TIDELINE_GITHUB_TOKEN: double.token,
    TIDELINE_GITHUB_API_URL: double.url,
    TIDELINE_REPO_ALLOWLIST: 'acme/*',
    TIDELINE_DATA_DIR: join(dir, 'data'),
    TIDELINE_LOG_LEVEL: 'warn',
    TIDELINE_DRIFT_SCHEDULE: 'off',
  };
  const server = await startServerProcess(serverEnv);
  double.setWebhookTarget(`${server.url}/events`);
  let closed = false;

  try {
    const stateDir = join(dir, 'state');
    mkdirSync(stateDir, { recursive: true });
    // The fixed cost of a plan (checkout, GitHub round trips, bookkeeping) weighs less as the
    // terraform work grows: three module sizes show how the ratio falls.
    const sizes = SIZES;
    const files: Record<string, string> = {};
    for (const size of sizes) {
      for (let i = 0; i < PLAN_RUNS; i += 1) files[`s${size}/p${i}/main.tf`] = tfModule(join(stateDir, `s${size}-p${i}.tfstate`), 'base', size);
    }
    const { cloneUrl } = await double.createRepo(REPO, files);
    // The same modules in a repository whose config turns autoplan off, as many Atlantis users
    // do: GitHub's `opened` reaches the server, which checks the PR out and plans nothing, so
    // the comment's plan is the first, with init, in a tree that is there.
    const manualProjects = Object.keys(files).map((file) => `  - dir: ${file.slice(0, file.lastIndexOf('/'))}\n    autoplan:\n      enabled: false\n`);
    await double.createRepo(MANUAL_REPO, { ...files, 'tideline.yaml': `version: 3\nprojects:\n${manualProjects.join('')}` });
    // What no server can skip: bringing the PR head's files to disk. Timed here as the server does
    // it (fetch into a repository that already holds the history, then a worktree), so the
    // output shows how much of the overhead is that and what ratio it alone would give.
    const gitEnv = { ...childEnv, GIT_CONFIG_NOSYSTEM: '1' };
    const floorCache = join(dir, 'floor.git');
    execFileSync('git', ['init', '-q', '--bare', floorCache], { env: gitEnv });
    execFileSync('git', ['-C', floorCache, 'fetch', '-q', '--no-tags', cloneUrl, '+refs/heads/*:refs/heads/*'], { env: gitEnv });

    const tfEnv = { ...childEnv, TF_IN_AUTOMATION: '1' };

    // 1. Comment → plan comment, against raw init + plan of the same directory, per module size.
    const commentToPlan: Record<string, unknown>[] = [];
    for (const size of sizes) {
      const viaServer: number[] = [];
      const raw: number[] = [];
      const checkout: number[] = [];
      const replan: number[] = [];
      const rawReplan: number[] = [];
      const afterAutoplan: number[] = [];
      const rawAfterAutoplan: number[] = [];
      const autoplanOff: number[] = [];
      const rawAutoplanOff: number[] = [];
      const gitBefore = await gitTimings(server.url);
      for (let i = 0; i < PLAN_RUNS; i += 1) {
        const projectDir = `s${size}/p${i}`;
        const content = tfModule(join(stateDir, `s${size}-p${i}.tfstate`), `change-${i}`, size);
        const pr = await double.openPull(REPO, { branch: `b${size}-${i}`, files: { [`${projectDir}/main.tf`]: content } });
        const t0 = performance.now();
        await double.sendComment(REPO, pr.number, `tideline plan -d ${projectDir}`);
        await double.waitFor('the plan reply', () => double.comments(REPO, pr.number).find((c) => c.body.includes('Ran Plan')), 120_000);
        viaServer.push(performance.now() - t0);
        // Let the server finish its trailing work (the final status) before terraform runs here.
        const head = pr.headSha;
        await double.waitFor('the final plan status', () => double.statuses(REPO, head).find((st) => st.context === 'tideline/plan' && st.state !== 'pending'), 30_000);

        const rawDir = join(dir, 'raw', String(size), String(i));
        raw.push(timedRawInitPlan(rawDir, content, tfEnv));

        const t2 = performance.now();
        execFileSync('git', ['-C', floorCache, 'fetch', '-q', '--no-tags', '--no-auto-maintenance', '--no-write-fetch-head', cloneUrl, `+refs/pull/${pr.number}/head:refs/floor/${pr.number}`], { env: gitEnv, stdio: 'ignore' });
        execFileSync('git', ['-C', floorCache, 'worktree', 'add', '-q', '--detach', join(dir, 'floor', String(pr.number)), pr.headSha], { env: gitEnv, stdio: 'ignore' });
        checkout.push(performance.now() - t2);

        // A later plan after a push: the server fetches into the tree it has and terraform runs
        // where .terraform already is; the raw side re-runs init + plan in its own dir likewise.
        const again = tfModule(join(stateDir, `s${size}-p${i}.tfstate`), `again-${i}`, size);
        const newHead = await double.pushToPull(REPO, pr.number, { [`${projectDir}/main.tf`]: again });
        const t3 = performance.now();
        await double.sendComment(REPO, pr.number, `tideline plan -d ${projectDir}`);
        await double.waitFor('the second plan reply', () => double.comments(REPO, pr.number).filter((c) => c.body.includes('Ran Plan')).length >= 2 || undefined, 120_000);
        replan.push(performance.now() - t3);
        await double.waitFor('the second final plan status', () => double.statuses(REPO, newHead).find((st) => st.context === 'tideline/plan' && st.state !== 'pending'), 30_000);
        rawReplan.push(timedRawInitPlan(rawDir, again, tfEnv));

        // The everyday case: GitHub delivered the push, autoplan planned it, and someone asks
        // for a plan again. The tree is at the head already; the raw side re-runs likewise.
        const third = tfModule(join(stateDir, `s${size}-p${i}.tfstate`), `third-${i}`, size);
        const thirdHead = await double.pushToPull(REPO, pr.number, { [`${projectDir}/main.tf`]: third });
        await double.sendPullRequestEvent(REPO, pr.number, 'synchronize');
        const finalStatuses = (): number => double.statuses(REPO, thirdHead).filter((st) => st.context === 'tideline/plan' && st.state !== 'pending').length;
        await double.waitFor('the autoplan status', () => finalStatuses() >= 1 || undefined, 120_000);
        const t5 = performance.now();
        await double.sendComment(REPO, pr.number, `tideline plan -d ${projectDir}`);
        await double.waitFor('the plan reply after autoplan', () => double.comments(REPO, pr.number).filter((c) => c.body.includes('Ran Plan')).length >= 4 || undefined, 120_000);
        afterAutoplan.push(performance.now() - t5);
        await double.waitFor('the final status after autoplan', () => finalStatuses() >= 2 || undefined, 30_000);
        writeFileSync(join(rawDir, 'main.tf'), third);
        rawInitPlan(rawDir, tfEnv); // as autoplan did
        const t6 = performance.now();
        rawInitPlan(rawDir, tfEnv);
        rawAfterAutoplan.push(performance.now() - t6);

        // The first plan of a PR whose `opened` reached the server, in a repository with autoplan
        // off; the raw side runs init + plan in a directory that has never been initialized.
        const manual = tfModule(join(stateDir, `s${size}-p${i}.tfstate`), `manual-${i}`, size);
        const manualPr = await double.openPull(MANUAL_REPO, { branch: `m${size}-${i}`, files: { [`${projectDir}/main.tf`]: manual } });
        await double.sendPullRequestEvent(MANUAL_REPO, manualPr.number, 'opened');
        const manualStatuses = (): number => double.statuses(MANUAL_REPO, manualPr.headSha).filter((st) => st.context === 'tideline/plan' && st.state !== 'pending').length;
        await double.waitFor('the status of the opened PR that plans nothing', () => manualStatuses() >= 1 || undefined, 120_000);
        const t7 = performance.now();
        await double.sendComment(MANUAL_REPO, manualPr.number, `tideline plan -d ${projectDir}`);
        await double.waitFor('the first plan reply with autoplan off', () => double.comments(MANUAL_REPO, manualPr.number).find((c) => c.body.includes('Ran Plan')), 120_000);
        autoplanOff.push(performance.now() - t7);
        await double.waitFor('the final status with autoplan off', () => manualStatuses() >= 2 || undefined, 30_000);
        rawAutoplanOff.push(timedRawInitPlan(join(dir, 'raw-manual', String(size), String(i)), manual, tfEnv));
      }
      const insideServerGitMeanMs = meanMsBetween(gitBefore, await gitTimings(server.url));
      commentToPlan.push({
        resources: size,
        runs: PLAN_RUNS,
        // The PR the server has never seen, the headline figure.
        ...versusRaw(viaServer, raw),
        gitFetchCheckoutMedianMs: Math.round(median(checkout)),
        insideServerGitMeanMs,
        ratioOfCheckoutAlone: Number(((median(raw) + median(checkout)) / median(raw)).toFixed(3)),
        target: RATIO_TARGET,
        afterPush: versusRaw(replan, rawReplan),
        openedWithAutoplanOff: versusRaw(autoplanOff, rawAutoplanOff),
        afterAutoplan: versusRaw(afterAutoplan, rawAfterAutoplan),
      });
    }

    // 2. The same comment → plan with GitHub writes paced as main.ts paces them (plugin-throttling
    // with the forge's WRITE_PACING buckets), against the unpaced server in the same rounds. Each
    // run starts after the pacers have been idle long enough to hold full buckets.
    const shippedWritePacing = await measureWritePacing(double, server.url, { ...serverEnv, BENCH_GITHUB_PACING: '1', TIDELINE_DATA_DIR: join(dir, 'data-paced') }, stateDir);

    // 3. Webhook intake, a first round and a steady one (intake-rounds.ts).
    const pr = await double.openPull(REPO, { branch: 'intake', files: { 'notes.md': 'x\n' } });
    const body = JSON.stringify(double.commentPayload(REPO, pr.number, 'looks good to me'));
    const webhookIntake = await measureIntake(`${server.url}/events`, SECRET, body, join(dir, 'intake-body.json'), DELIVERIES, CONCURRENCY);

    await server.close();
    closed = true;
    // Each of these runs in a process of its own, so its memory figures are its own.
    const auditExport = runSeparately('audit-export.ts');
    const projectSelection = runSeparately('project-selection.ts');
    const driftSweep = runSeparately('drift-sweep.ts');
    process.stdout.write(
      `${JSON.stringify(
        {
          machine: { cores: availableParallelism(), node: process.version },
          commentToPlan,
          shippedWritePacing,
          projectSelection,
          driftSweep,
          auditExport,
          webhookIntake,
        },
        null,
        2,
      )}\n`,
    );
  } finally {
    if (!closed) await server.close();
    await double.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`bench failed: ${err instanceof Error ? err.stack ?? err.message : String(err)}\n`);
    process.exit(1);
  },
);
