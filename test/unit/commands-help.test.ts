import { describe, expect, it } from 'vitest';
import { commandNames } from '../../server/commands/command-table.js';
import { helpText } from '../../server/commands/help.js';
import { parseComment } from '../../server/commands/parse.js';

describe('helpText', () => {
  it.each(commandNames())('lists the %s command under the prefix', (name) => {
    expect(helpText('tideline')).toContain(`\`tideline ${name}\``);
  });

  it.each(['-p NAME', '--project NAME', '-d DIR', '--dir DIR', '-w NAME', '--workspace NAME', '--verbose', '-- ARGS'])('documents %s', (flag) => {
    expect(helpText('tideline')).toContain(`\`${flag}\``);
  });

  it('uses the configured prefix throughout', () => {
    const text = helpText('atlantis');
    expect(text).not.toContain('tideline ');
    expect(text).toContain('atlantis plan -d . -- -target=aws_instance.web');
  });

  it('shows only examples that parse as commands', () => {
    const examples = helpText('tideline')
      .split('\n')
      .filter((line) => line.startsWith('tideline ') && !line.includes('<command>'));
    expect(examples.length).toBeGreaterThanOrEqual(5);
    for (const example of examples) {
      expect(parseComment(example, 'tideline').kind, example).toBe('command');
    }
  });

  it('balances its code fences', () => {
    expect(helpText('tideline').split('\n').filter((line) => line.startsWith('```')).length % 2).toBe(0);
  });
});
