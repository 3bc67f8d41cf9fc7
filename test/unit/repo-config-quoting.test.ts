// A repo config is the pull request's text. A problem message that echoes one of its values
// (a depends_on entry, a name, a dir) shows it in a code span it cannot end, so the
// Repo Config Error reply never turns it into a mention, a link or HTML.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { renderConfigProblems, type ProblemLine } from '../../server/comments/index.js';
import { parseRepoConfig } from '../../server/projects/index.js';

const root = mkdtempSync(join(tmpdir(), 'tideline-quoting-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const EVIL = 'x` @acme/everyone <img src=x> [link](https://evil.example) `y';

function outsideCode(body: string): string {
  return body.replace(/(`+)(?!`)[^\n]*?(?<!`)\1(?!`)/g, '');
}

function repoProblems(yaml: string): ProblemLine[] {
  const result = parseRepoConfig(yaml, 'tideline.yaml', root);
  if (result.ok) throw new Error('expected problems');
  return result.problems;
}

const q = JSON.stringify(EVIL);

describe('a Repo Config Error reply echoing the repo config', () => {
  it.each([
    ['an unknown depends_on', () => repoProblems(`version: 3\nprojects:\n  - name: app\n    dir: .\n    depends_on: [${q}]\n`)],
    ['two projects on one dir and workspace', () => repoProblems(`version: 3\nprojects:\n  - dir: ${q}\n  - dir: ${q}\n`)],
    ['two projects of one name', () => repoProblems(`version: 3\nprojects:\n  - name: ${q}\n    dir: a\n  - name: ${q}\n    dir: b\n`)],
  ])('keeps the value in a code span: %s', (_what, problems) => {
    const found = problems();
    expect(found.length).toBeGreaterThan(0);
    const outside = outsideCode(renderConfigProblems({ prefix: 'tideline' }, 'tideline.yaml', found));
    expect(outside).not.toContain('@acme');
    expect(outside).not.toContain('evil.example');
    expect(outside).not.toContain('<img');
  });
});
