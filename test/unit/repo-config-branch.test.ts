// `branch: /regex/` as Atlantis reads it: the projects of other base branches are dropped before
// names are checked, so one name may be declared once per branch.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { onBaseBranch, parseRepoConfig } from '../../server/projects/index.js';

const root = mkdtempSync(join(tmpdir(), 'tideline-repo-branch-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const PER_BRANCH = `version: 3
projects:
  - name: app
    dir: app
    branch: /^main$/
  - name: app
    dir: app
    workspace: release
    branch: /^release\\/.*/
    depends_on: [db]
  - name: db
    dir: db
    branch: /^release\\/.*/
`;

describe('repo config projects per base branch', () => {
  it.each(['main', 'release/1.2'])('accepts one name declared once for each branch, for a pull request into %s', (baseBranch) => {
    const result = parseRepoConfig(PER_BRANCH, 'atlantis.yaml', root, { baseBranch });
    expect(result.ok ? result.config?.projects.map((p) => p.name) : result.problems).toEqual(['app', 'app', 'db']);
  });

  it('still refuses a name used twice on the same branch', () => {
    const text = `version: 3\nprojects:\n  - { name: app, dir: a, branch: /^main$/ }\n  - { name: app, dir: b, branch: /.*/ }\n`;
    const result = parseRepoConfig(text, 'atlantis.yaml', root, { baseBranch: 'main' });
    expect(result.ok ? [] : result.problems).toEqual([expect.objectContaining({ path: 'projects[1].name', line: 4, message: expect.stringContaining('give each project a unique name') })]);
  });

  it('refuses a depends_on naming a project declared only for other branches, saying so', () => {
    const result = parseRepoConfig(PER_BRANCH.replace('branch: /^main$/', 'branch: /^main$/\n    depends_on: [db]'), 'atlantis.yaml', root, { baseBranch: 'main' });
    expect(result.ok ? [] : result.problems).toEqual([expect.objectContaining({ path: 'projects[0].depends_on[0]', message: expect.stringContaining('declared only for other base branches') })]);
  });

  it('checks every project together when no base branch is given', () => {
    const result = parseRepoConfig(PER_BRANCH, 'atlantis.yaml', root);
    expect(result.ok ? [] : result.problems.map((p) => p.path)).toEqual(['projects[1].name']);
  });
});

describe('onBaseBranch', () => {
  it.each([
    [undefined, 'main', true],
    ['/^main$/', 'main', true],
    ['/^main$/', 'release', false],
    ['/(?i)^main$/', 'MAIN', true],
    ['/^main$/', undefined, true],
  ] as const)('branch %s and base %s: %s', (branch, base, expected) => {
    expect(onBaseBranch(branch, base)).toBe(expected);
  });

  it('keeps the (?i) flag of a parsed branch regex', () => {
    const result = parseRepoConfig('version: 3\nprojects:\n  - { dir: a, branch: "/(?i)^main$/" }\n', 'atlantis.yaml', root);
    const branch = result.ok ? result.config?.projects[0]?.branch : undefined;
    expect(onBaseBranch(branch, 'Main')).toBe(true);
  });
});
