// Atlantis's `multienv` step and its `shellArgs` spelling, from a real atlantis.yaml through the
// real repo config reader into the real workflow runner and terraform (offline, temp dirs). A
// multienv step that is skipped changes what is planned: the variables it sets never arrive.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseMultiEnv } from '../../runners/multienv.js';
import type { WorkflowStep } from '../../runners/types.js';
import { parseRepoConfig, type RepoConfig } from '../../server/projects/index.js';
import { useWorkflowProject } from '../support/workflow-fixture.js';

const root = mkdtempSync(join(tmpdir(), 'tideline-multienv-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const wf = useWorkflowProject();

function config(yaml: string): RepoConfig {
  const result = parseRepoConfig(yaml, 'atlantis.yaml', root);
  if (!result.ok || result.config === null) throw new Error(JSON.stringify(result));
  return result.config;
}

function planSteps(yaml: string): WorkflowStep[] {
  const steps = config(yaml).workflows['custom']?.plan;
  if (steps === undefined) throw new Error('no custom workflow');
  return steps;
}

describe('multienv steps', () => {
  it('sets every variable the command prints for the steps after it, and lists their names', async () => {
    const steps = planSteps(`version: 3
workflows:
  custom:
    plan:
      steps:
        - multienv: echo 'TF_VAR_v=from-multienv,OTHER="a, b"'
        - run: echo "other=$OTHER"
        - init
        - plan
`);
    const outcome = await wf.plan(steps);
    expect(outcome.result).toBe('changes');
    expect(outcome.output).toContain('Dynamic environment variables added:\nTF_VAR_v\nOTHER\n');
    expect(outcome.output).toContain('other=a, b\n');
    expect(outcome.output).toContain('"from-multienv"');
    expect(outcome.output).not.toContain('"hello"');
  });

  it("reads Atlantis's full form: output hide, shell and shellArgs", async () => {
    const steps = planSteps(`version: 3
workflows:
  custom:
    plan:
      steps:
        - multienv:
            command: printf 'TF_VAR_v=%s' "$PULL_NUM"
            output: hide
            shell: bash
            shellArgs: ["-e", "-c"]
        - init
        - plan
`);
    expect(steps[0]).toEqual({ kind: 'multienv', command: `printf 'TF_VAR_v=%s' "$PULL_NUM"`, output: 'hide', shell: 'bash', shellArgs: ['-e', '-c'] });
    const outcome = await wf.plan(steps);
    expect(outcome.result).toBe('changes');
    expect(outcome.output).toContain('"42"');
    expect(outcome.output).not.toContain('Dynamic environment variables');
  });

  it('fails the stage, naming the step, when the output is not NAME=value pairs', async () => {
    const steps = planSteps('version: 3\nworkflows:\n  custom:\n    plan:\n      steps: [{ multienv: echo not-a-pair }, init, plan]\n');
    const outcome = await wf.plan(steps);
    expect(outcome.result).toBe('error');
    expect(outcome.output).toMatch(/^step 1 of 3 \(multienv: echo not-a-pair\): pair 1 has no `=`: a multienv command must print NAME=value pairs/);
  });

  it('is no longer listed as a step Tideline skips', () => {
    const parsed = config('version: 3\nworkflows:\n  custom:\n    plan:\n      steps: [init, { multienv: ./envs.sh }, plan]\n');
    expect(parsed.warnings).toEqual([]);
    expect(parsed.workflows['custom']?.plan).toHaveLength(3);
  });
});

describe("Atlantis's shellArgs spelling", () => {
  it('runs env and run steps with the shell and arguments given', async () => {
    const steps = planSteps(`version: 3
workflows:
  custom:
    plan:
      steps:
        - env:
            name: TF_VAR_v
            command: echo "\${BASE_BRANCH_NAME^^}"
            shell: bash
            shellArgs: -c
        - run:
            command: false | true
            shell: bash
            shellArgs: [-o, pipefail, -c]
`);
    expect(steps[0]).toEqual({ kind: 'env', name: 'TF_VAR_v', command: 'echo "${BASE_BRANCH_NAME^^}"', shell: 'bash', shellArgs: ['-c'] });
    const outcome = await wf.plan(steps);
    expect(outcome.result).toBe('error');
    expect(outcome.output).toContain('step 2 of 2 (run: false | true) failed with exit code 1');
  });

  it.each([
    ['shellArgs without shell', '{ run: { command: make, shellArgs: -c } }', 'only applies with `shell`'],
    ['both spellings', '{ run: { command: make, shell: bash, shellArgs: -c, shell_args: -c } }', 'repeats `shellArgs`'],
    ['a shell on an env step with a value', '{ env: { name: X, value: y, shell: bash } }', 'only applies with `command`'],
  ])('refuses %s, as Atlantis does', (_what, step, message) => {
    const result = parseRepoConfig(`version: 3\nworkflows:\n  custom:\n    plan:\n      steps: [${step}]\n`, 'atlantis.yaml', root);
    expect(result.ok).toBe(false);
    expect(JSON.stringify(result)).toContain(message);
  });
});

describe('parseMultiEnv', () => {
  it.each([
    ['TF_VAR_A=1', [['TF_VAR_A', '1']]],
    ['A=x=y=,B=2\n', [['A', 'x=y='], ['B', '2']]],
    [`A="one, two",B='it''s',C="say \\"hi\\" \\\\ bye"`, null],
    ['A="one, two",B=\'x, y\',C="say \\"hi\\""', [['A', 'one, two'], ['B', 'x, y'], ['C', 'say "hi"']]],
    ['', []],
  ] as const)('reads %j', (output, vars) => {
    const parsed = parseMultiEnv(output);
    if (vars === null) expect(parsed.ok).toBe(false);
    else expect(parsed).toEqual({ ok: true, vars });
  });

  it.each([['NOVALUE'], ['BAD NAME=1'], ['A="open']])('refuses %j', (output) => {
    expect(parseMultiEnv(output).ok).toBe(false);
  });

  // The command prints values that are often secrets, and the message goes to the pull request.
  it.each([
    ['a bare secret, no name', 's3cr3t-t0ken', 'pair 1 has no `=`'],
    ['an unquoted value with a comma', 'TOKEN=ab,s3cr3t-t0ken', 'pair 2 (after TOKEN) has no `=`'],
    ['a comma then a space in an unquoted value', 'A=1,s3cr3t t0ken=2', 'pair 2 (after A) does not start with an environment variable name'],
    ['text after a quoted value', 'A="x"s3cr3t-t0ken', 'the quoted value of A is not followed by a comma'],
  ])('never quotes the output in its refusal: %s', (_what, output, message) => {
    const parsed = parseMultiEnv(output);
    if (parsed.ok) throw new Error('parsed');
    expect(parsed.message).toContain(message);
    expect(parsed.message).not.toContain('s3cr3t');
  });
});
