import { describe, expect, it } from 'vitest';
import { compileGlob, globMatches, globProblem, globToRegExp, matchesWhenModified } from '../../server/projects/glob.js';

describe('globToRegExp', () => {
  it.each([
    // pattern, path, matches
    ['*.tf', 'main.tf', true],
    ['*.tf', 'sub/main.tf', false],
    ['*.tf*', 'vars.tfvars', true],
    ['*.tf*', 'x.tf.json', true],
    ['**/*.tf', 'main.tf', true],
    ['**/*.tf', 'a/b/c/main.tf', true],
    ['**/*.tf', 'a/b/c/main.tfvars', false],
    ['a/**/b.tf', 'a/b.tf', true],
    ['a/**/b.tf', 'a/x/y/b.tf', true],
    ['a/**/b.tf', 'ab.tf', false],
    ['a/**', 'a/x', true],
    ['a/**', 'a/x/y', true],
    ['**', 'anything/at/all', true],
    ['modules/**.tf', 'modules/x/y.tf', true], // `**` inside a segment crosses `/`, as in moby's patternmatcher
    ['?.tf', 'a.tf', true],
    ['?.tf', 'ab.tf', false],
    ['?.tf', '/.tf', false],
    ['[abc].tf', 'b.tf', true],
    ['[abc].tf', 'd.tf', false],
    ['[!abc].tf', 'd.tf', true],
    ['[a-c].tf', 'c.tf', true],
    ['*.{tf,tfvars}', 'x.tfvars', true],
    ['*.{tf,tfvars}', 'x.tf', true],
    ['*.{tf,tfvars}', 'x.json', false],
    ['{envs/*,base}/*.tf', 'envs/prod/main.tf', true],
    ['{envs/*,base}/*.tf', 'base/main.tf', true],
    ['{envs/*,base}/*.tf', 'other/main.tf', false],
    ['{a,{b,c}}.tf', 'c.tf', true],
    ['\\*.tf', '*.tf', true],
    ['\\*.tf', 'x.tf', false],
    ['a.b', 'aXb', false],
    ['.terraform.lock.hcl', '.terraform.lock.hcl', true],
    ['*', '.hidden', true],
  ])('%s against %s → %s', (pattern, path, expected) => {
    expect(globToRegExp(pattern).test(path)).toBe(expected);
  });
});

describe('globProblem', () => {
  it.each([
    ['**/*.tf', null],
    ['!test/**', null],
    ['', 'is empty'],
    ['!', 'is empty'],
    ['/abs/*.tf', 'starts with `/`'],
    ['[abc.tf', 'without its `]`'],
    ['{a,b.tf', 'without its `}`'],
    ['x\\', 'lone backslash'],
  ])('%j → %s', (pattern, expected) => {
    const problem = globProblem(pattern);
    if (expected === null) expect(problem).toBeNull();
    else expect(problem).toContain(expected);
  });
});

describe('when_modified lists (relative to the project dir, dockerignore order)', () => {
  it.each([
    // dir, patterns, file, matches
    ['project1', ['*.tf*'], 'project1/main.tf', true],
    ['project1', ['*.tf*'], 'project1/sub/main.tf', false],
    ['project1', ['**/*.tf*'], 'project1/sub/main.tf', true],
    ['project1', ['**/*.tf*'], 'project2/main.tf', false],
    ['project1', ['../modules/**/*.tf'], 'modules/net/main.tf', true],
    ['project1', ['../modules/**/*.tf'], 'project1/modules/net/main.tf', false],
    ['.', ['**/*.tf'], 'deep/down/x.tf', true],
    ['.', ['../outside/*.tf'], 'outside/x.tf', false], // leaves the repository: matches nothing
    ['envs/prod', ['./*.tfvars'], 'envs/prod/terraform.tfvars', true],
    ['app', ['**/*.tf', '!test/**'], 'app/test/fixture.tf', false],
    ['app', ['**/*.tf', '!test/**'], 'app/main.tf', true],
    ['app', ['**/*.tf', '!test/**', 'test/keep.tf'], 'app/test/keep.tf', true],
    ['app', ['!**/*.md', '**/*'], 'app/README.md', true], // the last matching pattern decides
    ['app', ['**/*', '!**/*.md'], 'app/README.md', false],
    ['app', ['config'], 'app/config/settings.yaml', true], // a directory pattern matches what is under it
    ['app', ['conf*'], 'app/config/settings.yaml', true],
    ['app', ['config/'], 'app/config/x', true],
    ['k8s', ['**/*'], 'k8s/base/deploy.yaml', true],
    ['k8s', ['**/*'], 'k8s-other/deploy.yaml', false],
  ])('dir %s %j selects %s → %s', (dir, patterns, file, expected) => {
    expect(matchesWhenModified(dir, patterns, file)).toBe(expected);
  });

  it('shares the translated rest of a pattern between projects', () => {
    const cache = new Map<string, RegExp>();
    const a = compileGlob('a', '**/*.tf*', cache);
    const b = compileGlob('b/c', '**/*.tf*', cache);
    expect(a?.prefix).toBe('a');
    expect(b?.prefix).toBe('b/c');
    expect(a?.rest).toBe(b?.rest);
    expect(cache.size).toBe(1);
    expect(b !== null && globMatches(b, 'b/c/x/main.tf')).toBe(true);
  });
});
