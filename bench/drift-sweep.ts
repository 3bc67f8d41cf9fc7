// Drift sweep benchmark: a repository of 50 Terraform projects on the built-in provider (each
// applied first, so the sweeps find them clean), swept with parallelism 1 and 2 in one run.
// A warm-up sweep first makes the working trees and `.terraform` dirs, as every sweep after the
// first finds them; then the two parallelisms alternate for a few rounds, because these machines
// are shared and noisy. The speed-up (target ≥ 1.7×) is reported from the fastest round of each
// (other load only ever adds time, so the minimum is the machine's own figure, as Python's timeit
// advises) and from the medians; `loadAverage` shows how busy the machine was. Also reported: the
// peak RSS of this process during the measured sweeps (target < 300 MB; terraform children are
// their own processes and not counted). The repository is a real bare git repository; GitHub is a
// stub that records commit statuses (all projects are clean, so no other call is made), so the
// RSS is the sweep's own and not the GitHub double's OpenAPI document.
// Beside them, in the same rounds, the same plans by terraform alone (no server), one and two at a
// time: the speed-up two cores give bare terraform, which no sweep can beat.
// `npm run bench` calls benchDriftSweep(); `tsx bench/drift-sweep.ts` runs it alone.

import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { promisify } from 'node:util';
import { pino } from 'pino';
import { KubernetesRunner } from '../runners/kubernetes.js';
import { SecretMasker } from '../runners/secrets.js';
import { TerraformRunner } from '../runners/terraform.js';
import { identityFor, initBareRepo, updateRef, writeCommit } from '../sandbox/github/git-store.js';
import { AuditLog } from '../server/audit/index.js';
import { runDriftSweep, type DriftDeps, type SweepSummary } from '../server/drift/index.js';
import { ForgeError, type CommitStatus, type Forge } from '../server/github/forge.js';
import type { JobContext } from '../server/jobs/context.js';
import { LiveOutput } from '../server/jobs/live-output.js';
import { Metrics } from '../server/metrics/index.js';
import { mapLimit } from '../server/jobs/run-project.js';
import { openDb } from '../server/store/db.js';
import { rememberRepo, type KnownRepo } from '../server/store/repos.js';
import { CacheLocks } from '../server/workspace/cache-lock.js';

const PROJECTS = Number(process.env['BENCH_DRIFT_PROJECTS'] ?? 50);
const ROUNDS = Number(process.env['BENCH_DRIFT_ROUNDS'] ?? 5);
const SPEEDUP_TARGET = 1.7;
const RSS_TARGET_MB = 300;
const MB = 1024 * 1024;
const run = promisify(execFile);

function tfModule(stateFile: string, index: number): string {
  return [
    'terraform {',
    `  backend "local" { path = ${JSON.stringify(stateFile)} }`,
    '}',
    `variable "v" { default = "p${index}" }`,
    'resource "terraform_data" "x" {',
    '  count = 3',
    '  input = "${var.v}-${count.index}"',
    '}',
    'output "v" { value = terraform_data.x[0].output }',
    '',
  ].join('\n');
}

/** GitHub as the sweep of a clean repository sees it: a clone token and commit statuses. */
function statusOnlyForge(statuses: CommitStatus[]): Forge {
  const unexpected = async (): Promise<never> => {
    throw new ForgeError('the drift benchmark expected no other GitHub call', null);
  };
  return {
    getPull: unexpected,
    mergePull: unexpected,
    listPullFiles: unexpected,
    listReviews: unexpected,
    createComment: unexpected,
    setStatus: async (_repo, _sha, status) => {
      statuses.push(status);
    },
    latestStatus: unexpected,
    getPermission: unexpected,
    whoami: async () => 'tideline-bench',
    cloneToken: async () => null,
    createIssue: unexpected,
    updateIssue: unexpected,
    listIssues: unexpected,
    ensureLabel: unexpected,
  };
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor((sorted.length - 1) / 2)] ?? Number.NaN;
}

export async function benchDriftSweep(): Promise<object> {
  const dir = mkdtempSync(join(tmpdir(), 'tideline-bench-drift-'));
  const home = join(dir, 'home');
  mkdirSync(home, { recursive: true });
  const childEnv = { PATH: process.env['PATH'] ?? '/usr/bin:/bin', HOME: home, TF_CLI_CONFIG_FILE: '/dev/null' };
  const db = openDb({ dataDir: join(dir, 'data') });
  try {
    // The repository, and its projects applied from outside so that every sweep finds them clean.
    const stateDir = join(dir, 'state');
    const files: Record<string, string> = { 'README.md': '# bench\n' };
    for (let i = 0; i < PROJECTS; i += 1) files[`stacks/p${String(i).padStart(2, '0')}/main.tf`] = tfModule(join(stateDir, `p${i}.tfstate`), i);
    const gitDir = join(dir, 'github', 'acme', 'bench.git');
    mkdirSync(join(dir, 'github', 'acme'), { recursive: true });
    await initBareRepo(gitDir, 'main');
    await updateRef(gitDir, 'refs/heads/main', await writeCommit(gitDir, { parents: [], files, message: 'Initial commit', author: identityFor('acme') }));
    const repo: KnownRepo = { fullName: 'acme/bench', owner: 'acme', name: 'bench', cloneUrl: `file://${gitDir}`, defaultBranch: 'main' };
    rememberRepo(db, repo);
    const applyEnv = { ...childEnv, TF_IN_AUTOMATION: '1' };
    const outsideFiles = Object.entries(files).filter(([path]) => path.endsWith('.tf')).map(([path, text]) => ({ project: join(dir, 'outside', path.replace(/\/main\.tf$/, '')), text }));
    const outside = outsideFiles.map((f) => f.project);
    await mapLimit(outsideFiles, availableParallelism(), async ({ project, text }) => {
      mkdirSync(project, { recursive: true });
      writeFileSync(join(project, 'main.tf'), text);
      await run('terraform', ['init', '-input=false', '-no-color'], { cwd: project, env: applyEnv });
      await run('terraform', ['apply', '-auto-approve', '-input=false', '-no-color'], { cwd: project, env: applyEnv });
    });

    const masker = new SecretMasker();
    const log = pino({ level: process.env['BENCH_LOG'] ?? 'silent' });
    const exec = { baseEnv: childEnv, masker };
    const statuses: CommitStatus[] = [];
    const ctx: JobContext = {
      db,
      audit: new AuditLog({ db, configDigest: 'bench', masker }),
      forge: statusOnlyForge(statuses),
      log,
      masker,
      exec,
      git: { root: join(dir, 'data', 'repos'), baseEnv: childEnv, masker, githubHost: 'github.com', locks: new CacheLocks() },
      terraform: new TerraformRunner({ bin: 'terraform', exec }),
      kubernetes: new KubernetesRunner({ bin: 'kubectl', exec, cacheRoot: join(dir, 'data', 'kubectl') }),
      kubectlBin: 'kubectl',
      kube: { allowForceConflicts: false, clusters: {} },
      render: { prefix: 'tideline' },
      plansDir: join(dir, 'data', 'plans'),
      repoRules: { rules: [], workflows: {}, warnings: [] },
      metrics: new Metrics({ db, version: 'bench', defaultMetrics: false }),
      live: new LiveOutput(),
      parallelism: 1,
      notify: () => undefined,
    };
    const alerts = { issues: true, prComment: true, webhook: false, commitStatus: true };
    const sweep = async (parallelism: number): Promise<number> => {
      const deps: DriftDeps = { ctx: { ...ctx, parallelism }, alerts, webhook: null };
      const started = performance.now();
      const result: SweepSummary = await runDriftSweep(deps, repo, { trigger: 'api' });
      const ms = performance.now() - started;
      if (result.counts.clean !== PROJECTS) throw new Error(`expected ${PROJECTS} clean projects, got ${JSON.stringify(result.counts)}`);
      return ms;
    };

    // The same plans without the server: terraform alone in the initialised dirs it applied
    // from, one or two at a time. What two cores give two terraform processes is the ceiling of
    // any sweep's speed-up here (a lone plan keeps more than one core busy: Go's GC workers).
    const terraformAlone = async (parallelism: number): Promise<number> => {
      const started = performance.now();
      await mapLimit(outside, parallelism, async (project) => {
        await run('terraform', ['plan', '-input=false', '-no-color', '-detailed-exitcode', '-lock-timeout=0s', '-out=bench.tfplan'], { cwd: project, env: applyEnv });
      });
      return performance.now() - started;
    };

    await sweep(2); // warm-up: working trees and .terraform dirs, as every later sweep finds them
    (globalThis as { gc?: () => void }).gc?.();
    const loadBefore = loadavg()[0] ?? 0;
    let peak = process.memoryUsage.rss();
    const sampler = setInterval(() => {
      peak = Math.max(peak, process.memoryUsage.rss());
    }, 20);
    const serial: number[] = [];
    const parallel: number[] = [];
    const aloneSerial: number[] = [];
    const aloneParallel: number[] = [];
    try {
      for (let round = 0; round < ROUNDS; round += 1) {
        serial.push(await sweep(1));
        parallel.push(await sweep(2));
        aloneSerial.push(await terraformAlone(1));
        aloneParallel.push(await terraformAlone(2));
      }
    } finally {
      clearInterval(sampler);
    }
    const aloneSpeedup = Math.min(...aloneSerial) / Math.min(...aloneParallel);
    if (statuses.some((s) => s.context !== 'tideline/drift' || s.state !== 'success')) throw new Error(`unexpected statuses: ${JSON.stringify(statuses)}`);
    const speedup = Math.min(...serial) / Math.min(...parallel);
    const medianSpeedup = median(serial) / median(parallel);
    const peakRssMB = Math.round((peak / MB) * 10) / 10;
    return {
      projects: PROJECTS,
      rounds: ROUNDS,
      cores: availableParallelism(),
      loadAverage: { before: Number(loadBefore.toFixed(2)), after: Number((loadavg()[0] ?? 0).toFixed(2)) },
      parallelism1Ms: serial.map(Math.round),
      parallelism2Ms: parallel.map(Math.round),
      perProjectMs: Math.round(Math.min(...serial) / PROJECTS),
      speedup: Number(speedup.toFixed(2)),
      medianSpeedup: Number(medianSpeedup.toFixed(2)),
      speedupTarget: SPEEDUP_TARGET,
      terraformAlone: {
        parallelism1Ms: aloneSerial.map(Math.round),
        parallelism2Ms: aloneParallel.map(Math.round),
        speedup: Number(aloneSpeedup.toFixed(2)),
        medianSpeedup: Number((median(aloneSerial) / median(aloneParallel)).toFixed(2)),
      },
      speedupOfTerraformAlone: Number((speedup / aloneSpeedup).toFixed(3)),
      peakRssMB,
      rssTargetMB: RSS_TARGET_MB,
      meetsTarget: speedup >= SPEEDUP_TARGET && peakRssMB < RSS_TARGET_MB,
    };
  } finally {
    db.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

process.stdout.write(`${JSON.stringify(await benchDriftSweep(), null, 2)}\n`);
