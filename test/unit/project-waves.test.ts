import { describe, expect, it } from 'vitest';
import { executionWaves } from '../../server/projects/index.js';
import type { Project } from '../../server/projects/index.js';

function project(name: string, group: number, dependsOn: string[] = [], dir = name): Project {
  return { name, dir, workspace: 'default', kind: 'terraform', executionOrderGroup: group, dependsOn };
}

function names(waves: Project[][]): string[][] {
  return waves.map((wave) => wave.map((p) => p.name ?? p.dir));
}

describe('executionWaves', () => {
  it.each<[string, Project[], string[][]]>([
    ['one group without dependencies is one wave', [project('b', 0), project('a', 0)], [['a', 'b']]],
    ['groups run in ascending order, negative ones first', [project('late', 2), project('early', -1), project('mid', 0)], [['early'], ['mid'], ['late']]],
    [
      'depends_on splits a group into ordered waves',
      [project('prod', 1, ['staging']), project('staging', 1, ['dev']), project('dev', 1), project('docs', 1)],
      [['dev', 'docs'], ['staging'], ['prod']],
    ],
    [
      'groups first, depends_on within each group',
      [project('app', 2, ['db']), project('db', 2), project('network', 1), project('dns', 1, ['network'])],
      [['network'], ['dns'], ['db'], ['app']],
    ],
    ['a dependency outside the set does not hold anything back', [project('app', 0, ['not-in-this-pr'])], [['app']]],
    ['a dependency in an earlier group is already satisfied', [project('app', 2, ['net']), project('net', 1)], [['net'], ['app']]],
    ['a diamond', [project('d', 0, ['b', 'c']), project('c', 0, ['a']), project('b', 0, ['a']), project('a', 0)], [['a'], ['b', 'c'], ['d']]],
    ['a cycle that slipped through forms one last wave instead of vanishing', [project('x', 0, ['y']), project('y', 0, ['x']), project('z', 0)], [['z'], ['x', 'y']]],
    ['nothing to run', [], []],
  ])('%s', (_, projects, expected) => {
    expect(names(executionWaves(projects))).toEqual(expected);
  });

  it('treats projects without execution_order_group as group 0 and orders by dir, workspace, name', () => {
    const plain: Project[] = [
      { dir: 'b', workspace: 'default', kind: 'terraform' },
      { dir: 'a', workspace: 'prod', kind: 'terraform' },
      { dir: 'a', workspace: 'dev', kind: 'terraform' },
      { name: 'first', dir: 'z', workspace: 'default', kind: 'terraform', executionOrderGroup: -1 },
    ];
    expect(executionWaves(plain).map((wave) => wave.map((p) => `${p.dir}@${p.workspace}`))).toEqual([['z@default'], ['a@dev', 'a@prod', 'b@default']]);
  });
});
