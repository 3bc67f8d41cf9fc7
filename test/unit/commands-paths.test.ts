import { describe, expect, it } from 'vitest';
import { codeSpan } from '../../server/commands/code-span.js';
import { normaliseDir } from '../../server/commands/repo-dir.js';
import { validateWorkspaceName } from '../../server/commands/workspace-name.js';

describe('normaliseDir', () => {
  it.each([
    ['.', '.'],
    ['./', '.'],
    ['./.', '.'],
    ['infra', 'infra'],
    ['infra/', 'infra'],
    ['./infra/network/', 'infra/network'],
    ['infra//network', 'infra/network'],
    ['infra/./network', 'infra/network'],
    ['infra/../modules', 'modules'],
    ['infra/..', '.'],
    ['a/b/../../c', 'c'],
    ['..foo/bar', '..foo/bar'],
    ['foo../bar', 'foo../bar'],
    ['.terraform', '.terraform'],
    ['~/x', '~/x'],
    ['dir with space', 'dir with space'],
    ['ünïcode/dir', 'ünïcode/dir'],
  ])('normalises %j to %j', (dir, expected) => {
    expect(normaliseDir(dir)).toEqual({ ok: true, dir: expected });
  });

  it.each([
    ['', /is empty: give a directory relative to the repository root, or \. for the root/],
    ['/', /is an absolute path/],
    ['/etc', /is an absolute path: give the directory relative to the repository root/],
    ['//server/share', /is an absolute path/],
    ['..', /leaves the repository: give a directory inside it/],
    ['../x', /leaves the repository/],
    ['./../x', /leaves the repository/],
    ['a/../..', /leaves the repository/],
    ['a/../../b', /leaves the repository/],
    ['infra\\network', /contains a backslash: separate directories with \//],
    ['..\\x', /contains a backslash/],
    ['C:\\infra', /contains a backslash/],
    ['infra\u0000/x', /contains a control character/],
    ['infra\n', /contains a control character/],
  ])('refuses %j', (dir, message) => {
    const result = normaliseDir(dir);
    expect(result.ok ? 'accepted' : result.message).toMatch(message);
  });

  it('never shows a NUL in its message', () => {
    const result = normaliseDir('a\u0000b');
    expect(result.ok ? '' : result.message).toContain('`a\\x00b`');
  });
});

describe('validateWorkspaceName', () => {
  it.each(['default', 'staging', 'eu-west-1', 'prod_v2', 'v1.2', 'A', 'w'.repeat(90), '...', '.hidden'])('accepts %j', (ws) => {
    expect(validateWorkspaceName(ws)).toBeNull();
  });

  it.each([
    ['', /is empty/],
    ['w'.repeat(91), /is longer than 90 characters/],
    ['a/b', /may only contain letters, digits, -, _ and \. \(no \/ or spaces\)/],
    ['a b', /may only contain/],
    ['a\\b', /may only contain/],
    ['prod;rm', /may only contain/],
    ['ws\u0000', /may only contain/],
    ['ünï', /may only contain/],
    ['..', /is not a workspace name/],
    ['.', /is not a workspace name/],
  ])('refuses %j', (ws, message) => {
    expect(validateWorkspaceName(ws)).toMatch(message);
  });
});

describe('codeSpan', () => {
  it.each([
    ['plain', '`plain`'],
    ['', '`""`'],
    ['a`b', '`` a`b ``'],
    ['a\nb', '`a\\x0ab`'],
    ['x'.repeat(100), `\`${'x'.repeat(59)}…\``],
  ])('shows %j as %j', (text, expected) => {
    expect(codeSpan(text)).toBe(expected);
  });
});
