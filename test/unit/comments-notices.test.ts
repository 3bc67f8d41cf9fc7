import { describe, expect, it } from 'vitest';

import type { ApplyOutcome } from '../../runners/types.js';
import type { Project } from '../../server/projects/types.js';
import {
  commandFor,
  parseCommentMarker,
  projectLabel,
  renderApply,
  renderError,
  renderHelp,
  renderInterrupted,
  renderInvalidCommand,
  renderLockConflict,
  renderNoPlan,
  renderReleased,
  renderStalePlan,
  type RenderContext,
} from '../../server/comments/index.js';

const ctx: RenderContext = { prefix: 'tideline' };
const root: Project = { dir: '.', workspace: 'default', kind: 'terraform' };
const named: Project = { name: 'vpc', dir: 'net/vpc', workspace: 'prod', kind: 'terraform' };

const APPLY_OUTPUT = `terraform_data.x: Creating...
terraform_data.x: Creation complete after 0s [id=fd582d29-3471-4459-fbce-a56cf95b82ea]

Apply complete! Resources: 1 added, 0 changed, 0 destroyed.`;

function applied(output: string, result: ApplyOutcome['result'] = 'applied'): ApplyOutcome {
  return { result, output, exitCode: result === 'error' ? 1 : 0, durationMs: 5 };
}

describe('projectLabel and commandFor', () => {
  it.each([
    [root, 'dir: `.` workspace: `default`'],
    [{ dir: 'a/b', workspace: 'stage', kind: 'terraform' } as const, 'dir: `a/b` workspace: `stage`'],
    [named, 'project: `vpc` dir: `net/vpc` workspace: `prod`'],
  ])('labels %o as %s', (project, label) => {
    expect(projectLabel(project)).toBe(label);
  });

  it.each([
    ['tideline', 'apply', root, 'tideline apply -d .'],
    ['tideline', 'plan', { dir: 'net', workspace: 'default', kind: 'terraform' } as const, 'tideline plan -d net'],
    ['tideline', 'apply', { dir: 'net', workspace: 'staging', kind: 'terraform' } as const, 'tideline apply -d net -w staging'],
    ['tideline', 'plan', named, 'tideline plan -p vpc'],
    ['atlantis', 'apply', { name: 'db', dir: 'db', workspace: 'default', kind: 'kubernetes' } as const, 'atlantis apply -p db'],
    ['tideline', 'plan', { name: '', dir: 'x', workspace: 'default', kind: 'terraform' } as const, 'tideline plan -d x'],
    ['tideline', 'plan', { dir: 'my dir', workspace: 'default', kind: 'terraform' } as const, 'tideline plan -d "my dir"'],
  ] as const)('%s %s for %o is %s', (prefix, verb, project, expected) => {
    expect(commandFor({ prefix }, verb, project)).toBe(expected);
  });
});

describe('renderApply', () => {
  it('shows a successful apply in a diff block under the Atlantis header', () => {
    const body = renderApply(ctx, [{ project: root, outcome: applied(APPLY_OUTPUT) }]);
    expect(body).toBe(
      `Ran Apply for dir: \`.\` workspace: \`default\`\n\n\`\`\`diff\n${APPLY_OUTPUT}\n\`\`\`\n\n<!-- tideline:apply -->`,
    );
  });

  it('folds a long apply output and keeps the Apply complete line visible', () => {
    const output = `${Array.from({ length: 20 }, (_, i) => `terraform_data.r${i}: Creating...`).join('\n')}\n\nApply complete! Resources: 20 added, 0 changed, 0 destroyed.`;
    const body = renderApply(ctx, [{ project: root, outcome: applied(output) }]);
    const close = body.indexOf('</details>');
    expect(body).toContain('<details><summary>Show Output</summary>\n\n```diff\nterraform_data.r0: Creating...');
    expect(body.indexOf('\nApply complete! Resources: 20 added, 0 changed, 0 destroyed.\n', close)).toBeGreaterThan(close);
  });

  it('reports a failed apply as **Apply Error** with the output in a code block', () => {
    const output = 'Error: creating thing: AccessDenied';
    const body = renderApply(ctx, [{ project: named, outcome: applied(output, 'error') }]);
    expect(body).toContain('Ran Apply for project: `vpc` dir: `net/vpc` workspace: `prod`\n\n**Apply Error**\n\n```\nError: creating thing: AccessDenied\n```');
    expect(body).toContain('`tideline plan -p vpc`');
    expect(body).not.toContain('```diff');
  });

  it('lists several projects and counts applied and failed', () => {
    const body = renderApply(ctx, [
      { project: root, outcome: applied(APPLY_OUTPUT) },
      { project: named, outcome: applied('Error: nope', 'error') },
    ]);
    expect(body).toContain('Ran Apply for 2 projects:\n\n1. [dir: `.` workspace: `default`](#1-dir--workspace-default)');
    expect(body).toContain('### 2. project: `vpc` dir: `net/vpc` workspace: `prod`\n\n**Apply Error**');
    expect(body.split('\n').slice(-3)).toEqual(['2 projects, 1 applied, 1 failed', '', '<!-- tideline:apply -->']);
  });
});

describe('lock comments', () => {
  it('names the holding pull request and how to continue', () => {
    const body = renderLockConflict({ prefix: 'atlantis', serverUrl: 'https://tl.example.com' }, root, {
      pull: 12,
      url: 'https://github.com/acme/infra/pull/12',
    });
    expect(body).toContain('dir: `.` workspace: `default` is locked by pull request [#12](https://github.com/acme/infra/pull/12)');
    expect(body).toContain('`atlantis unlock`');
    expect(body).toContain('`atlantis plan -d .`');
    expect(body).toContain('(https://tl.example.com/locks?dir=.&workspace=default)');
    expect(parseCommentMarker(body)).toBe('lock');
  });

  it('writes a bare #N without a url', () => {
    expect(renderLockConflict(ctx, root, { pull: 7 })).toContain('locked by pull request #7,');
  });

  it.each([
    ['closed', 'This pull request was closed.'],
    ['merged', 'This pull request was merged.'],
    ['unlock', 'Released the locks'],
  ] as const)('lists each released project when %s', (why, lead) => {
    const body = renderReleased(ctx, [root, named], why);
    expect(body.startsWith(lead)).toBe(true);
    expect(body).toContain('\n- dir: `.` workspace: `default`\n- project: `vpc` dir: `net/vpc` workspace: `prod`\n');
    expect(parseCommentMarker(body)).toBe('released');
  });

  it.each(['closed', 'merged', 'unlock'] as const)('says no locks were held when %s released nothing', (why) => {
    const body = renderReleased(ctx, [], why);
    expect(body).toContain('no locks were held');
    expect(body).not.toContain('- dir:');
  });
});

describe('notices', () => {
  it('tells a stale plan to run plan again, with the command', () => {
    const body = renderStalePlan(ctx, named, 'the pull request head moved after the plan');
    expect(body).toContain('the plan is stale: run plan again');
    expect(body).toContain('the pull request head moved after the plan');
    expect(body).toContain('`tideline plan -p vpc`');
    expect(parseCommentMarker(body)).toBe('stale-plan');
  });

  it.each([
    [root, '`tideline plan -d .`'],
    [null, '`tideline plan`'],
  ])('says there is no plan for %o and offers %s', (project, command) => {
    const body = renderNoPlan(ctx, project);
    expect(body).toContain('**Apply Failed**');
    expect(body).toContain(command);
    expect(parseCommentMarker(body)).toBe('no-plan');
  });

  it.each([
    ['plan', '**Plan Error**'],
    ['apply', '**Apply Error**'],
    ['unlock', '**Unlock Error**'],
  ])('titles a %s error %s and fences the message', (command, title) => {
    const body = renderError(ctx, command, 'Error: bad ``` thing');
    expect(body).toBe(`${title}\n\n\`\`\`\`\nError: bad \`\`\` thing\n\`\`\`\`\n\n<!-- tideline:error -->`);
  });

  it('fences an invalid command message and keeps the markdown help as markdown', () => {
    const help = '| command | what it does |\n|---|---|\n| `tideline plan` | plans |';
    const body = renderInvalidCommand(ctx, 'unknown flag "-x" ![img](http://x)', help);
    expect(body).toBe(
      `**Invalid Command**\n\n\`\`\`\nunknown flag "-x" ![img](http://x)\n\`\`\`\n\n${help}\n\n<!-- tideline:invalid -->`,
    );
  });

  it('answers help with the markdown help and the help marker', () => {
    const body = renderHelp(ctx, '**Tideline** plans.\n');
    expect(body).toBe('**Tideline** plans.\n\n<!-- tideline:help -->');
  });

  it.each([
    ['plan', root, '`tideline plan -d .`'],
    ['apply', named, '`tideline plan -p vpc`'],
    ['apply', null, '`tideline plan`'],
    ['unlock', null, '`tideline unlock`'],
  ] as const)('tells how to re-run an interrupted %s', (command, project, rerun) => {
    const body = renderInterrupted(ctx, command, project);
    expect(body).toContain('server restarted');
    expect(body).toContain(rerun);
    expect(parseCommentMarker(body)).toBe('interrupted');
    expect(body).not.toContain('job page');
  });

  it('links the interrupted job\'s page when the server knows its URL', () => {
    const body = renderInterrupted(ctx, 'apply', null, 'https://tideline.example.com/jobs/7');
    expect(body).toContain('What it printed before it stopped: [its job page](https://tideline.example.com/jobs/7).');
    expect(parseCommentMarker(body)).toBe('interrupted');
  });

  it('does not take a comment that merely mentions a marker for ours', () => {
    expect(parseCommentMarker('see <!-- tideline:plan --> above\nthanks')).toBeNull();
    expect(parseCommentMarker('text\n<!-- tideline:bogus -->')).toBeNull();
  });
});
