// loadProjectSetup is where a pull request's checkout meets the server's `repos:` rules: the
// rules that match decide the apply requirements of every project, so a rule that should match
// and does not lets anyone with write access apply without them.

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { JobContext } from '../../server/jobs/context.js';
import { loadProjectSetup } from '../../server/jobs/project-setup.js';
import { parseServerRepoConfig } from '../../server/projects/index.js';

const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

function checkout(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'tideline-setup-'));
  dirs.push(dir);
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return dir;
}

/** Only what loadProjectSetup reads: the server's rules and the GitHub host. */
function context(serverYaml: string, githubHost: string): JobContext {
  const parsed = parseServerRepoConfig(serverYaml, '/etc/tideline/repos.yaml');
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.problems));
  return { repoRules: parsed.config, git: { githubHost } } as unknown as JobContext;
}

describe('server rules for a GitHub Enterprise repository', () => {
  const root = checkout({ 'atlantis.yaml': 'version: 3\nprojects:\n  - dir: .\n' });

  it.each([
    ['an exact id with the Enterprise host', 'ghe.acme.com/acme/infra'],
    ['a regex written against the Enterprise host', '/^ghe\\.acme\\.com\\/acme\\/.*$/'],
  ])('applies %s, as Atlantis names repositories by their own host', (_what, id) => {
    const ctx = context(`repos:\n  - id: ${JSON.stringify(id)}\n    apply_requirements: [approved]\n`, 'ghe.acme.com');
    const loaded = loadProjectSetup(ctx, 'acme/infra', 'main', root);
    if (!loaded.ok) throw new Error(JSON.stringify(loaded.problems));
    expect(loaded.setup.projects.map((p) => p.applyRequirements)).toEqual([['approved']]);
    expect(loaded.setup.defaults.applyRequirements).toEqual(['approved']);
  });

  it('does not apply a github.com id to the Enterprise repository of the same name', () => {
    const ctx = context('repos:\n  - id: github.com/acme/infra\n    apply_requirements: [approved]\n', 'ghe.acme.com');
    const loaded = loadProjectSetup(ctx, 'acme/infra', 'main', root);
    if (!loaded.ok) throw new Error(JSON.stringify(loaded.problems));
    expect(loaded.setup.defaults.applyRequirements).toEqual([]);
  });
});
