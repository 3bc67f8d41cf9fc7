import { mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseRepoConfig } from '../../server/projects/index.js';
import type { ConfigProblem } from '../../server/projects/index.js';

const root = mkdtempSync(join(tmpdir(), 'tideline-repo-invalid-'));
mkdirSync(join(root, 'inside'));
symlinkSync(tmpdir(), join(root, 'escape'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

function problemsOf(text: string): ConfigProblem[] {
  const result = parseRepoConfig(text, 'tideline.yaml', root);
  if (result.ok) throw new Error('expected problems, got a config');
  expect(result.file).toBe('tideline.yaml');
  return result.problems;
}

const WORKFLOW_STEPS = `version: 3
workflows:
  w:
    plan:
      steps:
        - plna
        - env: { name: A, value: x, command: y }
        - run: { output: hide }
        - init: { extra_arg: [-upgrade] }
        - run: { command: x, output: custom_regex }
        - env: { name: 9LIVES, value: x }
        - { init: {}, plan: {} }
`;

// file → every problem path, in order, and a piece of the first problem's message.
const INVALID: [string, string, string[], string][] = [
  ['no version', 'projects: []\n', ['version'], 'write `version: 3`'],
  ['version 2', 'version: 2\n', ['version'], 'is `2`: write `version: 3`'],
  ['a misspelt top-level key', 'version: 3\nproject:\n  - dir: a\n', ['project'], 'did you mean `projects`?'],
  ['a custom_regex output without regex_filter', 'version: 3\nworkflows:\n  w:\n    plan:\n      steps:\n        - run: { command: x, output: custom_regex }\n', ['workflows.w.plan.steps[0].run.output'], '`output: custom_regex` needs `regex_filter`'],
  ['a show step with extra_args', 'version: 3\nworkflows:\n  w:\n    plan:\n      steps:\n        - plan\n        - show: { extra_args: [-no-color] }\n', ['workflows.w.plan.steps[1].show.extra_args'], 'takes no arguments'],
  ['a regex_filter without a custom_regex output', 'version: 3\nworkflows:\n  w:\n    plan:\n      steps:\n        - run: { command: x, regex_filter: y }\n', ['workflows.w.plan.steps[0].run.regex_filter'], 'only applies with `output: custom_regex`'],
  ['a regex_filter that does not compile', 'version: 3\nworkflows:\n  w:\n    plan:\n      steps:\n        - run: { command: x, output: custom_regex, regex_filter: "a(" }\n', ['workflows.w.plan.steps[0].run.regex_filter'], 'is not a valid regular expression'],
  ['a top-level repo_locks mode Atlantis does not know', 'version: 3\nrepo_locks:\n  mode: on_plann\n', ['repo_locks.mode'], 'is `on_plann`: use disabled, on_plan or on_apply'],
  ['a top-level repo_locks that is not a mapping', 'version: 3\nrepo_locks: true\n', ['repo_locks'], 'not a mapping: write it like `repo_locks: { mode: on_plan }`'],
  ['a top-level silence_pr_comments stage Atlantis does not know', 'version: 3\nsilence_pr_comments: [plann]\n', ['silence_pr_comments[0]'], 'is `plann`: use plan or apply'],
  ['an emoji_reaction that is not text', 'version: 3\nemoji_reaction: [eyes]\n', ['emoji_reaction'], 'not an emoji name: write it like'],
  ['an unknown top-level key', 'version: 3\nfrobnicate: true\n', ['frobnicate'], 'remove it'],
  ['a misspelt project key', 'version: 3\nprojects:\n  - dir: a\n    worksapce: b\n', ['projects[0].worksapce'], 'did you mean `workspace`?'],
  ['a camelCase project key', 'version: 3\nprojects:\n  - dir: a\n    whenModified: []\n', ['projects[0].whenModified'], 'is not a valid key of a project'],
  ['a misspelt autoplan key', 'version: 3\nprojects:\n  - dir: a\n    autoplan: { when_modifed: ["*.tf"] }\n', ['projects[0].autoplan.when_modifed'], 'did you mean `when_modified`?'],
  ['a project without dir', 'version: 3\nprojects:\n  - name: a\n', ['projects[0].dir'], 'is required'],
  ['a dir leaving the repository', 'version: 3\nprojects:\n  - dir: ../outside\n', ['projects[0].dir'], 'leaves the repository'],
  ['an absolute dir', 'version: 3\nprojects:\n  - dir: /etc\n', ['projects[0].dir'], 'absolute path'],
  ['a dir escaping through a symlink', 'version: 3\nprojects:\n  - dir: escape\n', ['projects[0].dir'], 'through a symlink'],
  ['a missing dir under a symlink that escapes', 'version: 3\nprojects:\n  - dir: escape/not-there-yet\n', ['projects[0].dir'], 'through a symlink'],
  ['a glob dir', 'version: 3\nprojects:\n  - dir: envs/*\n', ['projects[0].dir'], 'does not expand yet'],
  ['a workspace with a slash', 'version: 3\nprojects:\n  - dir: a\n    workspace: a/b\n', ['projects[0].workspace'], 'may only contain'],
  ['a name with a space', 'version: 3\nprojects:\n  - dir: a\n    name: my project\n', ['projects[0].name'], 'may only contain'],
  ['two projects with one name', 'version: 3\nprojects:\n  - { dir: a, name: x }\n  - { dir: b, name: x }\n', ['projects[1].name'], 'is also the name of projects[0]'],
  [
    'one dir and workspace twice without names',
    'version: 3\nprojects:\n  - dir: a\n  - dir: ./a/\n    name: second\n',
    ['projects[1]'],
    'give every project sharing them a distinct `name`',
  ],
  ['depends_on naming nothing', 'version: 3\nprojects:\n  - { dir: a, name: app, depends_on: [netwrok] }\n  - { dir: b, name: network }\n', ['projects[0].depends_on[0]'], 'did you mean `network`?'],
  ['depends_on itself', 'version: 3\nprojects:\n  - { dir: a, name: app, depends_on: [app] }\n', ['projects[0].depends_on[0]'], 'cannot depend on itself'],
  [
    'a depends_on cycle',
    'version: 3\nprojects:\n  - { dir: a, name: a, depends_on: [c] }\n  - { dir: b, name: b, depends_on: [a] }\n  - { dir: c, name: c, depends_on: [b] }\n',
    ['projects[0].depends_on'],
    'forms a cycle `a` → `c` → `b` → `a`',
  ],
  [
    'depends_on a later group',
    'version: 3\nprojects:\n  - { dir: a, name: a, depends_on: [b], execution_order_group: 1 }\n  - { dir: b, name: b, execution_order_group: 2 }\n',
    ['projects[0].depends_on[0]'],
    'after this project',
  ],
  ['an unknown kind', 'version: 3\nprojects:\n  - { dir: a, kind: helm }\n', ['projects[0].kind'], 'is `helm`: use terraform or kubernetes'],
  ['a kubernetes key on a terraform project', 'version: 3\nprojects:\n  - { dir: a, namespace: apps, prune: true }\n', ['projects[0].namespace', 'projects[0].prune'], 'add `kind: kubernetes`'],
  ['a terraform key on a kubernetes project', 'version: 3\nprojects:\n  - { dir: a, kind: kubernetes, terraform_version: 1.6.0, workflow: w }\n', ['projects[0].terraform_version', 'projects[0].workflow'], 'does not apply to kubernetes projects'],
  ['a bad namespace', 'version: 3\nprojects:\n  - { dir: a, kind: kubernetes, namespace: Apps_1 }\n', ['projects[0].namespace'], 'Kubernetes namespace name'],
  ['an unknown apply requirement', 'version: 3\nprojects:\n  - { dir: a, apply_requirements: [approve] }\n', ['projects[0].apply_requirements[0]'], 'is `approve`: use approved, mergeable or undiverged'],
  ['a broken when_modified glob', 'version: 3\nprojects:\n  - dir: a\n    autoplan:\n      when_modified: ["[abc", "/abs"]\n', ['projects[0].autoplan.when_modified[0]', 'projects[0].autoplan.when_modified[1]'], 'without its `]`'],
  ['a fractional execution_order_group', 'version: 3\nprojects:\n  - { dir: a, execution_order_group: 1.5 }\n', ['projects[0].execution_order_group'], 'is `1.5`, not a whole number'],
  ['a version constraint', 'version: 3\nprojects:\n  - { dir: a, terraform_version: "~> 1.5" }\n', ['projects[0].terraform_version'], 'a constraint like ~> 1.5 is not accepted'],
  ['glob_file_match without a glob dir', 'version: 3\nprojects:\n  - { dir: a, glob_file_match: ["*.tf"] }\n', ['projects[0].glob_file_match'], 'does not expand yet'],
  ['a bad drift schedule', 'version: 3\ndrift:\n  schedule: "every hour"\n', ['drift.schedule'], 'is not a cron expression'],
  ['remediate on a project', 'version: 3\nprojects:\n  - { dir: a, drift: { remediate: true } }\n', ['projects[0].drift.remediate'], 'is not a valid key in `drift`'],
  ['a bad autodiscover mode', 'version: 3\nautodiscover:\n  mode: sometimes\n', ['autodiscover.mode'], 'auto, enabled or disabled'],
  ['a branch that is not a regex', 'version: 3\nprojects:\n  - { dir: a, branch: main }\n', ['projects[0].branch'], 'between slashes'],
  ['projects as a mapping', 'version: 3\nprojects:\n  a: { dir: a }\n', ['projects'], 'not a list of projects: write it like'],
  [
    'every broken step',
    WORKFLOW_STEPS,
    [
      'workflows.w.plan.steps[0]',
      'workflows.w.plan.steps[1].env',
      'workflows.w.plan.steps[2].run.command',
      'workflows.w.plan.steps[3].init.extra_arg',
      'workflows.w.plan.steps[4].run.output',
      'workflows.w.plan.steps[5].env.name',
      'workflows.w.plan.steps[6]',
    ],
    '`plna` is not a step',
  ],
  ['an unknown stage', 'version: 3\nworkflows:\n  w:\n    plans:\n      steps: [init]\n', ['workflows.w.plans'], 'did you mean `plan`?'],
  [
    'many problems at once, in file order',
    'version: 3\nprojects:\n  - dir: ../up\n    workspace: "a b"\n  - name: x\n    nme: y\nautomerge: maybe\n',
    ['projects[0].dir', 'projects[0].workspace', 'projects[1].dir', 'projects[1].nme', 'automerge'],
    'leaves the repository',
  ],
];

describe('parseRepoConfig refuses invalid files with every problem', () => {
  it.each(INVALID)('%s', (_, text, paths, firstMessage) => {
    const problems = problemsOf(text);
    expect(problems.map((problem) => problem.path)).toEqual(paths);
    expect(problems[0]?.message).toContain(firstMessage);
    for (const problem of problems) {
      expect(problem.message).toMatch(/: /); // every message says what is wrong, then the fix
      expect(problem.line).toEqual(expect.any(Number));
    }
  });

  it('places problems on the line of their key', () => {
    const problems = problemsOf('version: 3\nprojects:\n  - dir: a\n\n    worksapce: b\n');
    expect(problems).toEqual([
      { path: 'projects[0].worksapce', line: 5, message: expect.stringContaining('did you mean `workspace`?') },
    ]);
  });

  it.each([
    ['bad indentation', 'version: 3\nprojects:\n  - dir: a\n   workspace: b\n', 4],
    ['a duplicate key', 'version: 3\nprojects: []\nversion: 3\n', 3],
    ['an unclosed flow list', 'version: 3\nprojects: [\n', 3],
    ['a tab for indentation', 'version: 3\nprojects:\n\t- dir: a\n', 3],
  ])('names the line of malformed YAML: %s', (_, text, line) => {
    const problems = problemsOf(text);
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatchObject({ path: '', line });
    expect(problems[0]?.message).toMatch(new RegExp(`^is not valid YAML at line ${line} \\(`));
  });

  it.each([
    ['a list', '- dir: a\n'],
    ['a scalar', 'version 3\n'],
  ])('refuses a file that is %s', (_, text) => {
    expect(problemsOf(text)).toEqual([{ path: '', line: 1, message: 'must be a YAML mapping starting with `version: 3`' }]);
  });

  it('accepts a dir whose symlink stays inside the checkout', () => {
    symlinkSync(join(root, 'inside'), join(root, 'alias'));
    expect(parseRepoConfig('version: 3\nprojects:\n  - dir: alias\n', 'tideline.yaml', root).ok).toBe(true);
  });
});

describe('YAML anchors', () => {
  it('reads a thousand projects merged from one anchor', () => {
    const lines = ['version: 3', 'projects:', '  - &template', '    name: p0', '    dir: d0', '    autoplan: { when_modified: ["*.tf", "../modules/**/*.tf"] }'];
    for (let index = 1; index < 1000; index += 1) lines.push('  - <<: *template', `    name: p${index}`, `    dir: d${index}`);
    const result = parseRepoConfig(`${lines.join('\n')}\n`, 'tideline.yaml', root);
    expect(result.ok && result.config?.projects[999]).toMatchObject({ name: 'p999', dir: 'd999', autoplan: { enabled: true, whenModified: ['*.tf', '../modules/**/*.tf'] } });
  });

  it('refuses an alias bomb instead of expanding it', () => {
    const levels = ['a: &a ["x","x","x","x","x","x","x","x","x"]'];
    for (const [index, name] of ['b', 'c', 'd', 'e', 'f', 'g'].entries()) {
      const previous = String.fromCharCode(97 + index);
      levels.push(`${name}: &${name} [${Array.from({ length: 9 }, () => `*${previous}`).join(',')}]`);
    }
    expect(problemsOf(`version: 3\n${levels.join('\n')}\n`)).toEqual([
      { path: '', line: 1, message: 'expands its YAML anchors and aliases too many times: write the repeated parts out, or use fewer aliases' },
    ]);
  });
});

describe('terraform_distribution', () => {
  const where = mkdtempSync(join(tmpdir(), 'tideline-distribution-'));
  afterAll(() => rmSync(where, { recursive: true, force: true }));

  const config = (distribution: string): string => `version: 3\nprojects:\n  - dir: app\n    terraform_distribution: ${distribution}\n`;

  it('refuses opentofu on a Terraform server (the default), which would run it with terraform, naming the key, line and fix', () => {
    const result = parseRepoConfig(config('opentofu'), 'atlantis.yaml', where);
    expect(result).toEqual({
      ok: false,
      file: 'atlantis.yaml',
      problems: [{ path: 'projects[0].terraform_distribution', line: 4, message: expect.stringContaining("is `opentofu`, but this server's TIDELINE_TERRAFORM_BIN is Terraform") }],
    });
    expect(parseRepoConfig(config('opentofu'), 'atlantis.yaml', where, { terraformDistribution: 'terraform' }).ok).toBe(false);
  });

  it('refuses terraform on an OpenTofu server, the same way', () => {
    const result = parseRepoConfig(config('terraform'), 'atlantis.yaml', where, { terraformDistribution: 'opentofu' });
    expect(result).toMatchObject({ ok: false, problems: [{ path: 'projects[0].terraform_distribution', message: expect.stringContaining("is `terraform`, but this server's TIDELINE_TERRAFORM_BIN is OpenTofu") }] });
  });

  it('refuses opentofu on a server whose binary could not be told, saying so rather than that it runs Terraform', () => {
    const result = parseRepoConfig(config('opentofu'), 'atlantis.yaml', where, { terraformDistribution: null });
    expect(result).toMatchObject({ ok: false, problems: [{ path: 'projects[0].terraform_distribution', message: expect.stringContaining('could not tell at start-up whether TIDELINE_TERRAFORM_BIN is Terraform or OpenTofu') }] });
    if (!result.ok) expect(result.problems[0]?.message).not.toContain("this server's TIDELINE_TERRAFORM_BIN is Terraform");
    // Untold counts as Terraform, Atlantis's default: naming it is taken as before.
    expect(parseRepoConfig(config('terraform'), 'atlantis.yaml', where, { terraformDistribution: null }).ok).toBe(true);
  });

  it.each(['terraform', 'opentofu'] as const)('takes %s, unchanged and without a warning, on a server that runs it', (distribution) => {
    const result = parseRepoConfig(config(distribution), 'atlantis.yaml', where, { terraformDistribution: distribution });
    expect(result.ok).toBe(true);
    if (result.ok) expect(result.config?.warnings ?? []).toEqual([]);
  });
});
