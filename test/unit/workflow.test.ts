// Custom workflows with the real terraform on PATH and only its built-in provider: offline,
// local state, everything in temp dirs.
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ExecContext } from '../../runners/exec.js';
import { SecretMasker } from '../../runners/secrets.js';
import { TerraformRunner } from '../../runners/terraform.js';
import type { ApplyOutcome, PlanOutcome, RunContext, WorkflowStep } from '../../runners/types.js';
import { runApplyWorkflow, runPlanWorkflow } from '../../runners/workflow.js';
import type { StepVariables, WorkflowRun } from '../../runners/workflow.js';

const CONFIG = `
variable "v" {
  type    = string
  default = "hello"
}

resource "terraform_data" "x" {
  input = var.v
}
`;

let tmp = '';
let projectDir = '';
let planFile = '';
let masker: SecretMasker;
let chunks: string[] = [];

beforeEach(async () => {
  tmp = await mkdtemp(path.join(tmpdir(), 'tideline-wf-'));
  projectDir = path.join(tmp, 'project');
  planFile = path.join(tmp, 'plans', 'project.tfplan');
  await mkdir(projectDir, { recursive: true });
  await writeFile(path.join(projectDir, 'main.tf'), CONFIG);
  masker = new SecretMasker();
  chunks = [];
});

afterEach(async () => {
  await rm(tmp, { recursive: true, force: true });
});

function execCtx(): ExecContext {
  const baseEnv = {
    PATH: process.env.PATH ?? '',
    HOME: tmp,
    TF_CLI_CONFIG_FILE: '/dev/null',
    // Runner-owned: a run step's terraform must not see them any more than the runner's.
    TF_WORKSPACE: 'hijacked',
    TF_DATA_DIR: path.join(tmp, 'elsewhere'),
  };
  return { baseEnv, masker };
}

function terraform(): TerraformRunner {
  return new TerraformRunner({ bin: 'terraform', exec: execCtx() });
}

function variables(): StepVariables {
  return {
    WORKSPACE: 'default',
    DIR: projectDir,
    PLANFILE: planFile,
    SHOWFILE: path.join(tmp, 'plans', 'project.json'),
    BASE_REPO_NAME: 'infra',
    BASE_REPO_OWNER: 'acme',
    HEAD_REPO_NAME: 'infra',
    HEAD_REPO_OWNER: 'acme',
    HEAD_BRANCH_NAME: 'feature',
    HEAD_COMMIT: '0123456789abcdef0123456789abcdef01234567',
    BASE_BRANCH_NAME: 'main',
    PROJECT_NAME: 'project',
    PULL_NUM: '42',
    PULL_URL: 'https://github.com/acme/infra/pull/42',
    PULL_AUTHOR: 'octocat',
    REPO_REL_DIR: 'project',
    USER_NAME: 'hubot',
    COMMENT_ARGS: '',
  };
}

function workflowRun(extra: Partial<WorkflowRun> = {}): WorkflowRun {
  return {
    projectDir,
    workspace: 'default',
    extraArgs: [],
    planFile,
    variables: variables(),
    onOutput: (chunk) => chunks.push(chunk),
    ...extra,
  };
}

function plan(steps: readonly WorkflowStep[] | undefined, extra: Partial<WorkflowRun> = {}): Promise<PlanOutcome> {
  return runPlanWorkflow(terraform(), execCtx(), steps, workflowRun(extra));
}

function apply(steps: readonly WorkflowStep[] | undefined, extra: Partial<WorkflowRun> = {}): Promise<ApplyOutcome> {
  return runApplyWorkflow(terraform(), execCtx(), steps, workflowRun(extra));
}

const init = (extraArgs: string[] = []): WorkflowStep => ({ kind: 'init', extraArgs });
const planStep = (extraArgs: string[] = []): WorkflowStep => ({ kind: 'plan', extraArgs });
const applyStep = (extraArgs: string[] = []): WorkflowStep => ({ kind: 'apply', extraArgs });
function run(command: string, opts: Partial<Extract<WorkflowStep, { kind: 'run' }>> = {}): WorkflowStep {
  return { kind: 'run', command, ...opts };
}
function env(name: string, opts: { value?: string; command?: string; shell?: string }): WorkflowStep {
  return { kind: 'env', name, ...opts };
}

async function exists(file: string): Promise<boolean> {
  return stat(file).then(
    () => true,
    () => false,
  );
}

describe('default stages', () => {
  class RecordingRunner extends TerraformRunner {
    readonly calls: { method: string; ctx: RunContext; planFile: string }[] = [];
    readonly planned: PlanOutcome = { result: 'no-changes', summary: null, output: 'p', exitCode: 0, durationMs: 1 };
    readonly applied: ApplyOutcome = { result: 'applied', output: 'a', exitCode: 0, durationMs: 1 };

    override async plan(ctx: RunContext, file: string): Promise<PlanOutcome> {
      this.calls.push({ method: 'plan', ctx, planFile: file });
      return this.planned;
    }

    override async apply(ctx: RunContext, file: string): Promise<ApplyOutcome> {
      this.calls.push({ method: 'apply', ctx, planFile: file });
      return this.applied;
    }
  }

  it.each([['no steps key', undefined], ['an empty step list', []]])(
    'hands a stage with %s to TerraformRunner.plan / .apply as it is',
    async (_name, steps) => {
      const tf = new RecordingRunner({ bin: path.join(tmp, 'no-terraform'), exec: execCtx() });
      const wfRun = workflowRun();
      expect(await runPlanWorkflow(tf, execCtx(), steps, wfRun)).toBe(tf.planned);
      expect(await runApplyWorkflow(tf, execCtx(), steps, wfRun)).toBe(tf.applied);
      expect(tf.calls).toEqual([
        { method: 'plan', ctx: wfRun, planFile },
        { method: 'apply', ctx: wfRun, planFile },
      ]);
      expect(tf.calls[0]?.ctx).toBe(wfRun);
    },
  );

  it('plans and applies with the real terraform when no steps are given', async () => {
    const planned = await plan(undefined);
    expect(planned).toMatchObject({ result: 'changes', summary: { add: 1, change: 0, destroy: 0 }, planFile });
    expect(planned.output).toContain('terraform_data.x will be created');
    const applied = await apply([]);
    expect(applied.result).toBe('applied');
    expect(applied.output).toContain('Apply complete! Resources: 1 added');
  });
});

describe('custom plan stage', () => {
  it('runs init, run, plan and a hidden run in order, showing the echo and the plan only', async () => {
    const outcome = await plan([
      init(),
      run('echo before $WORKSPACE $PULL_NUM'),
      planStep(['-var', 'v=custom']),
      run('echo hidden-marker', { output: 'hide' }),
    ]);
    expect(outcome).toMatchObject({
      result: 'changes',
      summary: { add: 1, change: 0, destroy: 0 },
      planFile,
      exitCode: 2,
    });
    expect(await exists(planFile)).toBe(true);
    expect(outcome.output).toMatch(/^before default 42\n/);
    expect(outcome.output).toContain('terraform_data.x will be created');
    expect(outcome.output).toContain('input  = "custom"');
    expect(outcome.output).not.toContain('hidden-marker');
    expect(outcome.output).not.toContain('Terraform has been successfully initialized');
    // Hidden from the comment, not from the live log.
    expect(chunks.join('')).toContain('hidden-marker\n');

    // A fresh checkout has no .terraform: the apply step initialises first.
    await rm(path.join(projectDir, '.terraform'), { recursive: true, force: true });
    const applied = await apply([applyStep(), run('echo "applied $PULL_NUM in $WORKSPACE"')]);
    expect(applied.result).toBe('applied');
    expect(applied.output).toMatch(/Apply complete! Resources: 1 added[^]*\napplied 42 in default\n$/);
    expect(await readFile(path.join(projectDir, 'terraform.tfstate'), 'utf8')).toContain('"custom"');
  });

  it("puts a plan step's extra args before the comment's", async () => {
    const extraArgs = ['-var', 'v=from-comment'];
    const outcome = await plan([init(), planStep(['-var', 'v=from-step'])], { extraArgs });
    expect(outcome.result).toBe('changes');
    expect(outcome.output).toContain('input  = "from-comment"');
  });

  it('sets variables from env steps, by value and from a command, for later steps', async () => {
    const outcome = await plan([
      env('GREETING', { command: 'echo "  hi $PULL_AUTHOR from $REPO_REL_DIR  "' }),
      env('TF_VAR_v', { value: 'from-env' }),
      run('echo "[$GREETING] [$TF_VAR_v]"'),
      init(),
      planStep(),
    ]);
    expect(outcome.result).toBe('changes');
    expect(outcome.output).toContain('[hi octocat from project] [from-env]\n');
    expect(outcome.output).toContain('input  = "from-env"');
    // An env step's command prints nothing to the comment or the live log.
    expect(chunks.join('')).not.toContain('  hi octocat');
  });

  it('stops at the first failing run step and names it', async () => {
    await mkdir(path.dirname(planFile), { recursive: true });
    await writeFile(planFile, 'an old plan that must not survive');
    const outcome = await plan([init(), run('echo partial; echo oops >&2; exit 3'), planStep()]);
    expect(outcome.result).toBe('error');
    expect(outcome.output).toMatch(
      /^step 2 of 3 \(run: echo partial; echo oops >&2; exit 3\) failed with exit code 3:\n\npartial\noops\n$/,
    );
    expect(outcome.exitCode).toBe(3);
    expect(outcome.summary).toBeNull();
    expect(outcome.planFile).toBeUndefined();
    expect(await exists(planFile)).toBe(false);
  });

  it('names a failing terraform step', async () => {
    const outcome = await plan([init(), planStep(['-var', 'undeclared=1'])]);
    expect(outcome.result).toBe('error');
    expect(outcome.output).toMatch(/^step 2 of 2 \(plan\): terraform plan failed with exit code 1:/);
    expect(outcome.output).toContain('undeclared');
  });

  it('plans with run steps only, in the run workspace, then applies and plans no changes', async () => {
    const runOnlyPlan = [
      run('terraform init -input=false -no-color', { output: 'hide' }),
      run('terraform workspace select -or-create=true "$WORKSPACE"', { output: 'hide' }),
      run('terraform plan -input=false -no-color -out="$PLANFILE"'),
    ];
    const first = await plan(runOnlyPlan, { workspace: 'staging' });
    expect(first).toMatchObject({ result: 'changes', summary: { add: 1, change: 0, destroy: 0 }, planFile });
    expect(first.output).toContain('terraform_data.x will be created');
    expect(first.output).not.toContain('Terraform has been successfully initialized');
    expect(await exists(planFile)).toBe(true);

    const applied = await apply([run('terraform apply -input=false -no-color "$PLANFILE"')], {
      workspace: 'staging',
    });
    expect(applied.result).toBe('applied');
    expect(applied.output).toContain('Apply complete! Resources: 1 added');
    const staging = path.join(projectDir, 'terraform.tfstate.d', 'staging', 'terraform.tfstate');
    expect(await readFile(staging, 'utf8')).toContain('terraform_data');
    expect(await exists(path.join(tmp, 'elsewhere'))).toBe(false);

    const again = await plan(runOnlyPlan, { workspace: 'staging' });
    expect(again).toMatchObject({ result: 'no-changes', summary: { add: 0, change: 0, destroy: 0 }, planFile });
  });

  it('reports a plan stage that made no plan file at $PLANFILE', async () => {
    const outcome = await plan([run('echo nothing to see')]);
    expect(outcome.result).toBe('error');
    expect(outcome.output).toContain(`the workflow produced no plan file at ${planFile}`);
    expect(outcome.output).toContain('nothing to see');
    expect(outcome.planFile).toBeUndefined();
  });

  it('drops refresh noise from a run step with output strip_refreshing', async () => {
    expect((await apply([init(), run('terraform apply -input=false -auto-approve')])).result).toBe('applied');
    const command = 'terraform plan -input=false -no-color -var v=changed -out="$PLANFILE"';

    const shown = await plan([run(command)]);
    expect(shown.output).toContain('terraform_data.x: Refreshing state...');

    const stripped = await plan([run(command, { output: 'strip_refreshing' })]);
    expect(stripped).toMatchObject({ result: 'changes', summary: { add: 0, change: 1, destroy: 0 } });
    expect(stripped.output).not.toContain('Refreshing state');
    expect(stripped.output).toMatch(/^Terraform used the selected providers/);
    expect(stripped.output).toContain('~ input  = "hello" -> "changed"');
  });
});

describe('run steps with output custom_regex (Atlantis)', () => {
  it('redacts every match of regex_filter from what the reply shows', async () => {
    const outcome = await plan([run('echo "token=abc123 user=bob token=zz9"', { output: 'custom_regex', regexFilter: 'token=\\S+' }), init(), planStep([])]);
    expect(outcome.output).toContain('<redacted> user=bob <redacted>');
    expect(outcome.output).not.toContain('abc123');
    expect(outcome.output).not.toContain('zz9');
  });

  it('strips refresh noise and redacts with strip_refreshing_with_custom_regex', async () => {
    expect((await apply([init(), run('terraform apply -input=false -auto-approve')])).result).toBe('applied');
    const command = 'terraform plan -input=false -no-color -var v=changed -out="$PLANFILE"';
    const outcome = await plan([run(command, { output: 'strip_refreshing_with_custom_regex', regexFilter: '"changed"' })]);
    expect(outcome.output).not.toContain('Refreshing state');
    expect(outcome.output).toContain('~ input  = "hello" -> <redacted>');
  });
});

describe('run steps', () => {
  it('kills a run step that outlives its timeout and names it', async () => {
    const started = Date.now();
    const outcome = await apply([run('echo started; sleep 30')], { runTimeoutMs: 300 });
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(outcome.result).toBe('error');
    expect(outcome.output).toMatch(/^step 1 of 1 \(run: echo started; sleep 30\) timed out after 300 ms and was killed:\n\nstarted\n/);
    expect(outcome.exitCode).toBe(-1);
  }, 15_000);

  it('gives a run step only the allow-listed base env, ctx.env, the step variables and env steps, later ones winning', async () => {
    const token = 'ghs_canaryToken0123456789';
    process.env.TIDELINE_WORKFLOW_TEST_LEAK = 'leaked-from-process-env';
    process.env.TIDELINE_GITHUB_TOKEN = token;
    try {
      // A stray property on the variables object must not reach the step either.
      const stray = { ...variables(), WORKSPACE: 'stale', GITHUB_TOKEN: token };
      const steps = [
        env('FROM_ENV_STEP', { value: 'yes' }),
        env('PROJECT_NAME', { value: 'from-env-step' }),
        run('env'),
      ];
      const outcome = await apply(steps, {
        variables: stray,
        env: { TF_VAR_v: 'from-ctx', PULL_URL: 'from-ctx' },
      });
      expect(outcome.result).toBe('applied');
      const lines = outcome.output.trim().split('\n');
      const names = lines.map((line) => line.slice(0, line.indexOf('='))).sort();
      expect(names).toEqual(
        [
          'HOME', 'PATH', 'TF_CLI_CONFIG_FILE', 'PWD', 'TF_VAR_v', 'FROM_ENV_STEP',
          ...Object.keys(variables()),
        ].sort(),
      );
      expect(lines).toContain(`PATH=${process.env.PATH ?? ''}`);
      expect(lines).toContain('PULL_NUM=42');
      expect(lines).toContain('WORKSPACE=default');
      expect(lines).toContain(`DIR=${projectDir}`);
      expect(lines).toContain(`PLANFILE=${planFile}`);
      expect(lines).toContain('HEAD_COMMIT=0123456789abcdef0123456789abcdef01234567');
      expect(lines).toContain('TF_VAR_v=from-ctx');
      expect(lines).toContain('FROM_ENV_STEP=yes');
      // ctx.env < step variables < env steps, as in Atlantis.
      expect(lines).toContain('PULL_URL=https://github.com/acme/infra/pull/42');
      expect(lines).toContain('PROJECT_NAME=from-env-step');
      expect(outcome.output).not.toContain('leaked-from-process-env');
      expect(outcome.output).not.toContain(token);
    } finally {
      delete process.env.TIDELINE_WORKFLOW_TEST_LEAK;
      delete process.env.TIDELINE_GITHUB_TOKEN;
    }
  });

  it('masks secrets in shown output, live output, errors and step names', async () => {
    const canary = 'canary-Wf7Lq2Zx9';
    masker.add(canary);
    const ok = await apply([run('echo "secret is $TF_VAR_v"')], { env: { TF_VAR_v: canary } });
    expect(ok.output).toBe('secret is ***\n');
    const failed = await apply([run(`echo "$TF_VAR_v" >&2; echo ${canary}; exit 2`)], {
      env: { TF_VAR_v: canary },
    });
    expect(failed.result).toBe('error');
    expect(failed.output).toContain('(run: echo "$TF_VAR_v" >&2; echo ***; exit 2) failed');
    expect(failed.output).not.toContain(canary);
    expect(chunks.join('')).toContain('***');
    expect(chunks.join('')).not.toContain(canary);
  });

  it('runs the command with the given shell and shell args', async () => {
    expect((await apply([run('false | true')])).result).toBe('applied');
    const pipefail = await apply([run('false | true', { shell: 'bash', shellArgs: ['-o', 'pipefail', '-c'] })]);
    expect(pipefail.result).toBe('error');
    expect(pipefail.output).toContain('(run: false | true) failed with exit code 1');

    const seen = await apply([
      env('SEEN_SH', { command: 'echo "sh${BASH_VERSION:+ is bash}"' }),
      env('SEEN_BASH', { command: 'echo "bash${BASH_VERSION:+ is bash}"', shell: 'bash' }),
      run('echo "$SEEN_SH / $SEEN_BASH"'),
    ]);
    expect(seen.output).toBe('sh / bash is bash\n');
  });

  it('names a failing apply step and runs nothing after it', async () => {
    const outcome = await apply([applyStep(), run('echo after')]);
    expect(outcome.result).toBe('error');
    expect(outcome.output).toMatch(/^step 1 of 2 \(apply\): plan file .* not found: run plan first/);
    expect(outcome.output).not.toContain('after');
  });
});

describe('refusals before any step runs', () => {
  it.each<{ name: string; stage: 'plan' | 'apply'; step: WorkflowStep; extra?: Partial<WorkflowRun>; message: string }>([
    { name: 'a refused plan extra arg', stage: 'plan', step: planStep(['-out=/tmp/x']), message: 'step 2 of 2 (plan): extra argument -out is not allowed' },
    { name: 'a refused init extra arg', stage: 'plan', step: init(['-chdir=/']), message: 'step 2 of 2 (init): extra argument -chdir is not allowed' },
    { name: 'an apply step in a plan stage', stage: 'plan', step: applyStep(), message: 'step 2 of 2 (apply): an apply step cannot run in a plan stage' },
    { name: 'a plan step in an apply stage', stage: 'apply', step: planStep(), message: 'step 2 of 2 (plan): a plan step cannot run in an apply stage' },
    { name: 'a bad env name', stage: 'apply', step: env('BAD-NAME', { value: 'x' }), message: 'step 2 of 2 (env: BAD-NAME): invalid variable name' },
    { name: 'an env step with value and command', stage: 'apply', step: env('X', { value: 'a', command: 'echo b' }), message: 'needs either value or command' },
    { name: 'a bad workspace', stage: 'plan', step: run('true'), extra: { workspace: '../x' }, message: 'invalid workspace name "../x"' },
    { name: 'a refused comment arg', stage: 'apply', step: run('true'), extra: { extraArgs: ['-state=/tmp/s'] }, message: 'extra argument -state is not allowed' },
  ])('refuses $name', async ({ stage, step, extra, message }) => {
    const steps = [run('touch ran'), step];
    const outcome = stage === 'plan' ? await plan(steps, extra) : await apply(steps, extra);
    expect(outcome.result).toBe('error');
    expect(outcome.output).toContain(message);
    expect(outcome.exitCode).toBe(-1);
    expect(await exists(path.join(projectDir, 'ran'))).toBe(false);
  });
});
