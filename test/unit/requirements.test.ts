// Apply requirements against a stub forge (approved, mergeable) and a real git tree (undiverged).

import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { SecretMasker } from '../../runners/secrets.js';
import type { Forge, PullInfo, RepoPermission, Review } from '../../server/github/forge.js';
import type { JobContext } from '../../server/jobs/context.js';
import { checkPermission, checkRequirements, type Requirement } from '../../server/jobs/requirements.js';
import type { RepoInfo } from '../../server/jobs/types.js';
import { CacheLocks } from '../../server/workspace/cache-lock.js';

const dir = mkdtempSync(join(tmpdir(), 'tideline-req-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function git(cwd: string, ...args: string[]): string {
  return execFileSync('git', args, { cwd, encoding: 'utf8', env: { PATH: process.env['PATH'] ?? '', GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@t', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@t', HOME: dir } }).trim();
}

// origin: main has base1 → base2; the PR branch forked at base1.
const origin = join(dir, 'origin');
git(dir, 'init', '-q', '-b', 'main', origin);
writeFileSync(join(origin, 'a'), '1');
git(origin, 'add', '.');
git(origin, 'commit', '-qm', 'base1');
const base1 = git(origin, 'rev-parse', 'HEAD');
git(origin, 'checkout', '-qb', 'feature');
writeFileSync(join(origin, 'b'), '1');
git(origin, 'add', '.');
git(origin, 'commit', '-qm', 'feature');
const head = git(origin, 'rev-parse', 'HEAD');
git(origin, 'checkout', '-q', 'main');
writeFileSync(join(origin, 'a'), '2');
git(origin, 'commit', '-qam', 'base2');
const base2 = git(origin, 'rev-parse', 'HEAD');
const tree = join(dir, 'tree');
git(dir, 'clone', '-q', origin, tree);
git(tree, 'checkout', '-q', head);

const repo: RepoInfo = { owner: 'acme', name: 'infra', fullName: 'acme/infra', cloneUrl: `file://${origin}`, defaultBranch: 'main' };

function context(reviews: Review[], permission: RepoPermission = 'write'): JobContext {
  const forge = { listReviews: async () => reviews, getPermission: async () => permission } as unknown as Forge;
  return { forge, log: pino({ level: 'silent' }) } as unknown as JobContext;
}

function pull(overrides: Partial<PullInfo> = {}): PullInfo {
  return { number: 1, state: 'open', merged: false, draft: false, title: 't', author: 'alice', headSha: head, headRef: 'feature', baseRef: 'main', baseSha: base1, headRepo: 'acme/infra', mergeable: true, htmlUrl: 'u', ...overrides };
}

async function rules(ctx: JobContext, pr: PullInfo, requirements: Requirement[]): Promise<string[]> {
  const gitCtx = { root: dir, baseEnv: { PATH: process.env['PATH'] ?? '', HOME: dir }, masker: new SecretMasker(), token: null, githubHost: 'github.com', locks: new CacheLocks() };
  const refusals = await checkRequirements(ctx, { repo, pr, requirements, git: gitCtx, checkoutDir: tree });
  return refusals.map((r) => r.rule);
}

describe('apply requirements', () => {
  it.each([
    ['no reviews', [], ['approved']],
    ['only the author approved', [{ user: 'alice', state: 'APPROVED', commitId: null }], ['approved']],
    ['a reviewer approved', [{ user: 'bob', state: 'APPROVED', commitId: null }], []],
    ['a reviewer approved then asked for changes', [{ user: 'bob', state: 'APPROVED', commitId: null }, { user: 'bob', state: 'CHANGES_REQUESTED', commitId: null }], ['approved']],
    ['a later comment does not undo an approval', [{ user: 'bob', state: 'APPROVED', commitId: null }, { user: 'bob', state: 'COMMENTED', commitId: null }], []],
  ] as [string, Review[], string[]][])('approved: %s', async (_name, reviews, expected) => {
    expect(await rules(context(reviews), pull(), ['approved'])).toEqual(expected);
  });

  it.each([
    [true, []],
    [false, ['mergeable']],
    [null, ['mergeable']],
  ] as [boolean | null, string[]][])('mergeable: GitHub says %s', async (mergeable, expected) => {
    expect(await rules(context([]), pull({ mergeable }), ['mergeable'])).toEqual(expected);
  });

  it('undiverged: compares with the base branch as fetched now, not the base.sha GitHub left at the fork point', async () => {
    // GitHub's base.sha is still base1, but main has moved on to base2: the head is behind.
    const ctx = context([]);
    const gitCtx = { root: dir, baseEnv: { PATH: process.env['PATH'] ?? '', HOME: dir }, masker: new SecretMasker(), token: null, githubHost: 'github.com', locks: new CacheLocks() };
    const refused = await checkRequirements(ctx, { repo, pr: pull({ baseSha: base1 }), requirements: ['undiverged'], git: gitCtx, checkoutDir: tree });
    expect(refused).toEqual([{ rule: 'undiverged', message: `the pull request does not contain the latest \`main\` (${base2.slice(0, 7)}): merge or rebase \`main\` into it, then plan again` }]);

    // main merged into the branch: the new head contains base2, and undiverged holds.
    git(origin, 'checkout', '-q', 'feature');
    git(origin, 'merge', '-q', '--no-edit', 'main');
    const merged = git(origin, 'rev-parse', 'HEAD');
    git(origin, 'checkout', '-q', 'main');
    git(tree, 'fetch', '-q', 'origin', 'feature');
    git(tree, 'checkout', '-q', merged);
    expect(await rules(ctx, pull({ headSha: merged, baseSha: base1 }), ['undiverged'])).toEqual([]);
    git(tree, 'checkout', '-q', head);
  });

  it.each([
    ['admin', true],
    ['maintain', true],
    ['write', true],
    ['triage', false],
    ['read', false],
    ['none', false],
  ] as [RepoPermission, boolean][])('permission %s may apply: %s', async (permission, allowed) => {
    const refusal = await checkPermission(context([], permission), repo, 'carol');
    expect(refusal === null).toBe(allowed);
    if (refusal !== null) expect(refusal.message).toContain('@carol');
  });
});
