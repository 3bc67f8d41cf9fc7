// Runs the real terraform on PATH with only its built-in provider: offline, local state,
// everything in temp dirs.
import { spawn, type ChildProcess } from 'node:child_process';
import { chmod, mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SecretMasker } from '../../runners/secrets.js';
import { INIT_MARKER, parsePlanSummary, TerraformRunner } from '../../runners/terraform.js';
import type { TerraformTimeouts } from '../../runners/terraform.js';
import type { PlanOutcome, RunContext } from '../../runners/types.js';

const CONFIG = `
variable "v" {
  type    = string
  default = "hello"
}

resource "terraform_data" "x" {
  input = var.v
}

output "echo" {
  value = var.v
}
`;

let tmp = '';
let projectDir = '';
let masker: SecretMasker;

beforeEach(async () => {
  tmp = await mkdtemp(path.join(tmpdir(), 'tideline-tf-'));
  projectDir = path.join(tmp, 'project');
  await writeFileIn(projectDir, 'main.tf', CONFIG);
  masker = new SecretMasker();
});

afterEach(async () => {
  await rm(tmp, { recursive: true, force: true });
});

async function writeFileIn(dir: string, name: string, text: string): Promise<void> {
  await mkdir(dir, { recursive: true });
  await writeFile(path.join(dir, name), text);
}

function runner(bin = 'terraform', timeouts?: TerraformTimeouts): TerraformRunner {
  const baseEnv = {
    PATH: process.env.PATH ?? '',
    HOME: tmp,
    TF_CLI_CONFIG_FILE: '/dev/null',
    // Runner-owned: must be dropped before terraform sees them.
    TF_DATA_DIR: path.join(tmp, 'elsewhere'),
    TF_WORKSPACE: 'hijacked',
  };
  return new TerraformRunner({
    bin,
    exec: { baseEnv, masker },
    ...(timeouts === undefined ? {} : { timeouts }),
  });
}

function run(extra: Partial<RunContext> = {}): RunContext {
  return { projectDir, workspace: 'default', extraArgs: [], ...extra };
}

async function exists(file: string): Promise<boolean> {
  return stat(file).then(
    () => true,
    () => false,
  );
}

async function stateResources(file: string): Promise<{ type: string; name: string }[]> {
  const state = JSON.parse(await readFile(file, 'utf8')) as {
    resources: { type: string; name: string }[];
  };
  return state.resources.map(({ type, name }) => ({ type, name }));
}

describe('TerraformRunner with the real terraform', () => {
  it('plans changes into a plan file, applies it, then plans no changes', async () => {
    const tf = runner();
    expect(tf.kind).toBe('terraform');
    const planFile = path.join(tmp, 'plans', 'default.tfplan');

    const first = await tf.plan(run(), planFile);
    expect(first.output).toContain('terraform_data.x will be created');
    expect(first).toMatchObject({
      result: 'changes',
      summary: { add: 1, change: 0, destroy: 0 },
      planFile,
      exitCode: 2,
    });
    expect(await exists(planFile)).toBe(true);
    expect(await exists(path.join(tmp, 'elsewhere'))).toBe(false);

    const applied = await tf.apply(run(), planFile);
    expect(applied.output).toContain('Apply complete! Resources: 1 added');
    expect(applied).toMatchObject({ result: 'applied', exitCode: 0 });
    expect(await stateResources(path.join(projectDir, 'terraform.tfstate'))).toEqual([
      { type: 'terraform_data', name: 'x' },
    ]);

    const again = await tf.plan(run(), planFile);
    expect(again).toMatchObject({
      result: 'no-changes',
      summary: { add: 0, change: 0, destroy: 0 },
      exitCode: 0,
    });
    expect(again.output).toContain('No changes.');
  });

  it('keeps a non-default workspace in its own state', async () => {
    const tf = runner();
    const ctx = run({ workspace: 'staging' });
    const planFile = path.join(tmp, 'staging.tfplan');
    expect((await tf.plan(ctx, planFile)).result).toBe('changes');
    expect((await tf.apply(ctx, planFile)).result).toBe('applied');

    const stagingState = path.join(projectDir, 'terraform.tfstate.d', 'staging', 'terraform.tfstate');
    expect(await stateResources(stagingState)).toEqual([{ type: 'terraform_data', name: 'x' }]);
    expect(await exists(path.join(projectDir, 'terraform.tfstate'))).toBe(false);
    // The default workspace still has nothing.
    expect((await tf.plan(run(), path.join(tmp, 'default.tfplan'))).result).toBe('changes');
  });

  it('reports malformed HCL as an init error with terraform\'s message', async () => {
    await writeFileIn(projectDir, 'broken.tf', 'resource "terraform_data" "y" {\n');
    const planFile = path.join(tmp, 'broken.tfplan');
    await writeFile(planFile, 'an old plan that must not survive');

    const outcome = await runner().plan(run(), planFile);
    expect(outcome.result).toBe('error');
    expect(outcome.output).toMatch(/^terraform init failed with exit code 1:/);
    expect(outcome.output).toContain('Unclosed configuration block');
    expect(outcome.output).toContain('broken.tf line 1');
    expect(outcome.exitCode).toBe(1);
    expect(outcome.summary).toBeNull();
    expect(outcome.planFile).toBeUndefined();
    expect(await exists(planFile)).toBe(false);
  });

  it('reports a failing plan as a plan error', async () => {
    await writeFileIn(projectDir, 'main.tf', 'variable "needed" { type = string }\n');
    const outcome = await runner().plan(run(), path.join(tmp, 'p.tfplan'));
    expect(outcome.result).toBe('error');
    expect(outcome.output).toMatch(/^terraform plan failed with exit code 1:/);
    expect(outcome.output).toContain('No value for required variable');
  });

  it('never shows a secret passed as a TF var, in plan, apply or live output', async () => {
    const canary = 'canary-8f3Kq2LmZx';
    masker.add(canary);
    const chunks: string[] = [];
    const ctx = run({ env: { TF_VAR_v: canary }, onOutput: (chunk) => chunks.push(chunk) });
    const planFile = path.join(tmp, 'canary.tfplan');

    const plan = await runner().plan(ctx, planFile);
    expect(plan.result).toBe('changes');
    expect(plan.output).toContain('input  = "***"');
    expect(plan.output).toContain('echo = "***"');
    expect(plan.output).not.toContain(canary);

    const apply = await runner().apply(ctx, planFile);
    expect(apply.result).toBe('applied');
    expect(apply.output).toContain('echo = "***"');
    expect(apply.output).not.toContain(canary);
    expect(chunks.join('')).toContain('***');
    expect(chunks.join('')).not.toContain(canary);
    // The value did reach terraform: it is in the state.
    expect(await readFile(path.join(projectDir, 'terraform.tfstate'), 'utf8')).toContain(canary);
  });

  it('passes extra args as separate argv items, never through a shell', async () => {
    const value = 'a b; echo pwned $(id)';
    const outcome = await runner().plan(run({ extraArgs: ['-var', `v=${value}`] }), 'p.tfplan');
    expect(outcome.result).toBe('changes');
    expect(outcome.output).toContain(`input  = "${value}"`);
    expect(outcome.planFile).toBe(path.join(projectDir, 'p.tfplan'));
  });

  it.each([
    ['-out=/tmp/elsewhere.tfplan', '-out'],
    ['--out=/tmp/elsewhere.tfplan', '-out'],
    ['-out', '-out'],
    ['-chdir=/', '-chdir'],
    ['-state=/tmp/s', '-state'],
    ['-state-out=/tmp/s', '-state-out'],
    ['-backup=/tmp/b', '-backup'],
    ['-generate-config-out=/tmp/g.tf', '-generate-config-out'],
    // Would turn a plan with changes into exit code 0, read as "No changes".
    ['-detailed-exitcode=false', '-detailed-exitcode'],
  ])('refuses the extra arg %s before running terraform', async (arg, flag) => {
    const planFile = path.join(tmp, 'refused.tfplan');
    const ctx = run({ extraArgs: ['-refresh=false', arg] });
    const outcome = await runner().plan(ctx, planFile);
    expect(outcome.result).toBe('error');
    expect(outcome.output).toContain(`extra argument ${flag} is not allowed`);
    expect(await exists(planFile)).toBe(false);
    const apply = await runner().apply(ctx, planFile);
    expect(apply.result).toBe('error');
    expect(apply.output).toContain(`extra argument ${flag} is not allowed`);
  });

  it.each(['-chdir=/', '..', 'a/b', ''])('refuses the workspace name %j', async (workspace) => {
    const outcome = await runner().plan(run({ workspace }), path.join(tmp, 'p.tfplan'));
    expect(outcome.result).toBe('error');
    expect(outcome.output).toContain('invalid workspace name');
  });

  it('refuses to apply a plan file that does not exist', async () => {
    const outcome = await runner().apply(run(), path.join(tmp, 'missing.tfplan'));
    expect(outcome.result).toBe('error');
    expect(outcome.output).toContain('run plan first');
  });
});

describe('TerraformRunner in a directory it initialised before', () => {
  /** Plans with live output captured; `inits` counts the init runs terraform printed. */
  async function planLive(tf: TerraformRunner): Promise<{ outcome: PlanOutcome; live: string; inits: number }> {
    let live = '';
    const outcome = await tf.plan(run({ onOutput: (chunk) => (live += chunk) }), path.join(tmp, 'p.tfplan'));
    return { outcome, live, inits: live.split('Terraform has been successfully initialized!').length - 1 };
  }

  it('plans without init again, with the same result', async () => {
    const tf = runner();
    const first = await planLive(tf);
    expect(first.inits).toBe(1);
    expect(await exists(path.join(projectDir, '.terraform', INIT_MARKER))).toBe(true);
    const again = await planLive(tf);
    expect(again.inits).toBe(0);
    expect(again.outcome).toMatchObject({ result: 'changes', summary: { add: 1, change: 0, destroy: 0 }, exitCode: 2 });
    expect(again.outcome.output).toContain('terraform_data.x will be created');
  });

  it('runs init and plans again when terraform says the change needs it: backend, module, provider', async () => {
    const tf = runner();
    const backend = (file: string): string => `terraform {\n  backend "local" { path = ${JSON.stringify(path.join(tmp, file))} }\n}\n`;
    await writeFileIn(projectDir, 'backend.tf', backend('a.tfstate'));
    expect((await planLive(tf)).inits).toBe(1);

    // The PR moves the state: plan refuses until init has run, and init without a human
    // refuses to migrate state, as it would in a fresh checkout of an initialised repo.
    await writeFileIn(projectDir, 'backend.tf', backend('b.tfstate'));
    const moved = await planLive(tf);
    expect(moved.live).toContain('Backend initialization required');
    expect(moved.live).toContain('tideline: terraform needs init again in this directory');
    expect(moved.outcome.result).toBe('error');
    expect(moved.outcome.output).toMatch(/^terraform init failed with exit code 1:/);
    expect(moved.outcome.output).toContain('Backend configuration changed');
    await writeFileIn(projectDir, 'backend.tf', backend('a.tfstate'));
    expect((await planLive(tf)).inits).toBe(1); // the failed init took the mark away

    // A new local module must be installed first.
    await writeFileIn(path.join(projectDir, 'mod'), 'main.tf', 'resource "terraform_data" "m" {}\n');
    await writeFileIn(projectDir, 'module.tf', 'module "m" {\n  source = "./mod"\n}\n');
    const added = await planLive(tf);
    expect(added.live).toContain('Module not installed');
    expect(added.outcome).toMatchObject({ result: 'changes', summary: { add: 2, change: 0, destroy: 0 } });

    // A provider the lock file does not hold (no download: init fails, and says why).
    await writeFileIn(projectDir, 'providers.tf', 'terraform {\n  required_providers {\n    nothing = { source = "example.invalid/acme/nothing" }\n  }\n}\n');
    const provider = await planLive(tf);
    expect(provider.live).toContain('Inconsistent dependency lock file');
    expect(provider.outcome.result).toBe('error');
    expect(provider.outcome.output).toMatch(/^terraform init failed with exit code 1:/);
    expect(await exists(path.join(projectDir, '.terraform', INIT_MARKER))).toBe(false);
  }, 30_000);

  it('reports a plan error in a warm directory once, without running init for it', async () => {
    const tf = runner();
    await planLive(tf);
    await writeFileIn(projectDir, 'broken.tf', 'resource "terraform_data" "y" {\n');
    const broken = await planLive(tf);
    expect(broken.inits).toBe(0);
    expect(broken.live).not.toContain('tideline: terraform needs init');
    expect(broken.outcome.result).toBe('error');
    expect(broken.outcome.output).toMatch(/^terraform plan failed with exit code 1:/);
    expect(broken.outcome.output).toContain('Unclosed configuration block');
  });
});

describe('TerraformRunner with a stand-in binary', () => {
  async function fakeTerraform(body: string): Promise<string> {
    const bin = path.join(tmp, 'fake-terraform');
    await writeFile(bin, `#!/bin/sh\necho "ARGS $*" >> "${tmp}/calls.log"\n${body}\n`);
    await chmod(bin, 0o755);
    return bin;
  }

  it('runs init and plan with the fixed flags and env, skipping a no-op select of default', async () => {
    const bin = await fakeTerraform(`env | sort >> "${tmp}/env.log"`);
    const ctx = run({ env: { TF_VAR_v: 'x', TF_CLI_ARGS_plan: '-out=/tmp/x' } });
    const outcome = await runner(bin).plan(ctx, 'p.tfplan');
    expect(outcome.result).toBe('no-changes');
    const planPath = path.join(projectDir, 'p.tfplan');
    expect((await readFile(path.join(tmp, 'calls.log'), 'utf8')).trim().split('\n')).toEqual([
      'ARGS init -input=false -no-color',
      `ARGS plan -input=false -no-color -detailed-exitcode -out=${planPath}`,
    ]);
    const env = await readFile(path.join(tmp, 'env.log'), 'utf8');
    expect(env).toContain('TF_IN_AUTOMATION=1\n');
    expect(env).toContain('TF_INPUT=0\n');
    expect(env).toContain('TF_VAR_v=x\n');
    expect(env).not.toMatch(/^(TF_WORKSPACE|TF_DATA_DIR|TF_CLI_ARGS\w*)=/m);
  });

  it('skips init where its init succeeded, and runs it when terraform answers that it is needed', async () => {
    // The stand-in fails a plan with terraform's words while needs-init exists.
    const bin = await fakeTerraform(`case "$1" in plan) if [ -e "${tmp}/needs-init" ]; then echo 'Error: Module not installed. Run "terraform init".'; rm "${tmp}/needs-init"; exit 1; fi;; esac`);
    const tf = runner(bin);
    await tf.plan(run(), 'p.tfplan');
    await tf.plan(run(), 'p.tfplan');
    await writeFile(path.join(tmp, 'needs-init'), '');
    const outcome = await tf.plan(run(), 'p.tfplan');
    expect(outcome.result).toBe('no-changes');
    const planPath = path.join(projectDir, 'p.tfplan');
    const plan = `ARGS plan -input=false -no-color -detailed-exitcode -out=${planPath}`;
    const init = 'ARGS init -input=false -no-color';
    expect((await readFile(path.join(tmp, 'calls.log'), 'utf8')).trim().split('\n')).toEqual([init, plan, plan, plan, init, plan]);
  });

  it('selects default again when another workspace was selected in the dir', async () => {
    const bin = await fakeTerraform('');
    await mkdir(path.join(projectDir, '.terraform'), { recursive: true });
    await writeFile(path.join(projectDir, '.terraform', 'environment'), 'staging');
    await runner(bin).plan(run(), 'p.tfplan');
    const calls = (await readFile(path.join(tmp, 'calls.log'), 'utf8')).trim().split('\n');
    expect(calls).toContain('ARGS workspace select -or-create=true default');
  });

  it('reports a plan that times out as an error naming the step', async () => {
    const bin = await fakeTerraform('case "$1" in plan) sleep 30;; esac');
    const started = Date.now();
    const outcome = await runner(bin, { planMs: 300 }).plan(run(), 'p.tfplan');
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(outcome.result).toBe('error');
    expect(outcome.output).toContain('terraform plan timed out after 300 ms');
    expect(outcome.exitCode).toBe(-1);
  }, 15_000);

  it('reports a missing terraform binary without throwing', async () => {
    const outcome = await runner(path.join(tmp, 'no-terraform')).plan(run(), 'p.tfplan');
    expect(outcome.result).toBe('error');
    expect(outcome.output).toContain('not found (ENOENT)');
  });
});

describe('parsePlanSummary', () => {
  it.each([
    { name: 'one add', text: 'Plan: 1 to add, 0 to change, 0 to destroy.', want: { add: 1, change: 0, destroy: 0 } },
    { name: 'mixed', text: '\nPlan: 3 to add, 2 to change, 11 to destroy.\n', want: { add: 3, change: 2, destroy: 11 } },
    { name: 'imports', text: 'Plan: 2 to import, 1 to add, 0 to change, 0 to destroy.', want: { add: 1, change: 0, destroy: 0 } },
    { name: 'forget', text: 'Plan: 0 to add, 0 to change, 1 to destroy, 2 to forget.', want: { add: 0, change: 0, destroy: 1 } },
    { name: 'colour codes', text: '\u001b[1mPlan:\u001b[0m 4 to add, 0 to change, 0 to destroy.', want: { add: 4, change: 0, destroy: 0 } },
    { name: 'no changes', text: 'No changes. Your infrastructure matches the configuration.', want: { add: 0, change: 0, destroy: 0 } },
    { name: 'no changes, older wording', text: '\nNo changes. Infrastructure is up-to-date.\n', want: { add: 0, change: 0, destroy: 0 } },
    { name: 'last plan line wins', text: 'Plan: 1 to add, 0 to change, 0 to destroy.\nPlan: 0 to add, 5 to change, 0 to destroy.', want: { add: 0, change: 5, destroy: 0 } },
    { name: 'output-only changes', text: 'Changes to Outputs:\n  + echo = "x"\n', want: null },
    { name: 'an error', text: 'Error: Unclosed configuration block', want: null },
    { name: 'empty', text: '', want: null },
    { name: '"No changes." mid-sentence', text: 'There were No changes. reported', want: null },
  ])('$name', ({ text, want }) => {
    expect(parsePlanSummary(text)).toEqual(want);
  });
});

describe('the state lock', () => {
  /** Holds the project's state lock for `ms`, as a drift sweep's plan does while it runs. */
  async function holdStateLock(ms: number): Promise<ChildProcess> {
    const env = { PATH: process.env.PATH ?? '', HOME: tmp, TF_CLI_CONFIG_FILE: '/dev/null' };
    const console = spawn('sh', ['-c', `sleep ${ms / 1000} | terraform console`], { cwd: projectDir, env, stdio: 'ignore' });
    // The lock file of the local backend says when the lock is held.
    for (let i = 0; i < 100 && !(await exists(path.join(projectDir, '.terraform.tfstate.lock.info'))); i++) await new Promise((r) => setTimeout(r, 50));
    expect(await exists(path.join(projectDir, '.terraform.tfstate.lock.info'))).toBe(true);
    return console;
  }

  it('waits for a lock held by another plan when given a lock timeout, and fails at once without one', async () => {
    expect((await runner().plan(run(), 'first.tfplan')).result).toBe('changes');
    const waiting = new TerraformRunner({ bin: 'terraform', exec: { baseEnv: { PATH: process.env.PATH ?? '', HOME: tmp, TF_CLI_CONFIG_FILE: '/dev/null' }, masker }, lockTimeout: '60s' });
    const held = await holdStateLock(3_000);
    const [without, withTimeout] = await Promise.all([runner().plan(run(), 'no-wait.tfplan'), waiting.plan(run(), 'waited.tfplan')]);
    held.kill();
    expect(without.result).toBe('error');
    expect(without.output).toContain('Error acquiring the state lock');
    expect(withTimeout.result).toBe('changes');
  }, 60_000);
});
