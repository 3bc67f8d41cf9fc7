// Branch working trees for drift sweeps, on real git: worktrees of the repository's cache, one
// fetch per sweep for all workspaces, local state kept across sweeps, older trees still served.

import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { branchDir, checkoutBranch } from '../../server/workspace/branch-checkout.js';
import { cacheDir } from '../../server/workspace/git.js';
import { gitOrigin } from '../support/git-origin.js';

const { origin, first, ctx, git, commit } = gitOrigin('tideline-branch-');
const req = { owner: 'acme', name: 'infra', cloneUrl: `file://${origin}`, branch: 'main' };

describe('branch working trees', () => {
  it('makes each workspace a worktree of the cache, fetching the branch once per sweep', async () => {
    const root = await checkoutBranch(ctx, { ...req, workspace: 'default' });
    expect(root).toEqual({ dir: branchDir(ctx, 'acme', 'infra', 'default'), headSha: first });
    expect(readFileSync(join(root.dir, '.git'), 'utf8')).toContain(join(cacheDir(ctx, 'acme', 'infra'), 'worktrees'));
    // With the origin gone, only a checkout that needs no fetch can succeed.
    renameSync(origin, `${origin}-away`);
    try {
      const staging = await checkoutBranch(ctx, { ...req, workspace: 'staging', sha: root.headSha });
      expect(git(staging.dir, 'rev-parse', 'HEAD')).toBe(first);
    } finally {
      renameSync(`${origin}-away`, origin);
    }
  });

  it('follows the branch, dropping generated files but keeping .terraform and local state', async () => {
    const tree = branchDir(ctx, 'acme', 'infra', 'default');
    writeFileSync(join(tree, 'generated.txt'), 'x');
    writeFileSync(join(tree, 'terraform.tfstate'), '{}');
    mkdirSync(join(tree, '.terraform'), { recursive: true });
    const second = commit(origin, 'main.tf', '# two\n');
    const moved = await checkoutBranch(ctx, { ...req, workspace: 'default' });
    expect(moved.headSha).toBe(second);
    expect(git(tree, 'rev-parse', 'HEAD')).toBe(second);
    expect(existsSync(join(tree, 'generated.txt'))).toBe(false);
    expect(existsSync(join(tree, 'terraform.tfstate'))).toBe(true);
    expect(existsSync(join(tree, '.terraform'))).toBe(true);
  });

  it('puts back committed files that the last run changed, also when the branch has not moved', async () => {
    const tree = branchDir(ctx, 'acme', 'infra', 'default');
    const head = git(tree, 'rev-parse', 'HEAD');
    const committed = readFileSync(join(tree, 'main.tf'), 'utf8');
    writeFileSync(join(tree, 'main.tf'), 'resource "terraform_data" "edited" {}\n');
    // Fetching again, and reusing the commit the sweep's first workspace is at: both restore.
    expect((await checkoutBranch(ctx, { ...req, workspace: 'default' })).headSha).toBe(head);
    expect(readFileSync(join(tree, 'main.tf'), 'utf8')).toBe(committed);
    writeFileSync(join(tree, 'main.tf'), 'resource "terraform_data" "edited" {}\n');
    await checkoutBranch(ctx, { ...req, workspace: 'default', sha: head });
    expect(readFileSync(join(tree, 'main.tf'), 'utf8')).toBe(committed);
    expect(git(tree, 'status', '--porcelain', '--untracked-files=no')).toBe('');
  });

  it('still checks out when the cache upkeep fails, and counts the failure', async () => {
    const cache = cacheDir(ctx, 'acme', 'infra');
    git(cache, 'config', 'gc.auto', 'not-a-number');
    const seen: string[] = [];
    try {
      const third = commit(origin, 'main.tf', '# three\n');
      const result = await checkoutBranch({ ...ctx, onRequest: (request, outcome) => seen.push(`${request} ${outcome}`) }, { ...req, workspace: 'default' });
      expect(result.headSha).toBe(third);
      expect(seen).toEqual(['fetch succeeded', 'maintenance failed', 'checkout succeeded']);
    } finally {
      git(cache, 'config', '--unset', 'gc.auto');
    }
  });

  it('keeps fetching into a tree of the older layout, a repository of its own', async () => {
    const tree = branchDir(ctx, 'acme', 'legacy', 'default');
    mkdirSync(tree, { recursive: true });
    git(tree, 'init', '-q');
    const result = await checkoutBranch(ctx, { ...req, name: 'legacy', workspace: 'default' });
    expect(result.headSha).toBe(git(origin, 'rev-parse', 'main'));
    expect(git(tree, 'rev-parse', '--git-common-dir')).toBe('.git');
    expect(existsSync(cacheDir(ctx, 'acme', 'legacy'))).toBe(false);
  });

  it('refuses a branch name that could be read as an option or climb out of refs/', async () => {
    for (const branch of ['-upload-pack=x', 'a/../b', 'main;rm']) {
      await expect(checkoutBranch(ctx, { ...req, branch, workspace: 'default' })).rejects.toThrow(/is not one Tideline checks out/);
    }
  });
});
