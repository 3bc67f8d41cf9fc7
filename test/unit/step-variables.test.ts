// The pure helpers of custom workflows: Atlantis's COMMENT_ARGS escaping and refresh stripping.
import { describe, expect, it } from 'vitest';
import { stripRefreshing } from '../../runners/refresh-noise.js';
import { commentArgsVariable } from '../../runners/step-variables.js';

describe('commentArgsVariable', () => {
  it.each([
    { args: [], want: '' },
    { args: ['-target=a'], want: '\\-\\t\\a\\r\\g\\e\\t\\=\\a' },
    { args: ['a b', '$(id)'], want: '\\a\\ \\b,\\$\\(\\i\\d\\)' },
  ])('escapes $args', ({ args, want }) => {
    expect(commentArgsVariable(args)).toBe(want);
  });
});

describe('stripRefreshing', () => {
  it.each([
    {
      name: 'refresh and data source lines',
      text: 'terraform_data.x: Refreshing state... [id=1]\ndata.http.a: Reading...\ndata.http.a: Read complete after 0s\n\nTerraform will perform the following actions:\n',
      want: 'Terraform will perform the following actions:\n',
    },
    { name: 'nothing to strip', text: 'No changes.\n', want: 'No changes.\n' },
    { name: 'a resource named like the noise', text: '  + name = "Refreshing"\n', want: '  + name = "Refreshing"\n' },
  ])('$name', ({ text, want }) => {
    expect(stripRefreshing(text)).toBe(want);
  });
});
