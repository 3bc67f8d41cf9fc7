// Text a pull request controls must not become markdown in a reply: only what Tideline writes
// itself sits outside code blocks and code spans.

import { describe, expect, it } from 'vitest';
import type { Project } from '../../server/projects/types.js';
import { renderApply, renderLockConflict, renderPlan, renderReleased, type RenderContext } from '../../server/comments/index.js';

const ctx: RenderContext = { prefix: 'tideline' };
const root: Project = { dir: '.', workspace: 'default', kind: 'terraform' };

/** Markdown outside code: the body with every fenced block and code span removed. */
function outsideCode(body: string): string {
  return body
    .replace(/^(`{3,})[^\n]*\n[\s\S]*?\n\1$/gm, '')
    .replace(/(`+)(?!`)[^\n]*?(?<!`)\1(?!`)/g, '');
}

// What terraform 1.11 printed applying a config whose check block's `error_message` is the
// line below (a warning, printed before terraform's own summary) and whose output is a
// heredoc holding another such line (printed at column 0 after it).
const APPLY_WITH_CHECK_WARNING = [
  'terraform_data.x: Creating...',
  'terraform_data.x: Creation complete after 0s [id=27d2f408-38c2-588b-432b-705e0aab95fa]',
  '',
  'Warning: Check block assertion failed',
  '',
  '  on main.tf line 4, in check "c":',
  '   4:     condition = terraform_data.x.input == "b"',
  '    ├────────────────',
  '    │ terraform_data.x.input is "a"',
  '',
  'Apply complete! Resources: @acme/everyone [click](https://evil.example) <img',
  'src=x>',
  '',
  'Apply complete! Resources: 1 added, 0 changed, 0 destroyed.',
  '',
  'Outputs:',
  '',
  'o = <<EOT',
  'x',
  'Apply complete! Resources: <b>@acme/team</b>',
  'y',
  'EOT',
].join('\n');

describe('summary lines picked out of terraform output', () => {
  it('show terraform\'s own apply summary, not a line the configuration printed', () => {
    const body = renderApply(ctx, [{ project: root, outcome: { result: 'applied', output: APPLY_WITH_CHECK_WARNING, exitCode: 0, durationMs: 5 } }]);
    const outside = outsideCode(body);
    expect(outside).toContain('Apply complete! Resources: 1 added, 0 changed, 0 destroyed.');
    expect(outside).not.toContain('@acme');
    expect(outside).not.toContain('evil.example');
  });

  it('show terraform\'s own plan summary, not an earlier line a run step printed', () => {
    const resources = Array.from({ length: 6 }, (_, i) => [`  # terraform_data.r${i} will be created`, `  + resource "terraform_data" "r${i}" {}`]).flat();
    const output = ['Plan: @acme/everyone <img src=x> 0 to destroy.', '', ...resources, '', 'Plan: 6 to add, 0 to change, 0 to destroy.'].join('\n');
    const body = renderPlan(ctx, [{ project: root, outcome: { result: 'changes', summary: { add: 6, change: 0, destroy: 0 }, output, exitCode: 2, durationMs: 5 } }]);
    const outside = outsideCode(body);
    expect(outside).toContain('Plan: 6 to add, 0 to change, 0 to destroy.');
    expect(outside).not.toContain('@acme');
  });

  // The shape with imports, as the terraform binary's format string has it.
  it.each(['Plan: 1 to import, 2 to add, 0 to change, 0 to destroy.'])('still recognise %s', (line) => {
    const output = [...Array.from({ length: 14 }, (_, i) => `  + resource "terraform_data" "r${i}" {}`), '', line].join('\n');
    const body = renderPlan(ctx, [{ project: root, outcome: { result: 'changes', summary: { add: 2, change: 0, destroy: 0 }, output, exitCode: 2, durationMs: 5 } }]);
    expect(outsideCode(body)).toContain(line);
  });
});

describe('a project directory the pull request named', () => {
  const planned = { result: 'changes' as const, summary: { add: 1, change: 0, destroy: 0 }, output: '  + resource "terraform_data" "x" {}', exitCode: 2, durationMs: 5 };
  const renderers: [string, (p: Project) => string][] = [
    ['a one-project plan', (p) => renderPlan(ctx, [{ project: p, outcome: planned }])],
    ['a plan of several projects', (p) => renderPlan(ctx, [{ project: root, outcome: planned }, { project: p, outcome: planned }])],
    ['a lock conflict', (p) => renderLockConflict(ctx, p, { pull: 7 })],
    ['released locks', (p) => renderReleased(ctx, [p], 'unlock')],
  ];
  it.each(renderers)('with a line break stays in its code span in %s', (_what, render) => {
    const body = render({ dir: 'evil\n\n@acme/everyone <b>x</b>\n# heading\r\n- item', workspace: 'default', kind: 'terraform' });
    const outside = outsideCode(body);
    expect(outside).not.toContain('@acme');
    expect(outside).not.toMatch(/^# heading/m);
    expect(body).toContain('evil\\x0a\\x0a@acme/everyone <b>x</b>\\x0a# heading\\x0d\\x0a- item');
  });
  it.each(['a*b*_c_|d', '<script>alert(1)</script>', 'x`y``z', '`edge`', '@acme/team'])('%s is shown literally in a code span', (dir) => {
    for (const [, render] of renderers) {
      const outside = outsideCode(render({ dir, workspace: 'default', kind: 'terraform' }));
      expect(outside).not.toContain(dir);
      expect(outside).not.toMatch(/<script|@acme/);
    }
  });
});

describe('terminal escapes in output', () => {
  it.each([
    ['colour', '\u001b[1;32mok\u001b[0m'],
    ['tput sgr0 (a charset switch, then a reset)', '\u001b(B\u001b[mok'],
    ['a hyperlink', '\u001b]8;;https://example.com\u0007ok\u001b]8;;\u0007'],
    ['a hyperlink ended by ST', '\u001b]8;;https://example.com\u001b\\ok\u001b]8;;\u001b\\'],
    ['a cursor shape', '\u001b[2 qok'],
  ])('are dropped: %s', (_what, output) => {
    const body = renderApply(ctx, [{ project: root, outcome: { result: 'applied', output, exitCode: 0, durationMs: 5 } }]);
    expect(body).toContain('```diff\nok\n```');
    expect(body).not.toContain('\u001b');
  });
});
