import { describe, expect, it } from 'vitest';

import type { PlanOutcome } from '../../runners/types.js';
import type { Project } from '../../server/projects/types.js';
import {
  parseCommentMarker,
  renderPlan,
  type ProjectPlanResult,
  type RenderContext,
} from '../../server/comments/index.js';

const ctx: RenderContext = { prefix: 'tideline' };
const root: Project = { dir: '.', workspace: 'default', kind: 'terraform' };

const CREATE_PLAN = [
  'terraform_data.x: Refreshing state... [id=93fac60f]',
  '',
  'Terraform will perform the following actions:',
  '',
  '  # terraform_data.x will be created',
  '  + resource "terraform_data" "x" {',
  '      + id     = (known after apply)',
  '      + input  = "v1"',
  '      + output = (known after apply)',
  '    }',
  '',
  'Plan: 1 to add, 0 to change, 0 to destroy.',
].join('\n');

function planned(output: string, result: PlanOutcome['result'] = 'changes'): PlanOutcome {
  const summary = result === 'error' ? null : { add: result === 'changes' ? 1 : 0, change: 0, destroy: 0 };
  return { result, summary, output, exitCode: result === 'error' ? 1 : 0, durationMs: 10 };
}

/** Terraform output of `n` created resources: 8 lines each. */
function longPlan(resources: number): string {
  const lines: string[] = [];
  for (let i = 0; i < resources; i += 1) {
    lines.push(
      `  # terraform_data.r${i} will be created`,
      `  + resource "terraform_data" "r${i}" {`,
      '      + id     = (known after apply)',
      `      + input  = "value-${i}"`,
      '      + output = (known after apply)',
      '    }',
      '',
    );
  }
  lines.push(`Plan: ${resources} to add, 0 to change, 0 to destroy.`);
  return lines.join('\n');
}

describe('renderPlan for one project', () => {
  const body = renderPlan(ctx, [{ project: root, outcome: planned(CREATE_PLAN) }]);

  it('starts with the Atlantis header naming dir and workspace', () => {
    expect(body.split('\n')[0]).toBe('Ran Plan for dir: `.` workspace: `default`');
  });

  it('shows the output as a diff with markers at column 0 and refresh noise gone', () => {
    expect(body).toContain(
      '```diff\nTerraform will perform the following actions:\n\n  # terraform_data.x will be created\n+   resource "terraform_data" "x" {',
    );
    expect(body).not.toContain('Refreshing state');
  });

  it('shows the plan line once, inside a short unfolded block', () => {
    expect(body).not.toContain('<details>');
    expect(body.split('\n').filter((l) => l === 'Plan: 1 to add, 0 to change, 0 to destroy.')).toHaveLength(1);
  });

  it.each([
    'To **apply** this plan, comment: `tideline apply -d .`',
    'To **delete** this plan and lock, comment `tideline unlock`',
    'To **plan** this project again, comment: `tideline plan -d .`',
    'To **apply** all unapplied plans from this pull request, comment: `tideline apply`',
    'To **delete** all plans and locks from this pull request, comment: `tideline unlock`',
  ])('offers %s', (bullet) => {
    expect(body).toContain(bullet);
  });

  it('puts the pull-request commands after a --- rule', () => {
    const rule = body.indexOf('\n---\n');
    expect(rule).toBeGreaterThan(body.indexOf('tideline plan -d .'));
    expect(body.indexOf('all unapplied plans')).toBeGreaterThan(rule);
  });

  it('ends with the hidden plan marker', () => {
    expect(body.endsWith('\n<!-- tideline:plan -->')).toBe(true);
    expect(parseCommentMarker(body)).toBe('plan');
  });
});

describe('renderPlan folding', () => {
  it('folds output longer than 12 lines inside details and keeps the plan line outside', () => {
    const body = renderPlan(ctx, [{ project: root, outcome: planned(longPlan(5)) }]);
    const open = body.indexOf('<details><summary>Show Output</summary>');
    const close = body.indexOf('</details>');
    expect(open).toBeGreaterThan(0);
    expect(body.indexOf('```diff')).toBeGreaterThan(open);
    expect(body.indexOf('+   resource "terraform_data" "r4" {')).toBeLessThan(close);
    const visible = body.indexOf('\nPlan: 5 to add, 0 to change, 0 to destroy.\n', close);
    expect(visible).toBeGreaterThan(close);
    expect(body.indexOf('To **apply** this plan')).toBeGreaterThan(visible);
  });

  it.each([
    [12, false],
    [13, true],
  ])('with %i lines of output folds: %s', (lines, folded) => {
    const output = Array.from({ length: lines }, (_, i) => `line ${i}`).join('\n');
    const body = renderPlan(ctx, [{ project: root, outcome: planned(output) }]);
    expect(body.includes('<details>')).toBe(folded);
  });

  it('fences output that holds ``` with a longer fence', () => {
    const output = 'before\n```\nnot the end\n```\nafter';
    const body = renderPlan(ctx, [{ project: root, outcome: planned(output) }]);
    expect(body).toContain('````diff\nbefore\n```\nnot the end\n```\nafter\n````');
  });

  it('fences an error output that holds a run of 5 backticks with 6', () => {
    const body = renderPlan(ctx, [{ project: root, outcome: planned('x ````` y', 'error') }]);
    expect(body).toContain('``````\nx ````` y\n``````');
  });
});

describe('renderPlan outcomes', () => {
  it('says there are no changes and offers no apply', () => {
    const output = 'No changes. Your infrastructure matches the configuration.';
    const body = renderPlan(ctx, [{ project: root, outcome: planned(output, 'no-changes') }]);
    expect(body).toContain('\n\nNo changes. Your infrastructure matches the configuration.\n');
    expect(body).not.toContain('To **apply** this plan');
    expect(body).not.toContain('Show Output');
  });

  it('shows a warning that came with no changes, folded', () => {
    const output = 'Warning: Deprecated attribute\n\nNo changes. Your infrastructure matches the configuration.';
    const body = renderPlan(ctx, [{ project: root, outcome: planned(output, 'no-changes') }]);
    expect(body).toMatch(/<details><summary>Show Output<\/summary>\n\n```diff\nWarning: Deprecated attribute/);
  });

  it('reports an error as **Plan Error** with the output in a plain code block', () => {
    const output = 'Error: Unsupported argument\n\n  on main.tf line 2:\n   2:   bogus = 1';
    const body = renderPlan(ctx, [{ project: root, outcome: planned(output, 'error') }]);
    expect(body).toContain(`**Plan Error**\n\n\`\`\`\n${output}\n\`\`\``);
    expect(body).not.toContain('```diff');
    expect(body).not.toContain('all unapplied plans');
  });

  it('leaves kubernetes diff output as it is', () => {
    const output = 'diff -u -N /tmp/LIVE/apps.v1.Deployment.web /tmp/MERGED/apps.v1.Deployment.web\n   spec:\n-  replicas: 2\n+  replicas: 3\n   template:\n     - name: web';
    const project: Project = { dir: 'k8s', workspace: 'default', kind: 'kubernetes' };
    const body = renderPlan(ctx, [{ project, outcome: planned(output) }]);
    expect(body).toContain(`\`\`\`diff\n${output}\n\`\`\``);
    expect(body).toContain('Plan: 1 to add, 0 to change, 0 to destroy.');
  });

  it.each([
    [{ prefix: 'atlantis' }, '`atlantis apply -d .`', '`atlantis unlock`'],
    [{ prefix: 'tideline' }, '`tideline apply -d .`', '`tideline unlock`'],
  ])('uses the prefix %o in every command', (context, apply, unlock) => {
    const body = renderPlan(context, [{ project: root, outcome: planned(CREATE_PLAN) }]);
    expect(body).toContain(apply);
    expect(body).toContain(unlock);
    expect(body).toContain('<!-- tideline:plan -->');
  });

  it('links the lock page when serverUrl is set', () => {
    const context: RenderContext = { prefix: 'tideline', serverUrl: 'https://tl.example.com/', repo: 'acme/infra' };
    const body = renderPlan(context, [{ project: root, outcome: planned(CREATE_PLAN) }]);
    expect(body).toContain('[here](https://tl.example.com/locks?repo=acme%2Finfra&dir=.&workspace=default)');
  });

  it('has no lock link without serverUrl', () => {
    const body = renderPlan(ctx, [{ project: root, outcome: planned(CREATE_PLAN) }]);
    expect(body).not.toContain('](http');
  });
});

describe('renderPlan for several projects', () => {
  const results: ProjectPlanResult[] = [
    { project: { dir: 'net', workspace: 'default', kind: 'terraform' }, outcome: planned(CREATE_PLAN) },
    {
      project: { name: 'db', dir: 'db', workspace: 'staging', kind: 'terraform' },
      outcome: planned('No changes. Your infrastructure matches the configuration.', 'no-changes'),
    },
    { project: { dir: 'k8s/app', workspace: 'default', kind: 'kubernetes' }, outcome: planned('error: boom', 'error') },
  ];
  const body = renderPlan(ctx, results);

  it('lists the projects with links to their sections', () => {
    expect(body).toContain(
      [
        'Ran Plan for 3 projects:',
        '',
        '1. [dir: `net` workspace: `default`](#1-dir-net-workspace-default)',
        '2. [project: `db` dir: `db` workspace: `staging`](#2-project-db-dir-db-workspace-staging)',
        '3. [dir: `k8s/app` workspace: `default`](#3-dir-k8sapp-workspace-default)',
      ].join('\n'),
    );
  });

  it('gives each project a numbered heading and separates sections with ---', () => {
    expect(body).toContain('### 1. dir: `net` workspace: `default`\n');
    expect(body).toContain('---\n\n### 2. project: `db` dir: `db` workspace: `staging`\n');
    expect(body).toContain('---\n\n### 3. dir: `k8s/app` workspace: `default`\n');
  });

  it('uses -p for the named project and -d for the others', () => {
    expect(body).toContain('`tideline plan -p db`');
    expect(body).toContain('`tideline apply -d net`');
  });

  it('ends with the exact counts line before the marker', () => {
    const lines = body.split('\n');
    expect(lines.slice(-3)).toEqual(['3 projects, 1 with changes, 1 with no changes, 1 failed', '', '<!-- tideline:plan -->']);
  });

  it.each([
    [['changes', 'changes'], '2 projects, 2 with changes, 0 with no changes, 0 failed'],
    [['error', 'error', 'no-changes', 'changes'], '4 projects, 1 with changes, 1 with no changes, 2 failed'],
  ] as const)('counts %j as %s', (outcomes, line) => {
    const many = outcomes.map((result, i) => ({
      project: { dir: `p${i}`, workspace: 'default', kind: 'terraform' as const },
      outcome: planned('output', result),
    }));
    expect(renderPlan(ctx, many)).toContain(`\n${line}\n`);
  });
});
