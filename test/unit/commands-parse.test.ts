import { describe, expect, it } from 'vitest';
import { parseComment } from '../../server/commands/parse.js';
import type { Command, ParseResult } from '../../server/commands/types.js';

function cmd(name: Command['name'], selector: Command['selector'] = {}, extraArgs: string[] = [], verbose = false): ParseResult {
  return { kind: 'command', command: verbose ? { name, selector, extraArgs, verbose } : { name, selector, extraArgs } };
}

describe('parseComment: comments not addressed to us', () => {
  it.each([
    ['empty', ''],
    ['blank', '  \n\t '],
    ['another prefix', 'atlantis plan'],
    ['terraform not followed by a command', 'terraform is great'],
    // Prose about terraform's own run, as people and CI bots post it: no command to suggest.
    ['terraform plan in a sentence', 'terraform plan looks good to me'],
    ['a one-line CI note', 'terraform apply succeeded ✅'],
    ['run not followed by a command', 'run the tests please'],
    ['run alone', 'run'],
    ['run in another case', 'Run plan'],
    ['the prefix in another case', 'Tideline plan'],
    ['the prefix as a mention', '@tideline plan'],
    ['the prefix inside a word', 'tidelines plan'],
    ['the prefix glued to punctuation', 'tideline: plan'],
    ['the prefix not first', 'please tideline plan'],
    ['a quoted reply', '> tideline plan'],
    ['two lines', 'tideline plan\ntideline apply'],
    ['two lines with CRLF', 'tideline plan\r\nthanks'],
    ['a second line of prose', 'tideline plan\nthis should fix it'],
    ['text before the command on its own line', 'LGTM\ntideline apply'],
    ['a quote left open in a comment for someone else', "atlantis plan -- -var='x"],
  ])('ignores %s', (_case, body) => {
    expect(parseComment(body, 'tideline')).toEqual({ kind: 'ignore' });
  });
});

describe('parseComment: an @-mention of the server instead of the prefix (as Atlantis)', () => {
  const mentions = ['tideline-bot'];
  it.each([
    ['@tideline-bot plan -d infra', cmd('plan', { dir: 'infra' })],
    ['@Tideline-Bot apply -p billing', cmd('apply', { project: 'billing' })],
    ['  @tideline-bot unlock\r\n', cmd('unlock')],
    ['@tideline-bot', cmd('help')],
    ['tideline plan', cmd('plan')],
  ])('reads %j', (body, expected) => {
    expect(parseComment(body, 'tideline', { mentions })).toEqual(expected);
  });

  it.each([
    ['another account', '@someone-else plan'],
    ['the mention glued to punctuation', '@tideline-bot: plan'],
    ['a bare @', '@ plan'],
    ['the mention not first', 'thanks @tideline-bot plan'],
  ])('ignores %s', (_case, body) => {
    expect(parseComment(body, 'tideline', { mentions })).toEqual({ kind: 'ignore' });
  });

  it('ignores mentions when no account names are given', () => {
    expect(parseComment('@tideline-bot plan', 'tideline')).toEqual({ kind: 'ignore' });
  });
});

describe('parseComment: -h and --help in place of a command (as Atlantis)', () => {
  it.each(['tideline -h', 'tideline --help'])('answers %j with the help', (body) => {
    expect(parseComment(body, 'tideline')).toEqual(cmd('help'));
  });

  it('still refuses -h followed by more words', () => {
    expect(parseComment('tideline -h plan', 'tideline').kind).toBe('invalid');
  });
});

describe('parseComment: automerge flags of apply', () => {
  it.each([
    ['tideline apply --auto-merge-disabled', { disabled: true }],
    ['tideline apply -p app --auto-merge-method squash', { method: 'squash' }],
    ['tideline apply --auto-merge-method=rebase -- -parallelism=2', { method: 'rebase' }],
  ] as const)('reads %s', (body, autoMerge) => {
    const result = parseComment(body, 'tideline');
    expect(result.kind === 'command' ? result.command.autoMerge : null).toEqual(autoMerge);
  });

  it('leaves autoMerge out when neither is given', () => {
    const result = parseComment('tideline apply', 'tideline');
    expect(result.kind === 'command' && 'autoMerge' in result.command).toBe(false);
  });
});

describe('parseComment: commands', () => {
  it.each([
    ['tideline', cmd('help')],
    ['tideline\n', cmd('help')],
    ['tideline help', cmd('help')],
    ['tideline version', cmd('version')],
    ['tideline unlock', cmd('unlock')],
    ['tideline plan', cmd('plan')],
    ['tideline apply', cmd('apply')],
    ['  tideline   plan  \n\n', cmd('plan')],
    ['tideline plan\r\n', cmd('plan')],
    ['tideline plan -p billing', cmd('plan', { project: 'billing' })],
    ['tideline plan --project billing', cmd('plan', { project: 'billing' })],
    ['tideline plan --project=billing', cmd('plan', { project: 'billing' })],
    ['tideline plan -p=billing', cmd('plan', { project: 'billing' })],
    ['tideline plan -d infra/network', cmd('plan', { dir: 'infra/network' })],
    ['tideline plan --dir infra/network', cmd('plan', { dir: 'infra/network' })],
    ['tideline plan -d=infra/network', cmd('plan', { dir: 'infra/network' })],
    ['tideline plan --dir=infra/network', cmd('plan', { dir: 'infra/network' })],
    ['tideline plan -d ./infra/network/', cmd('plan', { dir: 'infra/network' })],
    ['tideline plan -d .', cmd('plan', { dir: '.' })],
    ['tideline plan -d ./', cmd('plan', { dir: '.' })],
    ['tideline plan -d a/../b', cmd('plan', { dir: 'b' })],
    ['tideline plan -d "dir with space"', cmd('plan', { dir: 'dir with space' })],
    ['tideline plan -d infra -w staging', cmd('plan', { dir: 'infra', workspace: 'staging' })],
    ['tideline plan -w staging -d infra', cmd('plan', { dir: 'infra', workspace: 'staging' })],
    ['tideline plan --dir infra --workspace=eu-west-1', cmd('plan', { dir: 'infra', workspace: 'eu-west-1' })],
    ['tideline plan -w staging', cmd('plan', { workspace: 'staging' })],
    ['tideline apply -p billing', cmd('apply', { project: 'billing' })],
    ['tideline apply -d . -w default', cmd('apply', { dir: '.', workspace: 'default' })],
    ['tideline plan --verbose', cmd('plan', {}, [], true)],
    ['tideline apply -p billing --verbose', cmd('apply', { project: 'billing' }, [], true)],
    ['tideline plan -- -target=aws_instance.web', cmd('plan', {}, ['-target=aws_instance.web'])],
    ['tideline plan -d . -- -target=a.b -refresh=false', cmd('plan', { dir: '.' }, ['-target=a.b', '-refresh=false'])],
    ['tideline plan -- -var="name=a b"', cmd('plan', {}, ['-var=name=a b'])],
    ["tideline plan -- -var 'tags=[\"x\"]'", cmd('plan', {}, ['-var', 'tags=["x"]'])],
    ['tideline plan -- "a \\"quoted\\" word"', cmd('plan', {}, ['a "quoted" word'])],
    ['tideline plan -- $(rm -rf /) `id` ; | &&', cmd('plan', {}, ['$(rm', '-rf', '/)', '`id`', ';', '|', '&&'])],
    ['tideline plan -- -d x -p y -- z', cmd('plan', {}, ['-d', 'x', '-p', 'y', '--', 'z'])],
    ['tideline plan --', cmd('plan')],
    ['tideline apply -- -parallelism=1', cmd('apply', {}, ['-parallelism=1'])],
    ["tideline plan -p 'my project'", cmd('plan', { project: 'my project' })],
    // A short flag glued to its value, as Atlantis's flag parser (pflag) reads it.
    ['tideline plan -dinfra/network', cmd('plan', { dir: 'infra/network' })],
    ['tideline plan -pbilling', cmd('plan', { project: 'billing' })],
    ['tideline plan -d. -wstaging', cmd('plan', { dir: '.', workspace: 'staging' })],
    ["tideline plan -p'a=b'", cmd('plan', { project: 'a=b' })],
  ])('reads %j', (body, expected) => {
    expect(parseComment(body, 'tideline')).toEqual(expected);
  });

  it.each([
    ['atlantis plan -d .', 'atlantis', cmd('plan', { dir: '.' })],
    ['my-bot2 apply', 'my-bot2', cmd('apply')],
    ['tideline plan', 'atlantis', { kind: 'ignore' }],
    // `run`, Atlantis's global executable name, before a command, for a team that kept `atlantis`.
    ['run plan', 'atlantis', cmd('plan')],
    ['run plan -d infra', 'atlantis', cmd('plan', { dir: 'infra' })],
    ['run apply -p billing', 'atlantis', cmd('apply', { project: 'billing' })],
    ['run unlock', 'atlantis', cmd('unlock')],
    ['run help', 'atlantis', cmd('help')],
    ['run --help', 'atlantis', cmd('help')],
    ['run the tests please', 'atlantis', { kind: 'ignore' }],
    // With a prefix of its own, Tideline may run beside Atlantis: `run plan` is Atlantis's.
    ['run plan', 'tideline', { kind: 'ignore' }],
    ['terraform plan', 'terraform', cmd('plan')],
  ] as const)('honours the configured prefix: %j with prefix %s', (body, prefix, expected) => {
    expect(parseComment(body, prefix)).toEqual(expected);
  });
});

describe('parseComment: invalid commands', () => {
  it.each([
    ['an unknown command', 'tideline destroy', /^`destroy` is not a command: use plan, apply, unlock, help, version$/],
    ['Atlantis import', 'tideline import aws_instance.web i-123', /^`import` is an Atlantis command Tideline does not have: run `terraform import` outside Tideline, or add an `import` block/],
    ['Atlantis state rm', 'tideline state rm aws_instance.web', /^`state` is an Atlantis command Tideline does not have: .*`removed`/],
    ['Atlantis approve_policies', 'tideline approve_policies', /^`approve_policies` is an Atlantis command Tideline does not have: Tideline runs no policy checks/],
    ['a command in the wrong case', 'tideline Plan', /^`Plan` is not a command/],
    ['prose after the prefix', 'tideline is broken again', /^`is` is not a command/],
    ['a command named after an Object.prototype key', 'tideline constructor', /^`constructor` is not a command/],
    ['__proto__ as a command', 'tideline __proto__', /^`__proto__` is not a command/],
    ['an argument named after an Object.prototype key', 'tideline plan constructor', /^`constructor` is not a flag of plan/],
    ['__proto__ as an argument', 'tideline plan __proto__ x', /^`__proto__` is not a flag of plan/],
    ['an unknown short flag', 'tideline plan -x', /^`-x` is not a flag of plan \(those are -p, -d, -w and --verbose\): to pass it to terraform, put it after --, e.g. `tideline plan -- -x`$/],
    ['a terraform flag before --', 'tideline plan -target=aws_instance.web', /^`-target` is not a flag of plan.*`tideline plan -- -target=aws_instance.web`$/],
    ['an unknown long flag', 'tideline apply --auto-approve', /^`--auto-approve` is not a flag of apply/],
    ['a help flag', 'tideline plan --help', /^`--help` is not a flag of plan/],
    ['a stray argument', 'tideline plan infra', /^`infra` is not a flag of plan: to pass it to terraform, put it after --, e.g. `tideline plan -- infra`$/],
    ['-p without a value', 'tideline plan -p', /^`-p` needs a value: give a project name, e.g. -p billing$/],
    ['-d without a value', 'tideline plan -d', /^`-d` needs a value: give a directory, e.g. -d infra\/network$/],
    ['-w without a value', 'tideline plan -w', /^`-w` needs a value: give a workspace name/],
    ['--dir followed by a flag', 'tideline plan --dir -w staging', /^`--dir` needs a value/],
    ['-d followed by --', 'tideline plan -d -- -x', /^`-d` needs a value/],
    ['an empty -p=', 'tideline plan -p=', /^`-p` needs a value: give a project name, e.g. -p billing$/],
    ['an empty quoted project', 'tideline plan -p ""', /^`-p` needs a value: give a project name/],
    ['a repeated flag', 'tideline plan -d a -d b', /^`-d` is given twice: give it once$/],
    ['a repeated flag in both forms', 'tideline plan -d a --dir=b', /^`--dir` is given twice/],
    ['a repeated --verbose', 'tideline plan --verbose --verbose', /^`--verbose` is given twice/],
    ['a valued --verbose', 'tideline plan --verbose=true', /^`--verbose` takes no value/],
    ['a repeated glued flag', 'tideline plan -da -db', /^`-d` is given twice/],
    ['a long flag with one dash', 'tideline plan -dir infra', /^`-dir` would read as `-d ir`: write `--dir`, with two dashes$/],
    ['-project with one dash', 'tideline apply -project billing', /^`-project` would read as `-p roject`: write `--project`/],
    ['-dir= with one dash', 'tideline plan -dir=infra', /^`-dir` would read as `-d ir`: write `--dir`/],
    ['-workspace with one dash', 'tideline plan -workspace staging', /^`-workspace` would read as `-w orkspace`: write `--workspace`/],
    // A terraform flag before -- is not read as -d/-p glued to the rest (-destroy as -d estroy).
    ['-destroy before --', 'tideline plan -destroy', /^`-destroy` is not a flag of plan.*`tideline plan -- -destroy`$/],
    ['-parallelism= before --', 'tideline apply -parallelism=1', /^`-parallelism` is not a flag of apply.*`tideline apply -- -parallelism=1`$/],
    ['-detailed-exitcode before --', 'tideline plan -detailed-exitcode', /^`-detailed-exitcode` is not a flag of plan/],
    ['a glued -d escaping the repository', 'tideline plan -d../x', /^-d `\.\.\/x` leaves the repository/],
    ['a glued workspace with a slash', 'tideline plan -wa/b', /^-w `a\/b` may only contain/],
    ['terraform in place of the prefix', 'terraform plan -d infra', /^did you mean `tideline plan -d infra`\? Commands start with `tideline`, not `terraform`$/],
    ['terraform before an unknown word of ours', 'terraform apply', /^did you mean `tideline apply`\?/],
    ['-p with -d', 'tideline plan -p billing -d infra', /^-p cannot be combined with -d\/-w: a project name already fixes dir and workspace$/],
    ['-p with -w', 'tideline apply -w staging -p billing', /^-p cannot be combined with -d\/-w/],
    ['-d escaping the repository', 'tideline plan -d ../x', /^-d `\.\.\/x` leaves the repository: give a directory inside it/],
    ['-d escaping after a detour', 'tideline plan -d a/../../x', /^-d `a\/\.\.\/\.\.\/x` leaves the repository/],
    ['an absolute -d', 'tideline plan -d /etc', /^-d `\/etc` is an absolute path: give the directory relative to the repository root/],
    ['a -d with a backslash', 'tideline plan -d infra\\net', /^-d `infra\\net` contains a backslash: separate directories with \//],
    ['an empty -d', 'tideline plan -d ""', /^-d `""` is empty/],
    ['a workspace with a slash', 'tideline plan -d . -w a/b', /^-w `a\/b` may only contain letters, digits, -, _ and \./],
    ['a workspace ..', 'tideline plan -w ..', /^-w `\.\.` is not a workspace name/],
    ['an overlong workspace', `tideline plan -w ${'w'.repeat(91)}`, /is longer than 90 characters/],
    ['flags on unlock', 'tideline unlock -p billing', /^unlock takes no flags or arguments, got `-p billing`: write `tideline unlock`$/],
    ['extra args on unlock', 'tideline unlock -- -force', /^unlock takes no flags or arguments, got `-- -force`: write `tideline unlock`$/],
    ['an argument to help', 'tideline help plan', /^help takes no flags or arguments, got `plan`: write `tideline help`$/],
    ['flags on version', 'tideline version --verbose', /^version takes no flags or arguments/],
    ['an open single quote', "tideline plan -- -var='x=1", /^a ' quote is left open: close it, or remove it$/],
    ['an open double quote', 'tideline plan -d "infra', /^a " quote is left open/],
    ['--auto-merge-disabled on plan', 'tideline plan --auto-merge-disabled', /^`--auto-merge-disabled` is a flag of apply: it says how an apply merges the pull request when the repo config sets `automerge: true`$/],
    ['an unknown merge method', 'tideline apply --auto-merge-method fast-forward', /^`--auto-merge-method` needs one of merge, squash or rebase, got `fast-forward`: e.g. --auto-merge-method squash$/],
    ['a merge method missing', 'tideline apply --auto-merge-method', /^`--auto-merge-method` needs one of merge, squash or rebase: e.g./],
    ['both automerge flags', 'tideline apply --auto-merge-disabled --auto-merge-method squash', /^--auto-merge-disabled cannot be combined with --auto-merge-method: give one of them$/],
    ['--auto-merge-disabled twice', 'tideline apply --auto-merge-disabled --auto-merge-disabled', /is given twice/],
    ['a zero-width space pasted into -p', 'tideline apply -p billing\u200b', /^`-p` `billing\\u\{200b\}` holds an invisible character \(U\+200B\), often pasted from chat or a document: type the value again$/],
    ['a word joiner pasted into -d', 'tideline plan -d infra\u2060/net', /^`-d` `infra\\u\{2060\}\/net` holds an invisible character \(U\+2060\)/],
    ['a command word with a zero-width space, shown', 'tideline plan\u200b', /^`plan\\u\{200b\}` is not a command/],
  ])('refuses %s', (_case, body, message) => {
    const result = parseComment(body, 'tideline');
    expect(result.kind).toBe('invalid');
    expect(result.kind === 'invalid' ? result.message : '').toMatch(message);
  });

  it('reads the flags after run as after the prefix', () => {
    const result = parseComment('run plan -x', 'atlantis');
    expect(result.kind === 'invalid' ? result.message : '').toMatch(/^`-x` is not a flag of plan.*`atlantis plan -- -x`$/);
  });

  it('shows user text only inside code spans, so it cannot mention or format', () => {
    const result = parseComment('tideline @everyone', 'tideline');
    expect(result).toEqual({ kind: 'invalid', message: expect.stringMatching(/^`@everyone` is not a command/) });
  });

  it('shortens a very long offending word', () => {
    const result = parseComment(`tideline ${'x'.repeat(500)}`, 'tideline');
    expect(result.kind === 'invalid' ? result.message.length : 0).toBeLessThan(150);
  });
});
