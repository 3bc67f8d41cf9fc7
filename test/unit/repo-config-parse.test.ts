import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseRepoConfig, readRepoConfig } from '../../server/projects/index.js';
import type { ReadRepoConfigResult, RepoConfig } from '../../server/projects/index.js';

const root = mkdtempSync(join(tmpdir(), 'tideline-repo-config-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

function configOf(result: ReadRepoConfigResult): RepoConfig {
  if (!result.ok) throw new Error(`expected a config, got ${JSON.stringify(result.problems, null, 2)}`);
  if (result.config === null) throw new Error('expected a config, got none');
  return result.config;
}

const MONOREPO = `
version: 3
automerge: true
parallel_plan: true
abort_on_execution_order_fail: true
autodiscover:
  mode: disabled
projects:
  - &network
    name: network-staging
    dir: ./network/
    workspace: staging
    execution_order_group: 1
    workflow: layered
    terraform_version: v1.6.2
    autoplan:
      when_modified: ["*.tf", "../modules/vpc/**/*.tf", "vars/staging.tfvars"]
  - <<: *network
    name: network-prod
    workspace: production
    depends_on: [network-staging]
    apply_requirements: [approved, mergeable]
    autoplan:
      when_modified: ["*.tf", "vars/production.tfvars"]
  - name: dns
    dir: dns
    execution_order_group: 2
    depends_on: [network-prod]
  - dir: services/api
    workspace: 2024
    autoplan:
      enabled: false
  - name: apps
    dir: k8s/apps
    kind: kubernetes
    namespace: apps
    cluster: prod-eu
    prune: false
    drift:
      schedule: "*/30 * * * *"
workflows:
  layered:
    plan:
      steps:
        - env:
            name: TF_VAR_region
            value: eu-west-1
        - env: { name: BUILD_ID, command: git rev-parse --short HEAD }
        - run: echo "planning $PROJECT_NAME in $WORKSPACE"
        - init: { extra_args: [-upgrade] }
        - plan:
            extra_args: ["-var-file", "vars/$WORKSPACE.tfvars", -parallelism, 5]
        - run:
            command: ./scripts/check.sh
            output: strip_refreshing
            shell: bash
            shell_args: -eo pipefail -c
    apply:
      steps: [apply]
  plan-only:
    plan:
      steps: [init, plan, show]
    policy_check:
      steps: [policy_check]
drift:
  enabled: true
  schedule: "0 * * * *"
`;

// Atlantis's "example using all keys", as a team migrating would have it.
const ATLANTIS_ALL_KEYS = `
version: 3
automerge: true
autodiscover:
  mode: auto
  ignore_paths:
  - some/path
delete_source_branch_on_merge: true
parallel_plan: true
parallel_apply: true
abort_on_execution_order_fail: true
emoji_reaction: eyes
projects:
- name: my-project-name
  branch: /main/
  dir: .
  workspace: default
  terraform_distribution: terraform
  terraform_version: v0.11.0
  delete_source_branch_on_merge: true
  repo_locking: true
  repo_locks:
    mode: on_plan
  custom_policy_check: false
  autoplan:
    when_modified: ["*.tf", "../modules/**/*.tf", ".terraform.lock.hcl"]
    enabled: true
  plan_requirements: [mergeable, approved, undiverged]
  apply_requirements: [mergeable, approved, undiverged]
  import_requirements: [mergeable, approved, undiverged]
  silence_pr_comments: ["apply"]
  execution_order_group: 1
  depends_on:
    - project-1
  workflow: myworkflow
- name: project-1
  dir: project1
workflows:
  myworkflow:
    plan:
      steps:
      - run: my-custom-command arg1 arg2
      - run:
          command: my-custom-command arg1 arg2
          output: hide
      - init
      - plan:
          extra_args: ["-lock", "false"]
      - run: my-custom-command arg1 arg2
    apply:
      steps:
      - run: echo hi
      - apply
allowed_regexp_prefixes:
- dev/
- staging/
`;

describe('parseRepoConfig on realistic files', () => {
  it('reads a monorepo with workspaces, anchors, custom workflows and a kubernetes project', () => {
    const config = configOf(parseRepoConfig(MONOREPO, 'tideline.yaml', root));
    expect(config).toMatchObject({ version: 3, file: 'tideline.yaml', automerge: true, parallelPlan: true, parallelApply: false, abortOnExecutionOrderFail: true });
    expect(config.autodiscover).toEqual({ mode: 'disabled', ignorePaths: [] });
    expect(config.drift).toEqual({ enabled: true, schedule: '0 * * * *' });
    expect(config.projects.map((p) => [p.name, p.dir, p.workspace, p.kind, p.executionOrderGroup])).toEqual([
      ['network-staging', 'network', 'staging', 'terraform', 1],
      ['network-prod', 'network', 'production', 'terraform', 1],
      ['dns', 'dns', 'default', 'terraform', 2],
      [undefined, 'services/api', '2024', 'terraform', 0],
      ['apps', 'k8s/apps', 'default', 'kubernetes', 0],
    ]);
    const [staging, prod, dns, api, apps] = config.projects;
    expect(staging).toMatchObject({ workflow: 'layered', terraformVersion: 'v1.6.2', dependsOn: [] });
    expect(staging?.autoplan).toEqual({ enabled: true, whenModified: ['*.tf', '../modules/vpc/**/*.tf', 'vars/staging.tfvars'] });
    expect(prod).toMatchObject({ workflow: 'layered', dependsOn: ['network-staging'], applyRequirements: ['approved', 'mergeable'] });
    expect(prod?.autoplan?.whenModified).toEqual(['*.tf', 'vars/production.tfvars']);
    expect(dns?.applyRequirements).toBeUndefined();
    expect(dns?.workflow).toBeUndefined();
    expect(api?.autoplan).toEqual({ enabled: false, whenModified: ['**/*.tf*', '**/*.tofu', '**/*.tofu.json', '**/terragrunt.hcl', '**/.terraform.lock.hcl'] });
    expect(apps).toMatchObject({
      kubernetes: { namespace: 'apps', cluster: 'prod-eu', prune: false, fieldManager: 'tideline' },
      autoplan: { enabled: true, whenModified: ['**/*'] },
      drift: { schedule: '*/30 * * * *' },
    });
  });

  it('normalises workflow steps, keeping numbers in arguments as text', () => {
    const config = configOf(parseRepoConfig(MONOREPO, 'tideline.yaml', root));
    expect(config.workflows['layered']).toEqual({
      plan: [
        { kind: 'env', name: 'TF_VAR_region', value: 'eu-west-1' },
        { kind: 'env', name: 'BUILD_ID', command: 'git rev-parse --short HEAD' },
        { kind: 'run', command: 'echo "planning $PROJECT_NAME in $WORKSPACE"', output: 'show' },
        { kind: 'init', extraArgs: ['-upgrade'] },
        { kind: 'plan', extraArgs: ['-var-file', 'vars/$WORKSPACE.tfvars', '-parallelism', '5'] },
        { kind: 'run', command: './scripts/check.sh', output: 'strip_refreshing', shell: 'bash', shellArgs: ['-eo', 'pipefail', '-c'] },
      ],
      apply: [{ kind: 'apply', extraArgs: [] }],
    });
  });

  it('warns that a terraform_version is not run: the server runs its own terraform', () => {
    const config = configOf(parseRepoConfig('version: 3\nprojects:\n  - dir: app\n    terraform_version: v0.12.31\n', 'tideline.yaml', root));
    expect(config.warnings).toEqual(['`projects[0].terraform_version` is not supported by Tideline yet and is ignored']);
  });

  it('warns about stages and steps it does not run, naming each, and runs `show`', () => {
    const config = configOf(parseRepoConfig(MONOREPO, 'tideline.yaml', root));
    expect(config.workflows['plan-only']?.plan).toEqual([
      { kind: 'init', extraArgs: [] },
      { kind: 'plan', extraArgs: [] },
      { kind: 'show' },
    ]);
    expect(config.workflows['plan-only']?.apply).toEqual([{ kind: 'apply', extraArgs: [] }]);
    expect(config.warnings).toEqual([
      '`projects[0].terraform_version` is not supported by Tideline yet and is ignored',
      '`projects[1].terraform_version` is not supported by Tideline yet and is ignored',
      '`workflows.plan-only.policy_check` is not supported by Tideline yet: the stage is ignored',
    ]);
  });

  it('reads `show` in both of its forms as the show step', () => {
    const text = 'version: 3\nworkflows:\n  w:\n    plan:\n      steps: [init, plan, show, { show: {} }]\n';
    const config = configOf(parseRepoConfig(text, 'atlantis.yaml', root));
    expect(config.workflows['w']?.plan.slice(2)).toEqual([{ kind: 'show' }, { kind: 'show' }]);
    expect(config.warnings).toEqual([]);
  });

  it("accepts Atlantis's all-keys example unchanged, with a warning for every key it does not act on", () => {
    const config = configOf(parseRepoConfig(ATLANTIS_ALL_KEYS, 'atlantis.yaml', root));
    expect(config.file).toBe('atlantis.yaml');
    expect(config.autodiscover).toEqual({ mode: 'auto', ignorePaths: ['some/path'] });
    expect(config.allowedRegexpPrefixes).toEqual(['dev/', 'staging/']);
    expect(config.projects[0]).toMatchObject({ name: 'my-project-name', dir: '.', branch: '/main/', dependsOn: ['project-1'], applyRequirements: ['mergeable', 'approved', 'undiverged'] });
    expect(config.workflows['myworkflow']?.plan[1]).toEqual({ kind: 'run', command: 'my-custom-command arg1 arg2', output: 'hide' });
    const warned = config.warnings.join('\n');
    for (const key of [
      '`delete_source_branch_on_merge`',
      '`emoji_reaction`',
      '`allowed_regexp_prefixes`',
      '`projects[0].import_requirements`',
      '`projects[0].delete_source_branch_on_merge`',
      '`projects[0].repo_locking`',
      '`projects[0].repo_locks`',
      '`projects[0].custom_policy_check`',
      '`projects[0].silence_pr_comments`',
      '`projects[0].terraform_version`',
    ]) {
      expect(warned).toContain(key);
    }
    expect(config.warnings).toHaveLength(10);
    expect(config.projects[0]?.planRequirements).toEqual(['mergeable', 'approved', 'undiverged']);
  });

  it.each([
    ['version only', 'version: 3\n', { projects: [], workflows: {}, automerge: false, parallelPlan: false, parallelApply: false, autodiscover: { mode: 'auto', ignorePaths: [] } }],
    ['empty collections written as nothing', 'version: 3\nprojects:\nworkflows:\n', { projects: [], workflows: {} }],
  ])('applies defaults: %s', (_, text, expected) => {
    expect(configOf(parseRepoConfig(text, 'tideline.yaml', root))).toMatchObject(expected);
  });

  it('reads an empty workspace as default, as Atlantis does', () => {
    const config = configOf(parseRepoConfig('version: 3\nprojects:\n  - dir: app\n    workspace: ""\n', 'atlantis.yaml', root));
    expect(config.projects.map((project) => project.workspace)).toEqual(['default']);
    const clash = parseRepoConfig('version: 3\nprojects:\n  - dir: app\n    workspace: ""\n  - dir: app\n', 'atlantis.yaml', root);
    expect(clash.ok ? [] : clash.problems.map((problem) => problem.path)).toEqual(['projects[1]']);
  });

  it("reads Atlantis's custom_regex run step outputs with their regex_filter", () => {
    const text = 'version: 3\nworkflows:\n  w:\n    plan:\n      steps:\n        - run: { command: ./plan.sh, output: custom_regex, regex_filter: "secret=\\\\S+" }\n        - run: { command: ./show.sh, output: strip_refreshing_with_custom_regex, regex_filter: "arn:[^ ]+" }\n';
    const config = configOf(parseRepoConfig(text, 'atlantis.yaml', root));
    expect(config.workflows['w']?.plan).toEqual([
      { kind: 'run', command: './plan.sh', output: 'custom_regex', regexFilter: 'secret=\\S+' },
      { kind: 'run', command: './show.sh', output: 'strip_refreshing_with_custom_regex', regexFilter: 'arn:[^ ]+' },
    ]);
  });

  it('gives a workflow with no stages the default steps', () => {
    const config = configOf(parseRepoConfig('version: 3\nworkflows:\n  empty:\n  applies-only:\n    apply:\n      steps: [run: ./apply.sh]\n', 'tideline.yaml', root));
    expect(config.workflows['empty']).toEqual({ plan: [{ kind: 'init', extraArgs: [] }, { kind: 'plan', extraArgs: [] }], apply: [{ kind: 'apply', extraArgs: [] }] });
    expect(config.workflows['applies-only']?.apply).toEqual([{ kind: 'run', command: './apply.sh', output: 'show' }]);
  });
});

describe('readRepoConfig', () => {
  function checkout(files: Record<string, string>): string {
    const dir = mkdtempSync(join(root, 'checkout-'));
    for (const [path, text] of Object.entries(files)) {
      mkdirSync(join(dir, path, '..'), { recursive: true });
      writeFileSync(join(dir, path), text);
    }
    return dir;
  }

  it('answers null when the repository has no repo config', () => {
    expect(readRepoConfig(checkout({ 'main.tf': '' }))).toEqual({ ok: true, config: null });
  });

  it('reads atlantis.yaml as it is when there is no tideline.yaml', () => {
    expect(configOf(readRepoConfig(checkout({ 'atlantis.yaml': 'version: 3\nprojects: [{ dir: a }]\n' }))).file).toBe('atlantis.yaml');
  });

  it('prefers tideline.yaml and says atlantis.yaml was ignored', () => {
    const config = configOf(readRepoConfig(checkout({ 'tideline.yaml': 'version: 3\n', 'atlantis.yaml': 'version: 3\nprojects: [{ dir: a }]\n' })));
    expect(config.file).toBe('tideline.yaml');
    expect(config.projects).toEqual([]);
    expect(config.warnings).toEqual(['atlantis.yaml is ignored because tideline.yaml exists: delete one of them']);
  });

  it('names the file and the line of malformed YAML', () => {
    const result = readRepoConfig(checkout({ 'tideline.yaml': 'version: 3\nprojects:\n  - dir: a\n    workspace: [unclosed\n' }));
    expect(result.ok).toBe(false);
    expect(!result.ok && result.file).toBe('tideline.yaml');
    expect(!result.ok && result.problems).toEqual([{ path: '', line: expect.any(Number), message: expect.stringMatching(/^is not valid YAML at line \d+ \(.+\): fix the YAML on that line$/) }]);
  });

  it('does not silently skip a tideline.yml', () => {
    const result = readRepoConfig(checkout({ 'tideline.yml': 'version: 3\n' }));
    expect(result).toEqual({ ok: false, file: 'tideline.yml', problems: [{ path: '', message: 'is not read (only the .yaml spelling is): rename it to tideline.yaml' }] });
  });

  it('refuses an atlantis.yml rather than skip it, as Atlantis does', () => {
    const result = readRepoConfig(checkout({ 'atlantis.yml': 'version: 3\n' }));
    expect(result).toEqual({ ok: false, file: 'atlantis.yml', problems: [{ path: '', message: 'is not read (only the .yaml spelling is): rename it to atlantis.yaml' }] });
  });

  it("reads the server's repo_config_file instead of atlantis.yaml", () => {
    const dir = checkout({ 'atlantis.yaml': 'version: 3\nprojects: [{ dir: root }]\n', 'infra/atlantis.yaml': 'version: 3\nprojects: [{ dir: a }]\n' });
    const config = configOf(readRepoConfig(dir, { atlantisFile: 'infra/atlantis.yaml' }));
    expect(config.file).toBe('infra/atlantis.yaml');
    expect(config.projects.map((project) => project.dir)).toEqual(['a']);
    expect(readRepoConfig(checkout({ 'atlantis.yaml': 'version: 3\n' }), { atlantisFile: 'infra/atlantis.yaml' })).toEqual({ ok: true, config: null });
  });

  it('still prefers tideline.yaml over the repo_config_file', () => {
    const dir = checkout({ 'tideline.yaml': 'version: 3\n', 'ci/atlantis.yaml': 'version: 3\nprojects: [{ dir: a }]\n' });
    const config = configOf(readRepoConfig(dir, { atlantisFile: 'ci/atlantis.yaml' }));
    expect(config.file).toBe('tideline.yaml');
    expect(config.warnings).toEqual(['ci/atlantis.yaml is ignored because tideline.yaml exists: delete one of them']);
  });

  it('refuses a repo_config_file that leads outside the checkout through a symlink', () => {
    const dir = checkout({});
    const outside = mkdtempSync(join(tmpdir(), 'tideline-outside-'));
    writeFileSync(join(outside, 'atlantis.yaml'), 'version: 3\n');
    symlinkSync(outside, join(dir, 'out'));
    const result = readRepoConfig(dir, { atlantisFile: 'out/atlantis.yaml' });
    expect(result).toEqual({ ok: false, file: 'out/atlantis.yaml', problems: [{ path: '', message: expect.stringContaining('leads outside the repository') }] });
    rmSync(outside, { recursive: true, force: true });
  });
});
