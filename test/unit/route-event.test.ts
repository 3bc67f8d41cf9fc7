import { describe, expect, it } from 'vitest';
import { routeEvent, type RouteContext } from '../../server/http/route-event.js';
import { loadWebhookExamples } from '../../sandbox/github/webhook-payloads.js';

const ctx: RouteContext = {
  prefix: 'tideline',
  botLogin: 'tideline-bot',
  version: '1.2.3',
  render: { prefix: 'tideline' },
  isAllowed: (repo) => repo.startsWith('acme/'),
  allowForkPulls: false,
};

/** The head side of a pull request whose branch is in `repo`. */
function headIn(repo: string | null): { head: { repo: { full_name: string } | null } } {
  return { head: { repo: repo === null ? null : { full_name: repo } } };
}

function comment(body: string, opts: { user?: string; repo?: string; onPull?: boolean; action?: string } = {}): unknown {
  const full = opts.repo ?? 'acme/infra';
  return {
    action: opts.action ?? 'created',
    issue: { number: 7, ...(opts.onPull === false ? {} : { pull_request: { url: 'x' } }) },
    comment: { body, user: { login: opts.user ?? 'alice' }, html_url: 'https://github.com/acme/infra/pull/7#c1' },
    repository: { name: full.split('/')[1], full_name: full, owner: { login: full.split('/')[0] }, clone_url: `https://github.com/${full}.git`, default_branch: 'main' },
  };
}

describe('routeEvent', () => {
  it('queues a command job for a plan comment on a pull request', () => {
    const routed = routeEvent(ctx, 'issue_comment', 'd1', comment('tideline plan -d app'));
    expect(routed.kind).toBe('jobs');
    if (routed.kind !== 'jobs') return;
    expect(routed.jobs).toHaveLength(1);
    expect(routed.jobs[0]).toMatchObject({ type: 'command', pull: 7, serialKey: 'acme/infra#7', payload: { actor: 'alice', command: { name: 'plan', selector: { dir: 'app' } } } });
  });

  it.each([
    ['the token account', 'tideline-bot', '@tideline-bot plan -d app'],
    ["a GitHub App's slug", 'tideline-app[bot]', '@tideline-app plan -d app'],
    ["a GitHub App's full login", 'tideline-app[bot]', '@tideline-app[bot] plan -d app'],
  ])('queues a plan for a comment that mentions %s instead of the prefix', (_name, botLogin, text) => {
    const routed = routeEvent({ ...ctx, botLogin }, 'issue_comment', 'd1', comment(text));
    expect(routed.kind).toBe('jobs');
    if (routed.kind !== 'jobs') return;
    expect(routed.jobs[0]).toMatchObject({ type: 'command', payload: { command: { name: 'plan', selector: { dir: 'app' } } } });
  });

  it.each([
    ['a repository outside the allowlist', comment('tideline plan', { repo: 'evil/infra' }), /not in TIDELINE_REPO_ALLOWLIST/],
    ["the server's own comment", comment('tideline plan', { user: 'tideline-bot' }), /server itself/],
    ['a comment on an issue', comment('tideline plan', { onPull: false }), /not a pull request/],
    ['an edited comment', comment('tideline plan', { action: 'edited' }), /comment edited/],
    ['a multi-line comment', comment('tideline plan\nthanks'), /not a command/],
    ['another prefix', comment('atlantis plan'), /not a command/],
    ['an unhandled event', null, /not handled/],
  ])('ignores %s', (_name, payload, reason) => {
    const routed = routeEvent(ctx, payload === null ? 'star' : 'issue_comment', 'd', payload ?? {});
    expect(routed).toMatchObject({ kind: 'ignored', reason: expect.stringMatching(reason) });
  });

  const repository = { name: 'infra', full_name: 'acme/infra', owner: { login: 'acme' }, clone_url: 'https://github.com/acme/infra.git' };
  it.each([
    ['issue_comment', 'a null repository', { action: 'created', repository: null }, /no usable repository/],
    ['pull_request', 'a null repository', { action: 'opened', number: 1, repository: null }, /no usable repository/],
    ['issue_comment', 'a null issue', { action: 'created', repository, issue: null }, /without an issue number/],
    ['issue_comment', 'an issue number of 1.5', { action: 'created', repository, issue: { number: 1.5, pull_request: {} }, comment: { body: 'tideline plan' } }, /without an issue number/],
    ['issue_comment', 'an issue number of -3', { action: 'created', repository, issue: { number: -3, pull_request: {} }, comment: { body: 'tideline help' } }, /without an issue number/],
    ['pull_request', 'a number of 0', { action: 'opened', number: 0, repository, pull_request: null }, /without a number/],
    ['pull_request', 'a number of 2.5', { action: 'closed', number: 2.5, repository, pull_request: { number: 2.5 } }, /without a number/],
  ])('ignores a delivery of %s with %s rather than throwing', (event, _what, payload, reason) => {
    expect(routeEvent(ctx, event, 'd', payload)).toMatchObject({ kind: 'ignored', reason: expect.stringMatching(reason) });
  });

  it.each([
    ['tideline help', 'tideline:help'],
    ['tideline version', '1.2.3'],
    ['tideline destroy', 'tideline:invalid'],
  ])('answers %s with a reply job', (text, expected) => {
    const routed = routeEvent(ctx, 'issue_comment', 'd', comment(text));
    expect(routed.kind).toBe('jobs');
    if (routed.kind !== 'jobs') return;
    expect(routed.jobs[0]?.type).toBe('reply');
    expect(JSON.stringify(routed.jobs[0]?.payload)).toContain(expected);
  });

  it.each(['opened', 'synchronize', 'reopened', 'ready_for_review'])('autoplans on pull_request %s', (action) => {
    const c = comment('') as { repository: unknown };
    const routed = routeEvent(ctx, 'pull_request', 'd', { action, number: 7, pull_request: { number: 7, draft: false, ...headIn('acme/infra') }, repository: c.repository, sender: { login: 'bob' } });
    expect(routed).toMatchObject({ kind: 'jobs', jobs: [{ type: 'command', payload: { autoplan: true, actor: 'bob', command: { name: 'plan', selector: {} } } }] });
  });

  it('names the programs that plan in the version reply', () => {
    const routed = routeEvent({ ...ctx, tools: { terraform: '1.11.4', kubectl: 'not found (kubectl)', git: '2.39.5' } }, 'issue_comment', 'd', comment('tideline version'));
    if (routed.kind !== 'jobs') throw new Error(`not routed: ${JSON.stringify(routed)}`);
    expect((routed.jobs[0]?.payload as { body: string }).body).toBe('Tideline 1.2.3\n\n- terraform 1.11.4\n- kubectl not found (kubectl)\n- git 2.39.5\n<!-- tideline:version -->\n');
  });

  it('does not autoplan a draft', () => {
    const c = comment('') as { repository: unknown };
    const routed = routeEvent(ctx, 'pull_request', 'd', { action: 'opened', number: 7, pull_request: { number: 7, draft: true }, repository: c.repository });
    expect(routed).toMatchObject({ kind: 'ignored', reason: expect.stringMatching(/draft/) });
  });

  it.each([
    ['a fork', 'stranger/infra'],
    ['a deleted fork', null],
  ])('does not autoplan a pull request from %s unless TIDELINE_ALLOW_FORK_PRS is set', (_what, headRepo) => {
    const c = comment('') as { repository: unknown };
    const event = { action: 'opened', number: 7, pull_request: { number: 7, draft: false, ...headIn(headRepo) }, repository: c.repository, sender: { login: 'stranger' } };
    expect(routeEvent(ctx, 'pull_request', 'd', event)).toEqual({
      kind: 'ignored',
      reason: `pull_request opened from a fork (${headRepo ?? 'a deleted repository'}): set TIDELINE_ALLOW_FORK_PRS=true to plan pull requests from forks`,
    });
    expect(routeEvent({ ...ctx, allowForkPulls: true }, 'pull_request', 'd', event)).toMatchObject({ kind: 'jobs', jobs: [{ type: 'command', payload: { autoplan: true } }] });
  });

  it('takes a head branch of the base repository in any letter case for the same repository', () => {
    const c = comment('') as { repository: unknown };
    const routed = routeEvent(ctx, 'pull_request', 'd', { action: 'synchronize', number: 7, pull_request: { number: 7, ...headIn('Acme/Infra') }, repository: c.repository });
    expect(routed.kind).toBe('jobs');
  });

  it('releases a fork\'s pull request when it closes: what it holds is freed whatever the setting', () => {
    const c = comment('') as { repository: unknown };
    const routed = routeEvent(ctx, 'pull_request', 'd', { action: 'closed', number: 7, pull_request: { number: 7, merged: false, ...headIn('stranger/infra') }, repository: c.repository });
    expect(routed).toMatchObject({ kind: 'jobs', jobs: [{ type: 'release' }] });
  });

  it('queues a release job when a pull request closes', () => {
    const c = comment('') as { repository: unknown };
    const routed = routeEvent(ctx, 'pull_request', 'd', { action: 'closed', number: 7, pull_request: { number: 7, merged: true }, repository: c.repository, sender: { login: 'bob' } });
    expect(routed).toMatchObject({ kind: 'jobs', jobs: [{ type: 'release', payload: { merged: true, pull: 7 } }] });
  });

  describe('installation deliveries (GitHub’s examples)', () => {
    it.each(['created', 'deleted', 'suspend', 'unsuspend', 'new_permissions_accepted'])('installation.%s drops the installation, its account and its repositories', async (action) => {
      const example = (await loadWebhookExamples()).installation.get(action);
      const routed = routeEvent(ctx, 'installation', 'd', example);
      const installation = example?.['installation'] as { id: number; account: { login: string } };
      expect(routed).toMatchObject({ kind: 'installation', change: { installationId: installation.id, account: installation.account.login } });
    });

    it('installation.deleted names its repositories, even outside the allowlist', async () => {
      const example = (await loadWebhookExamples()).installation.get('deleted');
      expect(routeEvent(ctx, 'installation', 'd', example)).toMatchObject({ kind: 'installation', change: { repos: ['octocat/Hello-World'] } });
    });

    it.each(['added', 'removed'])('installation_repositories.%s drops the repositories it names', async (action) => {
      const example = (await loadWebhookExamples()).installationRepositories.get(action) as Record<string, unknown>;
      const listed = [...(example['repositories_added'] as { full_name: string }[]), ...(example['repositories_removed'] as { full_name: string }[])].map((r) => r.full_name);
      expect(listed.length).toBeGreaterThan(0);
      expect(routeEvent({ ...ctx, isAllowed: () => true }, 'installation_repositories', 'd', example)).toEqual({
        kind: 'installation',
        change: { installationId: null, account: null, repos: listed },
        note: expect.stringContaining(`repositories ${action}`),
      });
    });

    it('keeps to the allowlist the repositories an installation_repositories delivery names', () => {
      const named = (...names: string[]): unknown => ({ action: 'added', installation: { id: 5 }, repositories_added: names.map((full_name) => ({ full_name })), repositories_removed: [] });
      expect(routeEvent(ctx, 'installation_repositories', 'd', named('acme/infra', 'octocat/Hello-World'))).toMatchObject({ kind: 'installation', change: { repos: ['acme/infra'] } });
      expect(routeEvent(ctx, 'installation_repositories', 'd', named('octocat/Hello-World'))).toEqual({
        kind: 'ignored',
        reason: 'installation_repositories added on installation 5: none of the 1 repositories it names is in TIDELINE_REPO_ALLOWLIST',
      });
    });

    it('ignores an installation delivery without an installation id', () => {
      expect(routeEvent(ctx, 'installation', 'd', { action: 'deleted' })).toMatchObject({ kind: 'ignored' });
    });
  });
});
