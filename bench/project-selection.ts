// Time to choose the projects to plan: a generated 1,000-project monorepo on disk (each project a
// main.tf, variables.tf and outputs.tf; most call shared modules, some of which call base
// modules), a 50-file change, selectProjects with the repo config and without it
// (autodiscovery). Prints JSON; `npm run bench` can call benchProjectSelection(), and
// `tsx bench/project-selection.ts` runs it alone.

import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { hclModuleSources } from '../server/projects/module-sources.js';
import { allProjects, readRepoConfig, selectProjects } from '../server/projects/index.js';
import type { RepoConfig } from '../server/projects/index.js';

const PROJECTS = 1000;
const TEAMS = 20;
const BASE_MODULES = 10;
const SHARED_MODULES = 20;
const CHANGED_FILES = 50;
const WARM_RUNS = 9;
const TARGET_MS = 100;

/** A small deterministic PRNG (mulberry32), so every run builds the same repository. */
function random(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function projectDir(index: number): string {
  return `teams/t${String(index % TEAMS).padStart(2, '0')}/svc-${String(index).padStart(4, '0')}`;
}

function mainTf(index: number, modules: readonly string[]): string {
  const calls = modules.map((module) => `module "${module.replace(/\W/g, '_')}" {\n  source = "../../../modules/${module}"\n  name   = local.name\n  tags   = local.tags\n}\n`);
  return `terraform {
  required_version = ">= 1.5"
  backend "local" { path = "state/svc-${index}.tfstate" }
}

locals {
  name = "svc-${index}"
  tags = { team = "t${index % TEAMS}", service = local.name, source = "generated" }
}

resource "terraform_data" "config" {
  input = {
    name     = local.name
    replicas = var.replicas
    template = "\${local.name}-{ not a block }"
  }
}

resource "terraform_data" "alarm" {
  count = var.alarms ? 1 : 0
  input = <<-EOT
    module "not_real" { source = "./heredoc" }
  EOT
}

${calls.join('\n')}`;
}

function moduleTf(name: string, base: string | null): string {
  const call = base === null ? '' : `module "base" {\n  source = "../${base}"\n  name   = var.name\n}\n`;
  return `variable "name" { type = string }\nvariable "tags" {\n  type    = map(string)\n  default = {}\n}\n\nresource "terraform_data" "${name.replace(/\W/g, '_')}" {\n  input = var.name\n}\n${call}`;
}

export interface Fixture {
  root: string;
  changed: string[];
  moduleUsers: number;
}

function write(root: string, path: string, text: string): void {
  mkdirSync(dirname(join(root, path)), { recursive: true });
  writeFileSync(join(root, path), text);
}

export function generateMonorepo(root: string): Fixture {
  const next = random(42);
  const bases = Array.from({ length: BASE_MODULES }, (_, i) => `base-${i}`);
  const shared = Array.from({ length: SHARED_MODULES }, (_, i) => `shared-${i}`);
  for (const base of bases) write(root, `modules/${base}/main.tf`, moduleTf(base, null));
  for (const [i, module] of shared.entries()) write(root, `modules/${module}/main.tf`, moduleTf(module, bases[i % BASE_MODULES] ?? null));
  let moduleUsers = 0;
  const config = ['version: 3', 'parallel_plan: true', 'projects:'];
  for (let index = 0; index < PROJECTS; index += 1) {
    const dir = projectDir(index);
    const uses = next() < 0.7 ? [shared[Math.floor(next() * SHARED_MODULES)] ?? 'shared-0', ...(next() < 0.3 ? [shared[Math.floor(next() * SHARED_MODULES)] ?? 'shared-1'] : [])] : [];
    if (uses.length > 0) moduleUsers += 1;
    write(root, `${dir}/main.tf`, mainTf(index, [...new Set(uses)]));
    write(root, `${dir}/variables.tf`, 'variable "replicas" { default = 2 }\nvariable "alarms" { default = false }\n');
    write(root, `${dir}/outputs.tf`, 'output "name" { value = local.name }\n');
    config.push(`  - name: svc-${index}`, `    dir: ${dir}`);
    if (index % 10 === 0) config.push('    autoplan:', '      when_modified: ["*.tf", "vars/*.tfvars", "../../../modules/shared-0/**/*.tf"]');
    if (index % 25 === 0) config.push(`    execution_order_group: ${index % 3}`);
  }
  write(root, 'tideline.yaml', `${config.join('\n')}\n`);
  write(root, 'README.md', '# generated monorepo\n');
  // 50 changed files: project files across many projects, two shared modules and one base module
  // (reaching their users directly and transitively), docs and tfvars that match nothing or little.
  const changed = new Set<string>(['modules/shared-3/main.tf', 'modules/shared-11/main.tf', 'modules/base-7/main.tf', 'README.md', 'docs/runbook.md']);
  while (changed.size < CHANGED_FILES) {
    const index = Math.floor(next() * PROJECTS);
    const file = next() < 0.15 ? 'vars/prod.tfvars' : next() < 0.7 ? 'main.tf' : 'variables.tf';
    changed.add(`${projectDir(index)}/${file}`);
  }
  return { root, changed: [...changed], moduleUsers };
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
}

function round(ms: number): number {
  return Number(ms.toFixed(2));
}

function timed(fn: () => unknown): number {
  const start = performance.now();
  fn();
  return performance.now() - start;
}

function measure(run: () => number): { coldMs: number; warmMedianMs: number; warmMaxMs: number; selected: number } {
  let selected = 0;
  const coldMs = timed(() => (selected = run()));
  const warm = Array.from({ length: WARM_RUNS }, () => timed(run));
  return { coldMs: round(coldMs), warmMedianMs: round(median(warm)), warmMaxMs: round(Math.max(...warm)), selected };
}

export async function benchProjectSelection(): Promise<object> {
  const root = mkdtempSync(join(tmpdir(), 'tideline-bench-select-'));
  try {
    const generateStart = performance.now();
    const fixture = generateMonorepo(root);
    const generateMs = performance.now() - generateStart;

    let config: RepoConfig | null = null;
    const readConfigMs = timed(() => {
      const read = readRepoConfig(root);
      if (!read.ok || read.config === null) throw new Error(`generated config is invalid: ${JSON.stringify(read)}`);
      config = read.config;
    });
    const declared = config as RepoConfig | null;
    const withConfig = measure(() => selectProjects({ checkoutRoot: root, changedFiles: fixture.changed, config: declared }).projects.length);
    const autodiscovery = measure(() => selectProjects({ checkoutRoot: root, changedFiles: fixture.changed, config: null }).projects.length);
    const listAll = measure(() => allProjects(root, null).length);
    const dirsOf = (declaredConfig: RepoConfig | null): string => selectProjects({ checkoutRoot: root, changedFiles: fixture.changed, config: declaredConfig }).projects.map((p) => p.dir).join();
    const sameSelectionBothWays = dirsOf(declared) === dirsOf(null);

    // Why the scanner, not hcl2-parser, reads module sources: parse a sample of project files.
    const sample = Array.from({ length: 20 }, (_, i) => readFileSync(join(root, projectDir(i * 37), 'main.tf'), 'utf8'));
    hclModuleSources(sample[0] ?? ''); // load it first: 3.8 MB of GopherJS
    const hclMs = timed(() => sample.forEach((text) => hclModuleSources(text))) / sample.length;
    const bytes = sample.reduce((sum, text) => sum + text.length, 0) / sample.length;

    const warmWorst = Math.max(withConfig.warmMedianMs, autodiscovery.warmMedianMs);
    return {
      // cold = the first call in this process (V8 not yet warmed; the page cache is, as the files were just written)
      projectSelection: {
        repository: { projects: PROJECTS, terraformFiles: PROJECTS * 3 + BASE_MODULES + SHARED_MODULES, sharedModules: SHARED_MODULES, baseModules: BASE_MODULES, projectsCallingModules: fixture.moduleUsers, generateMs: Math.round(generateMs) },
        changedFiles: fixture.changed.length,
        readRepoConfigMs: round(readConfigMs),
        withRepoConfig: withConfig,
        autodiscovery,
        sameSelectionBothWays,
        allProjectsAutodiscovery: listAll,
        hcl2ParserPerFileMs: { meanMs: round(hclMs), meanBytes: Math.round(bytes), projectedFor1000FilesMs: Math.round(hclMs * 1000) },
        warmRuns: WARM_RUNS,
        target: { ms: TARGET_MS, measure: 'warm median of selectProjects, with the repo config and by autodiscovery' },
        meetsTarget: warmWorst < TARGET_MS,
        coldMeetsTarget: withConfig.coldMs < TARGET_MS,
      },
    };
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  benchProjectSelection().then(
    (figures) => process.stdout.write(`${JSON.stringify(figures, null, 2)}\n`),
    (err: unknown) => {
      process.stderr.write(`bench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
      process.exitCode = 1;
    },
  );
}
