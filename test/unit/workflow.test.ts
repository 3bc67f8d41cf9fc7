// Custom workflows with the real terraform on PATH and only its built-in provider: offline,
// local state, everything in temp dirs. The stages as a whole; run steps and refusals are in
// workflow-run-steps.test.ts.
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { TerraformRunner } from '../../runners/terraform.js';
import type { ApplyOutcome, PlanOutcome, RunContext } from '../../runners/types.js';
import { runApplyWorkflow, runPlanWorkflow } from '../../runners/workflow.js';
import { applyStep, env, exists, init, planStep, run, useWorkflowProject } from '../support/workflow-fixture.js';

const wf = useWorkflowProject();

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
      const tf = new RecordingRunner({ bin: path.join(wf.tmp, 'no-terraform'), exec: wf.execCtx() });
      const wfRun = wf.workflowRun();
      expect(await runPlanWorkflow(tf, wf.execCtx(), steps, wfRun)).toBe(tf.planned);
      expect(await runApplyWorkflow(tf, wf.execCtx(), steps, wfRun)).toBe(tf.applied);
      expect(tf.calls).toEqual([
        { method: 'plan', ctx: wfRun, planFile: wf.planFile },
        { method: 'apply', ctx: wfRun, planFile: wf.planFile },
      ]);
      expect(tf.calls[0]?.ctx).toBe(wfRun);
    },
  );

  it('plans and applies with the real terraform when no steps are given', async () => {
    const planned = await wf.plan(undefined);
    expect(planned).toMatchObject({ result: 'changes', summary: { add: 1, change: 0, destroy: 0 }, planFile: wf.planFile });
    expect(planned.output).toContain('terraform_data.x will be created');
    const applied = await wf.apply([]);
    expect(applied.result).toBe('applied');
    expect(applied.output).toContain('Apply complete! Resources: 1 added');
  });
});

describe('custom plan stage', () => {
  it('runs init, run, plan and a hidden run in order, showing the echo and the plan only', async () => {
    const outcome = await wf.plan([
      init(),
      run('echo before $WORKSPACE $PULL_NUM'),
      planStep(['-var', 'v=custom']),
      run('echo hidden-marker', { output: 'hide' }),
    ]);
    expect(outcome).toMatchObject({
      result: 'changes',
      summary: { add: 1, change: 0, destroy: 0 },
      planFile: wf.planFile,
      exitCode: 2,
    });
    expect(await exists(wf.planFile)).toBe(true);
    expect(outcome.output).toMatch(/^before default 42\n/);
    expect(outcome.output).toContain('terraform_data.x will be created');
    expect(outcome.output).toContain('input  = "custom"');
    expect(outcome.output).not.toContain('hidden-marker');
    expect(outcome.output).not.toContain('Terraform has been successfully initialized');
    // Hidden from the comment, not from the live log.
    expect(wf.chunks.join('')).toContain('hidden-marker\n');

    // A fresh checkout has no .terraform: the apply step initialises first.
    await rm(path.join(wf.projectDir, '.terraform'), { recursive: true, force: true });
    const applied = await wf.apply([applyStep(), run('echo "applied $PULL_NUM in $WORKSPACE"')]);
    expect(applied.result).toBe('applied');
    expect(applied.output).toMatch(/Apply complete! Resources: 1 added[^]*\napplied 42 in default\n$/);
    expect(await readFile(path.join(wf.projectDir, 'terraform.tfstate'), 'utf8')).toContain('"custom"');
  });

  it("puts a plan step's extra args before the comment's", async () => {
    const extraArgs = ['-var', 'v=from-comment'];
    const outcome = await wf.plan([init(), planStep(['-var', 'v=from-step'])], { extraArgs });
    expect(outcome.result).toBe('changes');
    expect(outcome.output).toContain('input  = "from-comment"');
  });

  it('sets variables from env steps, by value and from a command, for later steps', async () => {
    const outcome = await wf.plan([
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
    expect(wf.chunks.join('')).not.toContain('  hi octocat');
  });

  it('stops at the first failing run step and names it', async () => {
    await mkdir(path.dirname(wf.planFile), { recursive: true });
    await writeFile(wf.planFile, 'an old plan that must not survive');
    const outcome = await wf.plan([init(), run('echo partial; echo oops >&2; exit 3'), planStep()]);
    expect(outcome.result).toBe('error');
    expect(outcome.output).toMatch(
      /^step 2 of 3 \(run: echo partial; echo oops >&2; exit 3\) failed with exit code 3:\n\npartial\noops\n$/,
    );
    expect(outcome.exitCode).toBe(3);
    expect(outcome.summary).toBeNull();
    expect(outcome.planFile).toBeUndefined();
    expect(await exists(wf.planFile)).toBe(false);
  });

  it('names a failing terraform step', async () => {
    const outcome = await wf.plan([init(), planStep(['-var', 'undeclared=1'])]);
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
    const first = await wf.plan(runOnlyPlan, { workspace: 'staging' });
    expect(first).toMatchObject({ result: 'changes', summary: { add: 1, change: 0, destroy: 0 }, planFile: wf.planFile });
    expect(first.output).toContain('terraform_data.x will be created');
    expect(first.output).not.toContain('Terraform has been successfully initialized');
    expect(await exists(wf.planFile)).toBe(true);

    const applied = await wf.apply([run('terraform apply -input=false -no-color "$PLANFILE"')], {
      workspace: 'staging',
    });
    expect(applied.result).toBe('applied');
    expect(applied.output).toContain('Apply complete! Resources: 1 added');
    const staging = path.join(wf.projectDir, 'terraform.tfstate.d', 'staging', 'terraform.tfstate');
    expect(await readFile(staging, 'utf8')).toContain('terraform_data');
    expect(await exists(path.join(wf.tmp, 'elsewhere'))).toBe(false);

    const again = await wf.plan(runOnlyPlan, { workspace: 'staging' });
    expect(again).toMatchObject({ result: 'no-changes', summary: { add: 0, change: 0, destroy: 0 }, planFile: wf.planFile });
  });

  it('reports a plan stage that made no plan file at $PLANFILE', async () => {
    const outcome = await wf.plan([run('echo nothing to see')]);
    expect(outcome.result).toBe('error');
    expect(outcome.output).toContain(`the workflow produced no plan file at ${wf.planFile}`);
    expect(outcome.output).toContain('nothing to see');
    expect(outcome.planFile).toBeUndefined();
  });

  it('drops refresh noise from a run step with output strip_refreshing', async () => {
    expect((await wf.apply([init(), run('terraform apply -input=false -auto-approve')])).result).toBe('applied');
    const command = 'terraform plan -input=false -no-color -var v=changed -out="$PLANFILE"';

    const shown = await wf.plan([run(command)]);
    expect(shown.output).toContain('terraform_data.x: Refreshing state...');

    const stripped = await wf.plan([run(command, { output: 'strip_refreshing' })]);
    expect(stripped).toMatchObject({ result: 'changes', summary: { add: 0, change: 1, destroy: 0 } });
    expect(stripped.output).not.toContain('Refreshing state');
    expect(stripped.output).toMatch(/^Terraform used the selected providers/);
    expect(stripped.output).toContain('~ input  = "hello" -> "changed"');
  });
});

describe('run steps with output custom_regex (Atlantis)', () => {
  it('redacts every match of regex_filter from what the reply shows', async () => {
    const outcome = await wf.plan([run('echo "token=abc123 user=bob token=zz9"', { output: 'custom_regex', regexFilter: 'token=\\S+' }), init(), planStep([])]);
    expect(outcome.output).toContain('<redacted> user=bob <redacted>');
    expect(outcome.output).not.toContain('abc123');
    expect(outcome.output).not.toContain('zz9');
  });

  it('strips refresh noise and redacts with strip_refreshing_with_custom_regex', async () => {
    expect((await wf.apply([init(), run('terraform apply -input=false -auto-approve')])).result).toBe('applied');
    const command = 'terraform plan -input=false -no-color -var v=changed -out="$PLANFILE"';
    const outcome = await wf.plan([run(command, { output: 'strip_refreshing_with_custom_regex', regexFilter: '"changed"' })]);
    expect(outcome.output).not.toContain('Refreshing state');
    expect(outcome.output).toContain('~ input  = "hello" -> <redacted>');
  });
});
