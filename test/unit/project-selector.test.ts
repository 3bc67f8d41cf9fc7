import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseRepoConfig, projectsForSelector } from '../../server/projects/index.js';
import type { ProjectSelector } from '../../server/commands/types.js';
import type { RepoConfig } from '../../server/projects/index.js';

const root = mkdtempSync(join(tmpdir(), 'tideline-selector-'));
const outside = mkdtempSync(join(tmpdir(), 'tideline-outside-'));
afterAll(() => {
  rmSync(root, { recursive: true, force: true });
  rmSync(outside, { recursive: true, force: true });
});
for (const file of ['network/main.tf', 'compute/main.tf', 'adhoc/main.tf', 'docs/README.md']) {
  mkdirSync(dirname(join(root, file)), { recursive: true });
  writeFileSync(join(root, file), '');
}
writeFileSync(join(outside, 'main.tf'), '');
symlinkSync(outside, join(root, 'escape'));

const parsed = parseRepoConfig(
  `version: 3
projects:
  - { name: network, dir: network }
  - { name: compute-staging, dir: compute, workspace: staging }
  - { name: compute-prod, dir: compute, workspace: production }
`,
  'tideline.yaml',
  root,
);
if (!parsed.ok || parsed.config === null) throw new Error('fixture config is invalid');
const config: RepoConfig = parsed.config;

function pick(selector: ProjectSelector, withConfig: RepoConfig | null = config): string[] | string {
  const result = projectsForSelector(root, withConfig, withConfig?.projects ?? [], selector, { defaults: { applyRequirements: ['approved'], workflow: 'default' } });
  return result.ok ? result.projects.map((project) => `${project.name ?? project.dir}@${project.workspace}`) : result.message;
}

describe('projectsForSelector', () => {
  it.each<[string, ProjectSelector, string[] | string]>([
    ['-p selects a declared project by name', { project: 'compute-prod' }, ['compute-prod@production']],
    ['-p with a typo suggests the nearest name', { project: 'compute-pord' }, 'there is no project named `compute-pord` in tideline.yaml: did you mean `compute-prod`?'],
    ['-d selects the declared project at that dir in workspace default', { dir: 'network' }, ['network@default']],
    ['-d -w selects the declared project in that workspace', { dir: 'compute', workspace: 'staging' }, ['compute-staging@staging']],
    ['-d alone on a dir declared only for other workspaces asks for -w', { dir: 'compute' }, 'directory `compute` is declared in tideline.yaml for workspace `production`, `staging` only: add `-w production`'],
    [
      '-d -w with an undeclared workspace names the declared ones',
      { dir: 'compute', workspace: 'qa' },
      'directory `compute` is declared in tideline.yaml for workspace `production`, `staging` only, not `qa`: use one of those with `-w`, or declare a project for `qa`',
    ],
    ['-d on an undeclared Terraform dir makes an ad-hoc project', { dir: 'adhoc', workspace: 'qa' }, ['adhoc@qa']],
    ['-d on a dir without Terraform files is refused', { dir: 'docs' }, 'directory `docs` holds no Terraform files (*.tf, *.tf.json)'],
    ['-d on a missing dir is refused', { dir: 'nowhere' }, 'directory `nowhere` does not exist at the pull request\'s head commit'],
    ['-d through a symlink out of the checkout is refused', { dir: 'escape' }, 'directory `escape` resolves outside the repository: use a path inside it'],
    ['-d .. is refused', { dir: '..' }, 'directory `..` resolves outside the repository: use a path inside it'],
    ['no selector is refused', {}, 'no project selected: use `-p name` or `-d dir` (and `-w workspace`)'],
  ])('%s', (_, selector, expected) => {
    expect(pick(selector)).toEqual(expected);
  });

  it('refuses -p without a repo config, pointing at -d', () => {
    expect(pick({ project: 'network' }, null)).toBe(
      'there is no project named `network`: this repository has no repo config declaring projects, so select a directory with `-d dir` instead',
    );
  });

  it('gives ad-hoc projects the server defaults', () => {
    const result = projectsForSelector(root, null, [], { dir: 'network' }, { defaults: { applyRequirements: ['mergeable'], workflow: 'custom' } });
    expect(result).toEqual({ ok: true, projects: [{ dir: 'network', workspace: 'default', kind: 'terraform', applyRequirements: ['mergeable'], workflow: 'custom' }] });
  });
});
