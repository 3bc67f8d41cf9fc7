// Run steps of custom workflows (timeouts, environment, masking, shells) and the refusals made
// before any step runs, with the real terraform on PATH: offline, everything in temp dirs.
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { WorkflowStep } from '../../runners/types.js';
import type { WorkflowRun } from '../../runners/workflow.js';
import { applyStep, env, exists, init, planStep, run, useWorkflowProject } from '../support/workflow-fixture.js';

const wf = useWorkflowProject();

describe('run steps', () => {
  it('kills a run step that outlives its timeout and names it', async () => {
    const started = Date.now();
    const outcome = await wf.apply([run('echo started; sleep 30')], { runTimeoutMs: 300 });
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
      const stray = { ...wf.variables(), WORKSPACE: 'stale', GITHUB_TOKEN: token };
      const steps = [
        env('FROM_ENV_STEP', { value: 'yes' }),
        env('PROJECT_NAME', { value: 'from-env-step' }),
        run('env'),
      ];
      const outcome = await wf.apply(steps, {
        variables: stray,
        env: { TF_VAR_v: 'from-ctx', PULL_URL: 'from-ctx' },
      });
      expect(outcome.result).toBe('applied');
      const lines = outcome.output.trim().split('\n');
      const names = lines.map((line) => line.slice(0, line.indexOf('='))).sort();
      expect(names).toEqual(
        [
          'HOME', 'PATH', 'TF_CLI_CONFIG_FILE', 'PWD', 'TF_VAR_v', 'FROM_ENV_STEP',
          ...Object.keys(wf.variables()),
        ].sort(),
      );
      expect(lines).toContain(`PATH=${process.env.PATH ?? ''}`);
      expect(lines).toContain('PULL_NUM=42');
      expect(lines).toContain('WORKSPACE=default');
      expect(lines).toContain(`DIR=${wf.projectDir}`);
      expect(lines).toContain(`PLANFILE=${wf.planFile}`);
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
    wf.masker.add(canary);
    const ok = await wf.apply([run('echo "secret is $TF_VAR_v"')], { env: { TF_VAR_v: canary } });
    expect(ok.output).toBe('secret is ***\n');
    const failed = await wf.apply([run(`echo "$TF_VAR_v" >&2; echo ${canary}; exit 2`)], {
      env: { TF_VAR_v: canary },
    });
    expect(failed.result).toBe('error');
    expect(failed.output).toContain('(run: echo "$TF_VAR_v" >&2; echo ***; exit 2) failed');
    expect(failed.output).not.toContain(canary);
    expect(wf.chunks.join('')).toContain('***');
    expect(wf.chunks.join('')).not.toContain(canary);
  });

  it('runs the command with the given shell and shell args', async () => {
    expect((await wf.apply([run('false | true')])).result).toBe('applied');
    const pipefail = await wf.apply([run('false | true', { shell: 'bash', shellArgs: ['-o', 'pipefail', '-c'] })]);
    expect(pipefail.result).toBe('error');
    expect(pipefail.output).toContain('(run: false | true) failed with exit code 1');

    const seen = await wf.apply([
      env('SEEN_SH', { command: 'echo "sh${BASH_VERSION:+ is bash}"' }),
      env('SEEN_BASH', { command: 'echo "bash${BASH_VERSION:+ is bash}"', shell: 'bash' }),
      run('echo "$SEEN_SH / $SEEN_BASH"'),
    ]);
    expect(seen.output).toBe('sh / bash is bash\n');
  });

  it('names a failing apply step and runs nothing after it', async () => {
    const outcome = await wf.apply([applyStep(), run('echo after')]);
    expect(outcome.result).toBe('error');
    expect(outcome.output).toMatch(/^step 1 of 2 \(apply\): plan file .* not found: run plan first/);
    expect(outcome.output).not.toContain('after');
  });
});

describe('refusals before any step runs', () => {
  it.each<{ name: string; stage: 'plan' | 'apply'; step: WorkflowStep; extra?: Partial<WorkflowRun>; message: string }>([
    { name: 'a refused plan extra arg', stage: 'plan', step: planStep(['-out=/wf.tmp/x']), message: 'step 2 of 2 (plan): extra argument -out is not allowed' },
    { name: 'a refused init extra arg', stage: 'plan', step: init(['-chdir=/']), message: 'step 2 of 2 (init): extra argument -chdir is not allowed' },
    { name: 'an apply step in a plan stage', stage: 'plan', step: applyStep(), message: 'step 2 of 2 (apply): an apply step cannot run in a plan stage' },
    { name: 'a plan step in an apply stage', stage: 'apply', step: planStep(), message: 'step 2 of 2 (plan): a plan step cannot run in an apply stage' },
    { name: 'a bad env name', stage: 'apply', step: env('BAD-NAME', { value: 'x' }), message: 'step 2 of 2 (env: BAD-NAME): invalid variable name' },
    { name: 'an env step with value and command', stage: 'apply', step: env('X', { value: 'a', command: 'echo b' }), message: 'needs either value or command' },
    { name: 'a bad workspace', stage: 'plan', step: run('true'), extra: { workspace: '../x' }, message: 'invalid workspace name "../x"' },
    { name: 'a refused comment arg', stage: 'apply', step: run('true'), extra: { extraArgs: ['-state=/wf.tmp/s'] }, message: 'extra argument -state is not allowed' },
  ])('refuses $name', async ({ stage, step, extra, message }) => {
    const steps = [run('touch ran'), step];
    const outcome = stage === 'plan' ? await wf.plan(steps, extra) : await wf.apply(steps, extra);
    expect(outcome.result).toBe('error');
    expect(outcome.output).toContain(message);
    expect(outcome.exitCode).toBe(-1);
    expect(await exists(path.join(wf.projectDir, 'ran'))).toBe(false);
  });
});
