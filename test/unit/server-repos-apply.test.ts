import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { applyServerRules, effectiveRules, parseRepoConfig, parseServerRepoConfig } from '../../server/projects/index.js';
import type { ApplyServerRulesResult, ConfigProblem, EffectiveRepoRules, RepoConfig, ServerRepoConfig } from '../../server/projects/index.js';

const root = mkdtempSync(join(tmpdir(), 'tideline-server-rules-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

function server(text: string): ServerRepoConfig {
  const result = parseServerRepoConfig(text, '/etc/tideline.yaml');
  if (!result.ok) throw new Error(JSON.stringify(result.problems));
  return result.config;
}

function repo(text: string): RepoConfig {
  const result = parseRepoConfig(text, 'tideline.yaml', root);
  if (!result.ok || result.config === null) throw new Error(JSON.stringify(result));
  return result.config;
}

function apply(repoText: string, serverText: string, repoName = 'acme/infra'): ApplyServerRulesResult {
  const config = server(serverText);
  const rules: EffectiveRepoRules = effectiveRules(config, repoName);
  return applyServerRules(repo(repoText), rules, config.workflows);
}

function problems(result: ApplyServerRulesResult): ConfigProblem[] {
  if (result.ok) throw new Error('expected problems');
  return result.problems;
}

const SERVER_WORKFLOWS = `
workflows:
  terragrunt:
    plan: { steps: [{ run: terragrunt plan }] }
    apply: { steps: [{ run: terragrunt apply }] }
`;

describe('applyServerRules refuses restricted keys the server does not allow', () => {
  it.each([
    [
      'a project workflow',
      'version: 3\nprojects:\n  - dir: a\n    workflow: terragrunt\n',
      'repos:\n  - id: /.*/\n' + SERVER_WORKFLOWS,
      [{ path: 'projects[0].workflow', line: 4, message: 'repo config may not set `workflow`: the server config needs `allowed_overrides: [workflow]` for this repository' }],
    ],
    [
      'project apply requirements',
      'version: 3\nprojects:\n  - dir: a\n    apply_requirements: []\n',
      'repos:\n  - id: /.*/\n    apply_requirements: [approved]\n',
      [{ path: 'projects[0].apply_requirements', line: 4, message: 'repo config may not set `apply_requirements`: the server config needs `allowed_overrides: [apply_requirements]` for this repository' }],
    ],
    [
      'project plan requirements, as Atlantis restricts them',
      'version: 3\nprojects:\n  - dir: a\n    plan_requirements: []\n',
      'repos:\n  - id: /.*/\n    plan_requirements: [approved]\n',
      [{ path: 'projects[0].plan_requirements', line: 4, message: 'repo config may not set `plan_requirements`: the server config needs `allowed_overrides: [plan_requirements]` for this repository' }],
    ],
    [
      'repo-defined workflows',
      'version: 3\nworkflows:\n  mine:\n    plan: { steps: [init, plan] }\n',
      'repos:\n  - id: /.*/\n    allowed_overrides: [workflow]\n',
      [{ path: 'workflows', line: 2, message: 'repo config may not define workflows: the server config needs `allow_custom_workflows: true` for this repository' }],
    ],
    [
      'drift, at the top and on a project',
      'version: 3\ndrift: { remediate: true }\nprojects:\n  - dir: a\n    drift: { enabled: false }\n',
      'repos:\n  - id: /.*/\n',
      [
        { path: 'drift', line: 2, message: 'repo config may not set `drift`: the server config needs `allowed_overrides: [drift]` for this repository' },
        { path: 'projects[0].drift', line: 5, message: 'repo config may not set `drift`: the server config needs `allowed_overrides: [drift]` for this repository' },
      ],
    ],
    [
      'a workflow defined nowhere',
      'version: 3\nprojects:\n  - dir: a\n    workflow: nope\n',
      'repos:\n  - id: /.*/\n    allowed_overrides: [workflow]\n' + SERVER_WORKFLOWS,
      [{ path: 'projects[0].workflow', line: 4, message: 'names workflow `nope`, which is defined neither in this file nor in the server config: define it under `workflows:` or use one of `default`, `terragrunt`' }],
    ],
    [
      'a workflow outside allowed_workflows',
      'version: 3\nprojects:\n  - dir: a\n    workflow: terragrunt\n',
      'repos:\n  - id: /.*/\n    allowed_overrides: [workflow]\n    allowed_workflows: [default]\n' + SERVER_WORKFLOWS,
      [{ path: 'projects[0].workflow', line: 4, message: expect.stringContaining("may not use workflow `terragrunt`: the server config's `allowed_workflows` for this repository is [default]") }],
    ],
  ])('%s', (_, repoText, serverText, expected) => {
    expect(problems(apply(repoText, serverText))).toEqual(expected);
  });

  it('refuses for one repository what a later matching rule allows another', () => {
    const serverText = 'repos:\n  - id: /.*/\n  - id: acme/infra\n    allowed_overrides: [workflow]\n' + SERVER_WORKFLOWS;
    const repoText = 'version: 3\nprojects:\n  - dir: a\n    workflow: terragrunt\n';
    expect(apply(repoText, serverText, 'acme/infra').ok).toBe(true);
    expect(apply(repoText, serverText, 'acme/other').ok).toBe(false);
  });
});

describe('applyServerRules settles effective settings', () => {
  const SERVER = `
repos:
  - id: /.*/
    apply_requirements: [approved]
    workflow: terragrunt
    allow_custom_workflows: true
  - id: acme/infra
    allowed_overrides: [workflow, apply_requirements, drift]
workflows:
  default:
    plan: { steps: [init, { plan: { extra_args: [-lock-timeout=5m] } }] }
  terragrunt:
    plan: { steps: [{ run: terragrunt plan }] }
    apply: { steps: [{ run: terragrunt apply }] }
`;
  const REPO = `
version: 3
drift: { remediate: true }
projects:
  - { name: uses-server-default, dir: a }
  - { name: overrides, dir: b, workflow: mine, apply_requirements: [approved, mergeable] }
  - { name: built-in, dir: c, workflow: default, apply_requirements: [] }
  - { name: manifests, dir: k8s, kind: kubernetes }
workflows:
  mine:
    plan: { steps: [{ env: { name: X, value: "1" } }, init, plan] }
`;

  it("gives each project the server's value unless the repo may override it and does", () => {
    const result = apply(REPO, SERVER);
    if (!result.ok) throw new Error(JSON.stringify(result.problems));
    expect(result.projects.map((p) => [p.name, p.workflow, p.applyRequirements])).toEqual([
      ['uses-server-default', 'terragrunt', ['approved']],
      ['overrides', 'mine', ['approved', 'mergeable']],
      ['built-in', 'default', []],
      ['manifests', undefined, ['approved']], // kubernetes projects run no workflow
    ]);
    expect(result.defaults).toEqual({ applyRequirements: ['approved'], planRequirements: [], workflow: 'terragrunt' });
  });

  it("gives each project the server's plan requirements unless the repo may override them and does", () => {
    const server = 'repos:\n  - id: /.*/\n    plan_requirements: [approved, undiverged]\n    allowed_overrides: [plan_requirements]\n';
    const result = apply('version: 3\nprojects:\n  - { name: a, dir: a }\n  - { name: b, dir: b, plan_requirements: [mergeable] }\n  - { name: c, dir: c, plan_requirements: [] }\n', server);
    if (!result.ok) throw new Error(JSON.stringify(result.problems));
    expect(result.projects.map((p) => [p.name, p.planRequirements])).toEqual([
      ['a', ['approved', 'undiverged']],
      ['b', ['mergeable']],
      ['c', undefined],
    ]);
    expect(result.defaults.planRequirements).toEqual(['approved', 'undiverged']);
  });

  it('resolves every usable workflow: the server’s default replacing the built-in, server ones, repo ones', () => {
    const result = apply(REPO, SERVER);
    if (!result.ok) throw new Error(JSON.stringify(result.problems));
    expect(Object.keys(result.workflows).sort()).toEqual(['default', 'mine', 'terragrunt']);
    expect(result.workflows['default']?.plan[1]).toEqual({ kind: 'plan', extraArgs: ['-lock-timeout=5m'] });
    expect(result.workflows['mine']?.plan[0]).toEqual({ kind: 'env', name: 'X', value: '1' });
    expect(result.workflows['mine']?.apply).toEqual([{ kind: 'apply', extraArgs: [] }]);
  });

  it('has the built-in default workflow and the server defaults when the repository has no config', () => {
    const result = applyServerRules(null, effectiveRules(server('repos: []\n'), 'acme/x'), {});
    expect(result).toEqual({
      ok: true,
      projects: [],
      workflows: { default: { plan: [{ kind: 'init', extraArgs: [] }, { kind: 'plan', extraArgs: [] }], apply: [{ kind: 'apply', extraArgs: [] }] } },
      defaults: { applyRequirements: [], planRequirements: [], workflow: 'default' },
    });
  });

  it('does not change the repo config it was given', () => {
    const config = repo(REPO);
    const before = JSON.stringify(config);
    const serverConfig = server(SERVER);
    applyServerRules(config, effectiveRules(serverConfig, 'acme/infra'), serverConfig.workflows);
    expect(JSON.stringify(config)).toBe(before);
  });
});
