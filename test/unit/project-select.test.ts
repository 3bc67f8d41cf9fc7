import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { allProjects, parseRepoConfig, projectKey, selectProjects } from '../../server/projects/index.js';
import type { Project, RepoConfig, SelectProjectsInput } from '../../server/projects/index.js';

const base = mkdtempSync(join(tmpdir(), 'tideline-select-'));
afterAll(() => rmSync(base, { recursive: true, force: true }));

function checkout(files: Record<string, string>): string {
  const root = mkdtempSync(join(base, 'repo-'));
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), text);
  }
  return root;
}

function moduleCall(name: string, source: string): string {
  return `module "${name}" {\n  source = "${source}"\n}\n`;
}

// Three projects; network and compute share modules/net, which calls modules/base; edge uses modules/dns.
const MONOREPO: Record<string, string> = {
  'modules/base/main.tf': 'variable "name" {}\n',
  'modules/net/main.tf': moduleCall('base', '../base') + 'resource "terraform_data" "net" {}\n',
  'modules/dns/main.tf': 'resource "terraform_data" "dns" {}\n',
  'projects/network/main.tf': moduleCall('net', '../../modules/net'),
  'projects/network/variables.tf': 'variable "cidr" { default = "10.0.0.0/16" }\n',
  'projects/compute/main.tf': `terraform {\n  backend "local" {}\n}\n${moduleCall('net', '../../modules/net/')}`,
  'projects/edge/main.tf': moduleCall('dns', '../../modules/dns'),
  'projects/edge/templates/cloud-init.tftpl': '#cloud-config\n',
  'k8s/apps/deploy.yaml': 'apiVersion: apps/v1\nkind: Deployment\n',
  'docs/README.md': '# infra\n',
};

function config(root: string, text: string): RepoConfig {
  const result = parseRepoConfig(text, 'tideline.yaml', root);
  if (!result.ok || result.config === null) throw new Error(JSON.stringify(result));
  return result.config;
}

function selected(input: SelectProjectsInput): string[] {
  const result = selectProjects(input);
  return result.projects.map((project) => `${project.name ?? project.dir}@${project.workspace}: ${result.reasons.get(projectKey(project)) ?? '?'}`);
}

describe('selectProjects without a repo config (autodiscovery)', () => {
  const root = checkout(MONOREPO);

  it.each([
    ['a shared module plans its two users, not the third', ['modules/net/main.tf'], ['projects/compute@default: module modules/net changed', 'projects/network@default: module modules/net changed']],
    [
      'a module used through another module plans its users transitively',
      ['modules/base/main.tf'],
      ['projects/compute@default: module modules/base changed (used through modules/net)', 'projects/network@default: module modules/base changed (used through modules/net)'],
    ],
    ['a root module’s own file plans it', ['projects/edge/main.tf'], ['projects/edge@default: projects/edge/main.tf changed']],
    ['a template in a subdirectory belongs to the Terraform dir above it', ['projects/edge/templates/cloud-init.tftpl'], ['projects/edge@default: projects/edge/templates/cloud-init.tftpl changed']],
    ['a tfvars file under an env/ dir plans the project above it', ['projects/network/env/prod.tfvars'], ['projects/network@default: projects/network/env/prod.tfvars changed']],
    ['files that are not Terraform plan nothing', ['docs/README.md', 'k8s/apps/deploy.yaml', 'projects/edge/README.md'], []],
    ['a removed directory plans nothing', ['projects/gone/main.tf'], []],
    [
      'several changes, each project once, in order',
      ['projects/network/variables.tf', 'modules/dns/main.tf', './projects/network/main.tf', 'modules/net/main.tf'],
      ['projects/compute@default: module modules/net changed', 'projects/edge@default: module modules/dns changed', 'projects/network@default: projects/network/main.tf changed'],
    ],
  ])('%s', (_, changedFiles, expected) => {
    expect(selected({ checkoutRoot: root, changedFiles, config: null })).toEqual(expected);
  });

  it('stamps the server defaults on discovered projects', () => {
    const result = selectProjects({ checkoutRoot: root, changedFiles: ['projects/edge/main.tf'], config: null, defaults: { applyRequirements: ['approved'], workflow: 'default' } });
    expect(result.projects).toEqual([{ dir: 'projects/edge', workspace: 'default', kind: 'terraform', applyRequirements: ['approved'], workflow: 'default' }]);
  });

  it('lists every root module as a project, and no module', () => {
    expect(allProjects(root, null).map((project) => project.dir)).toEqual(['projects/compute', 'projects/edge', 'projects/network']);
  });

  it('ignores changed paths that leave the checkout', () => {
    expect(selected({ checkoutRoot: root, changedFiles: ['../projects/edge/main.tf', '/etc/main.tf'], config: null })).toEqual([]);
  });
});

describe('selectProjects with a repo config', () => {
  const root = checkout(MONOREPO);
  const DECLARED = `
version: 3
projects:
  - { name: network, dir: projects/network }
  - { name: compute-staging, dir: projects/compute, workspace: staging }
  - { name: compute-prod, dir: projects/compute, workspace: production, branch: /^main$/ }
  - name: edge
    dir: projects/edge
    autoplan: { when_modified: ["*.tf", "templates/**", "../../docs/*.md", "!templates/README.md"] }
  - { name: quiet, dir: modules/dns, autoplan: { enabled: false } }
  - { name: apps, dir: k8s/apps, kind: kubernetes }
  - { name: ghost, dir: projects/ghost }
`;
  const declared = config(root, DECLARED);

  it.each([
    [
      'a shared module plans its users in every workspace, not the third project',
      ['modules/net/main.tf'],
      ['compute-prod@production: module modules/net changed', 'compute-staging@staging: module modules/net changed', 'network@default: module modules/net changed'],
    ],
    [
      'a transitive module change reaches the same users',
      ['modules/base/main.tf'],
      [
        'compute-prod@production: module modules/base changed (used through modules/net)',
        'compute-staging@staging: module modules/base changed (used through modules/net)',
        'network@default: module modules/base changed (used through modules/net)',
      ],
    ],
    ['when_modified globs are relative to the project dir', ['docs/guide.md'], ['edge@default: when_modified matched docs/guide.md']],
    ['a negated glob excludes again', ['projects/edge/templates/README.md'], []],
    ['any file under a kubernetes project plans it', ['k8s/apps/deploy.yaml'], ['apps@default: when_modified matched k8s/apps/deploy.yaml']],
    ['autoplan disabled is not planned automatically, nor through its modules', ['modules/dns/main.tf'], ['edge@default: module modules/dns changed']],
    ['an undeclared root module is not discovered when projects are declared', ['projects/undeclared/main.tf'], []],
  ])('%s', (_, changedFiles, expected) => {
    expect(selected({ checkoutRoot: root, changedFiles, config: declared })).toEqual(expected);
  });

  it('plans an autoplan-disabled project for a bare plan command, as Atlantis does', () => {
    expect(selected({ checkoutRoot: root, changedFiles: ['modules/dns/main.tf'], config: declared, trigger: 'command' })).toEqual([
      'quiet@default: when_modified matched modules/dns/main.tf',
      'edge@default: module modules/dns changed',
    ]);
  });

  it('leaves out projects whose branch regex does not match the base branch', () => {
    const names = (baseBranch: string): (string | undefined)[] =>
      selectProjects({ checkoutRoot: root, changedFiles: ['projects/compute/main.tf'], config: declared, baseBranch }).projects.map((p) => p.name);
    expect(names('main')).toEqual(['compute-prod', 'compute-staging']);
    expect(names('release')).toEqual(['compute-staging']);
  });

  it('honours the (?i) flag of a branch regex, as Atlantis (Go regexp) does', () => {
    const insensitive = config(root, 'version: 3\nprojects:\n  - { name: edge, dir: projects/edge, branch: "/(?i)^main$/" }\n');
    const names = (baseBranch: string): (string | undefined)[] =>
      selectProjects({ checkoutRoot: root, changedFiles: ['projects/edge/main.tf'], config: insensitive, baseBranch }).projects.map((p) => p.name);
    expect(names('Main')).toEqual(['edge']);
    expect(names('release')).toEqual([]);
  });

  it('skips a declared project whose directory does not exist', () => {
    expect(selected({ checkoutRoot: root, changedFiles: ['projects/ghost/main.tf'], config: declared })).toEqual([]);
  });

  it('uses the projects given (after applyServerRules) instead of the config’s', () => {
    const projects: Project[] = [{ name: 'only', dir: 'projects/edge', workspace: 'default', kind: 'terraform', workflow: 'custom' }];
    const result = selectProjects({ checkoutRoot: root, changedFiles: ['projects/edge/main.tf'], config: declared, projects });
    expect(result.projects).toEqual(projects);
  });

  it('discovers undeclared root modules too with autodiscover enabled, the declared config winning', () => {
    const mixed = config(root, 'version: 3\nautodiscover: { mode: enabled }\nprojects:\n  - { name: net-prod, dir: projects/network, workspace: prod }\n');
    expect(selected({ checkoutRoot: root, changedFiles: ['modules/net/main.tf'], config: mixed })).toEqual([
      'projects/compute@default: module modules/net changed',
      'net-prod@prod: module modules/net changed',
    ]);
    expect(allProjects(root, mixed).map((p) => `${p.dir}@${p.workspace}`)).toEqual(['projects/compute@default', 'projects/edge@default', 'projects/network@prod']);
  });

  it('discovers nothing with autodiscover disabled, by the repo or by the server', () => {
    const none = config(root, 'version: 3\nautodiscover: { mode: disabled }\n');
    expect(selected({ checkoutRoot: root, changedFiles: ['projects/edge/main.tf'], config: none })).toEqual([]);
    expect(selected({ checkoutRoot: root, changedFiles: ['projects/edge/main.tf'], config: null, autodiscover: 'disabled' })).toEqual([]);
  });

  it('respects autodiscover.ignore_paths, still counting the modules ignored dirs use', () => {
    const ignoring = config(root, 'version: 3\nautodiscover: { ignore_paths: ["projects/edge"] }\n');
    expect(allProjects(root, ignoring).map((p) => p.dir)).toEqual(['projects/compute', 'projects/network']);
    expect(selected({ checkoutRoot: root, changedFiles: ['projects/edge/main.tf', 'modules/dns/main.tf'], config: ignoring })).toEqual([]);
  });
});

describe('selectProjects reading Terraform', () => {
  it('follows module calls in .tf.json files', () => {
    const root = checkout({ 'modules/m/main.tf': '', 'app/main.tf.json': JSON.stringify({ module: { m: { source: '../modules/m' } } }) });
    expect(selected({ checkoutRoot: root, changedFiles: ['modules/m/main.tf'], config: null })).toEqual(['app@default: module modules/m changed']);
  });

  it('reports a file it cannot read as a warning and still selects by its other files', () => {
    const root = checkout({ 'modules/m/main.tf': '', 'app/main.tf': moduleCall('m', '../modules/m'), 'app/broken.tf': 'module "other" {\n  source = "./other"\n' });
    const result = selectProjects({ checkoutRoot: root, changedFiles: ['modules/m/main.tf'], config: null });
    expect(result.projects.map((p) => p.dir)).toEqual(['app']);
    expect(result.warnings).toEqual([expect.stringMatching(/^app\/broken\.tf is not valid HCL \(.*\): its module calls are not followed$/)]);
  });

  it('does not loop on module calls that form a cycle', () => {
    const root = checkout({ 'a/main.tf': moduleCall('b', '../b'), 'b/main.tf': moduleCall('a', '../a'), 'app/main.tf': moduleCall('a', '../a') });
    expect(selected({ checkoutRoot: root, changedFiles: ['b/main.tf'], config: null })).toEqual(['app@default: module b changed (used through a)']);
  });

  it('does not read a module through a symlink that leaves the checkout', () => {
    const outside = checkout({ 'main.tf': moduleCall('x', './x') });
    const root = checkout({ 'app/main.tf': moduleCall('ext', '../ext') });
    symlinkSync(outside, join(root, 'ext'));
    expect(selected({ checkoutRoot: root, changedFiles: ['ext/main.tf'], config: null })).toEqual([]);
  });
});
