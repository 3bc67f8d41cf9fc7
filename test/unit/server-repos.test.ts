import { describe, expect, it } from 'vitest';
import { effectiveRules, hooksFor, parseServerRepoConfig } from '../../config/server-repos.js';
import type { ServerRepoConfig } from '../../config/server-repos.js';

const FILE = '/etc/tideline.yaml';

// A server config file as an operator writes it: settings, then repo rules and workflows.
const SERVER_YAML = `
port: 4141
repo_allowlist: [acme/*]
drift_schedule: "0 */6 * * *"
repos:
  - id: /.*/
    apply_requirements: [approved]
    allow_custom_workflows: true
  - id: acme/infra
    apply_requirements: []
    allowed_overrides: [workflow, apply_requirements]
  - id: /^acme\\/platform-.*/
    workflow: terragrunt
    allowed_overrides: [workflow, drift]
    allowed_workflows: [terragrunt, default]
    drift:
      schedule: "0 3 * * *"
      remediate: true
  - id: github.com/acme/legacy
    branch: /^(main|master)$/
    apply_requirements: [approved, mergeable, undiverged]
    pre_workflow_hooks:
      - run: ./generate-atlantis-yaml.sh
  - id: /(?i)^ACME\\/SHOUTY$/
    autodiscover:
      mode: disabled
    repo_config_file: ./ci//atlantis.yaml
workflows:
  terragrunt:
    plan:
      steps:
        - env: { name: TERRAGRUNT_TFPATH, value: terraform }
        - run: terragrunt plan -input=false -out=$PLANFILE
    apply:
      steps:
        - run: terragrunt apply -input=false $PLANFILE
`;

function parsed(text: string): ServerRepoConfig {
  const result = parseServerRepoConfig(text, FILE);
  if (!result.ok) throw new Error(JSON.stringify(result.problems, null, 2));
  return result.config;
}

describe('parseServerRepoConfig', () => {
  it('reads repos and workflows and leaves the other sections alone', () => {
    const config = parsed(SERVER_YAML);
    expect(config.rules.map((rule) => (rule.id instanceof RegExp ? `/${rule.id.source}/${rule.id.flags}` : rule.id))).toEqual([
      '/.*/',
      'acme/infra',
      '/^acme\\/platform-.*/',
      'github.com/acme/legacy',
      '/^ACME\\/SHOUTY$/i',
    ]);
    expect(config.rules[1]).toMatchObject({ applyRequirements: [], allowedOverrides: ['workflow', 'apply_requirements'], origin: `repos[1] in ${FILE} line 9` });
    expect(config.workflows['terragrunt']).toEqual({
      plan: [
        { kind: 'env', name: 'TERRAGRUNT_TFPATH', value: 'terraform' },
        { kind: 'run', command: 'terragrunt plan -input=false -out=$PLANFILE', output: 'show' },
      ],
      apply: [{ kind: 'run', command: 'terragrunt apply -input=false $PLANFILE', output: 'show' }],
    });
    expect(config.rules[3]?.preWorkflowHooks).toEqual([{ run: './generate-atlantis-yaml.sh' }]);
    expect(config.warnings).toEqual([]);
  });

  it('reads workflow hooks with their description, shell, shellArgs and commands', () => {
    const text = 'repos:\n  - id: /.*/\n    pre_workflow_hooks:\n      - run: ./gen.sh\n        description: Generating configs\n        shell: bash\n        shellArgs: -cv\n        commands: plan, apply\n    post_workflow_hooks:\n      - run: ./report.sh\n        commands: [autoplan]\n';
    const config = parsed(text);
    expect(config.rules[0]?.preWorkflowHooks).toEqual([{ run: './gen.sh', description: 'Generating configs', shell: 'bash', shellArgs: ['-cv'], commands: ['plan', 'apply'] }]);
    expect(config.rules[0]?.postWorkflowHooks).toEqual([{ run: './report.sh', commands: ['autoplan'] }]);
  });

  it('appends the hooks of every matching entry, pre hooks ignoring branch as in Atlantis', () => {
    const text = 'repos:\n  - id: /.*/\n    branch: /^release$/\n    pre_workflow_hooks: [{ run: a }]\n    post_workflow_hooks: [{ run: c }]\n  - id: acme/infra\n    pre_workflow_hooks: [{ run: b, commands: apply }]\n    post_workflow_hooks: [{ run: d }]\n';
    const { rules } = parsed(text);
    const runs = (when: 'pre' | 'post', command: string): string[] => hooksFor(rules, when, command, 'acme/infra', { baseBranch: 'main' }).map((hook) => hook.run);
    expect(runs('pre', 'plan')).toEqual(['a']);
    expect(runs('pre', 'apply')).toEqual(['a', 'b']);
    expect(runs('post', 'plan')).toEqual(['d']);
  });

  it('refuses a hook without run, or for a command hooks do not know', () => {
    const result = parseServerRepoConfig('repos:\n  - id: /.*/\n    pre_workflow_hooks:\n      - description: x\n      - run: y\n        commands: plna\n', FILE);
    expect(result.ok).toBe(false);
    const problems = result.ok ? [] : result.problems.map((p) => `${p.variable}: ${p.message}`);
    expect(problems).toEqual([
      expect.stringMatching(/^repos\[0\]\.pre_workflow_hooks\[0\]\.run in .* line 4: is required/),
      expect.stringMatching(/^repos\[0\]\.pre_workflow_hooks\[1\]\.commands\[0\] in .*: is not a command a hook can run for/),
    ]);
  });

  it("warns about Atlantis's metrics and team_authz sections, which Tideline does not act on", () => {
    const config = parsed('repos: []\nmetrics:\n  statsd: { host: localhost, port: "8125" }\nteam_authz:\n  command: ./authz.sh\n');
    expect(config.warnings).toEqual([
      expect.stringMatching(/^`metrics` is not supported by Tideline and is ignored/),
      expect.stringMatching(/^`team_authz` is not supported by Tideline and is ignored: its command is never called/),
    ]);
  });

  it('reads a file without the sections as no rules', () => {
    expect(parsed('port: 4141\n')).toEqual({ rules: [], workflows: {}, warnings: [] });
    expect(parsed('')).toEqual({ rules: [], workflows: {}, warnings: [] });
  });

  it.each([
    ['a rule without id', 'repos:\n  - apply_requirements: [approved]\n', [`repos[0].id in ${FILE} line 2`], 'is required'],
    ['a regex that does not compile', 'repos:\n  - id: /acme(/\n', [`repos[0].id in ${FILE} line 2`], 'is not a valid regular expression'],
    ['an id that is neither exact nor regex', 'repos:\n  - id: acme\n', [`repos[0].id in ${FILE} line 2`], 'is neither an exact'],
    ['an unknown override', 'repos:\n  - id: /.*/\n    allowed_overrides: [workflows]\n', [`repos[0].allowed_overrides[0] in ${FILE} line 3`], 'is `workflows`: use apply_requirements, workflow, drift'],
    ['a misspelt key', 'repos:\n  - id: /.*/\n    allow_custom_workflow: true\n', [`repos[0].allow_custom_workflow in ${FILE} line 3`], 'did you mean `allow_custom_workflows`?'],
    ['an undefined workflow', 'repos:\n  - id: /.*/\n    workflow: missing\n', [`repos[0].workflow in ${FILE} line 3`], 'which is not defined'],
    ['an undefined allowed workflow', 'repos:\n  - id: /.*/\n    allowed_workflows: [default, missing]\n', [`repos[0].allowed_workflows[1] in ${FILE} line 3`], 'which is not defined'],
    ['a broken step', 'workflows:\n  w:\n    plan:\n      steps: [plna]\n', [`workflows.w.plan.steps[0] in ${FILE} line 4`], '`plna` is not a step'],
    ['a bad remediate flag', 'repos:\n  - id: /.*/\n    drift: { remediate: sure }\n', [`repos[0].drift.remediate in ${FILE} line 3`], 'write true or false'],
    ['repos as a mapping', 'repos:\n  id: /.*/\n', [`repos in ${FILE} line 1`], 'not a list of repository rules'],
    ['an absolute repo_config_file', 'repos:\n  - id: /.*/\n    repo_config_file: /etc/atlantis.yaml\n', [`repos[0].repo_config_file in ${FILE} line 3`], 'is an absolute path'],
    ['a repo_config_file with ..', 'repos:\n  - id: /.*/\n    repo_config_file: ci/../../x.yaml\n', [`repos[0].repo_config_file in ${FILE} line 3`], 'contains `..`'],
    ['a repo_config_file naming a directory', 'repos:\n  - id: /.*/\n    repo_config_file: ci/\n', [`repos[0].repo_config_file in ${FILE} line 3`], 'names no file'],
    ['malformed YAML', 'repos:\n  - id: /.*/\n   workflow: x\n', [`${FILE} line 3`], 'is not valid YAML'],
  ])('refuses %s, naming the key, the file and the line', (_, text, variables, message) => {
    const result = parseServerRepoConfig(text, FILE);
    expect(result.ok).toBe(false);
    const problems = result.ok ? [] : result.problems;
    expect(problems.map((problem) => problem.variable)).toEqual(variables);
    expect(problems[0]?.message).toContain(message);
  });
});

describe('effectiveRules', () => {
  const config = parsed(SERVER_YAML);

  it('applies every matching rule in order, the later one winning key by key', () => {
    const rules = effectiveRules(config, 'acme/infra');
    expect(rules).toEqual({
      applyRequirements: [], // from repos[1], over repos[0]'s [approved]
      planRequirements: [],
      allowCustomWorkflows: true, // from repos[0]: repos[1] leaves the key out
      allowedOverrides: ['workflow', 'apply_requirements'],
      allowedWorkflows: [],
      workflow: null,
      drift: {},
      autodiscoverMode: null,
      repoConfigFile: null,
      matched: [`repos[0] in ${FILE} line 6`, `repos[1] in ${FILE} line 9`],
    });
  });

  it('matches regex ids against owner/repo', () => {
    expect(effectiveRules(config, 'acme/platform-network')).toMatchObject({
      applyRequirements: ['approved'],
      workflow: 'terragrunt',
      allowedOverrides: ['workflow', 'drift'],
      allowedWorkflows: ['terragrunt', 'default'],
      drift: { schedule: '0 3 * * *', remediate: true },
    });
    expect(effectiveRules(config, 'acme/platformer').workflow).toBeNull();
  });

  it("matches Atlantis-style host/owner/repo ids, ignoring case as GitHub does", () => {
    expect(effectiveRules(config, 'Acme/Legacy').applyRequirements).toEqual(['approved', 'mergeable', 'undiverged']);
    expect(effectiveRules(config, 'acme/legacy', { host: 'ghe.example.com' }).applyRequirements).toEqual(['approved']);
  });

  it('honours a rule’s branch when the base branch is known', () => {
    expect(effectiveRules(config, 'acme/legacy', { baseBranch: 'master' }).applyRequirements).toEqual(['approved', 'mergeable', 'undiverged']);
    expect(effectiveRules(config, 'acme/legacy', { baseBranch: 'develop' }).applyRequirements).toEqual(['approved']);
  });

  it('reads a leading (?i) as a case-insensitive regex', () => {
    expect(effectiveRules(config, 'acme/shouty').autodiscoverMode).toBe('disabled');
  });

  it("gives the repo_config_file of the last matching rule, normalised, and null without one", () => {
    expect(effectiveRules(config, 'acme/shouty').repoConfigFile).toBe('ci/atlantis.yaml');
    expect(effectiveRules(config, 'acme/infra').repoConfigFile).toBeNull();
  });

  it('gives no requirements, overrides or custom workflows when nothing matches', () => {
    const rules = effectiveRules(parsed('repos:\n  - id: acme/infra\n    apply_requirements: [approved]\n'), 'other/repo');
    expect(rules).toEqual({
      applyRequirements: [],
      planRequirements: [],
      allowedOverrides: [],
      allowedWorkflows: [],
      allowCustomWorkflows: false,
      workflow: null,
      drift: {},
      autodiscoverMode: null,
      repoConfigFile: null,
      matched: [],
    });
  });

  it('does not let a caller mutate the rules through the result', () => {
    const rules = effectiveRules(config, 'acme/infra');
    rules.allowedOverrides.push('drift');
    expect(effectiveRules(config, 'acme/infra').allowedOverrides).toEqual(['workflow', 'apply_requirements']);
  });
});
