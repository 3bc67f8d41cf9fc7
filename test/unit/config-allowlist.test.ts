import { describe, expect, it } from 'vitest';
import { allowlisted } from '../../config/read-env.js';
import { repoGlobProblem } from '../../config/repo-glob.js';

describe('allowlisted', () => {
  it.each([
    ['acme/infra', ['acme/infra'], true],
    ['acme/infra', ['acme/*'], true],
    ['acme/infra', ['*/infra'], true],
    ['acme/infra-prod', ['acme/infra-*'], true],
    ['acme/infra-', ['acme/infra-*'], true],
    ['acme/infra', ['*/*'], true],
    ['Acme/Infra', ['acme/infra'], true],
    ['acme/infra', ['ACME/*'], true],
    ['acme/infra', ['other/*', 'acme/infra'], true],
    ['acme/my.repo', ['acme/my.repo'], true],
    ['acme/myxrepo', ['acme/my.repo'], false],
    ['acme/infra', ['acme/infra-*'], false],
    ['acme/infra', ['acme/infr'], false],
    ['acme/infra', ['acme'], false],
    ['acme/infra', ['acm/*'], false],
    ['acme-corp/infra', ['acme/*'], false],
    ['evil/acme', ['acme/*'], false],
    ['acme/infra/x', ['acme/*'], false],
    ['acme/infra/x', ['*/*'], false],
    ['acme', ['*/*'], false],
    ['/infra', ['*/infra'], false],
    ['acme/infra', ['*'], false],
    ['acme/infra', ['github.com/acme/infra'], false],
    ['acme/infra', ['acme/(infra|x)'], false],
    ['acme/infra', [], false],
  ] as const)('%s against %j → %s', (repo, globs, expected) => {
    expect(allowlisted(repo, globs)).toBe(expected);
  });
});

describe('repoGlobProblem', () => {
  it.each(['acme/*', '*/infra', 'acme/infra-*', '*/*', 'my_org/re.po', 'a-b/c*d*e'])('accepts %s', (glob) => {
    expect(repoGlobProblem(glob)).toBeNull();
  });

  it.each([
    ['acme', /not an owner\/repo glob/],
    ['acme/', /not an owner\/repo glob/],
    ['/infra', /not an owner\/repo glob/],
    ['a/b/c', /not an owner\/repo glob/],
    ['acme/?nfra', /not an owner\/repo glob/],
    ['github.com/acme/*', /names a host: drop it and write `acme\/\*`/],
    ['*', /write `\*\/\*` to allow every repository/],
  ])('refuses %s', (glob, message) => {
    expect(repoGlobProblem(glob)).toMatch(message);
  });
});
