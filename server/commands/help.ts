// The reply to `<prefix> help`, to a bare `<prefix>`, and the tail of every "invalid command"
// reply: commands, flags and examples, in the manner of `atlantis help`.

import { COMMANDS, commandNames } from './command-table.js';

export function helpText(prefix: string): string {
  const commands = commandNames().map((name) => `| \`${prefix} ${name}\` | ${COMMANDS[name].summary} |`);
  return [
    `**Tideline** plans and applies the Terraform and Kubernetes projects a pull request changes.`,
    `Comment on the pull request with a single line:`,
    '',
    '```',
    `${prefix} <command> [flags] [-- extra arguments]`,
    '```',
    '',
    '| command | what it does |',
    '|---|---|',
    ...commands,
    '',
    'Flags of `plan` and `apply`:',
    '',
    '| flag | meaning |',
    '|---|---|',
    '| `-p NAME`, `--project NAME` | the project named `NAME` in the repo config; not together with `-d` or `-w` |',
    '| `-d DIR`, `--dir DIR` | the project in directory `DIR`, relative to the repository root (`.` is the root) |',
    '| `-w NAME`, `--workspace NAME` | the Terraform workspace (default `default`) |',
    '| `--verbose` | adds more of the tool output to the reply |',
    '| `-- ARGS` | everything after `--` is passed on to terraform or kubectl as extra arguments |',
    '',
    'Flag values may also be written `-d=DIR` or `--dir=DIR`. Quote values that hold spaces: `\'a b\'` or `"a b"`.',
    '',
    'Examples:',
    '',
    '```',
    '# plan every project this pull request changes',
    `${prefix} plan`,
    '',
    '# plan the project in the root directory, passing -target to terraform',
    `${prefix} plan -d . -- -target=aws_instance.web`,
    '',
    '# plan the staging workspace of the project in infra/network',
    `${prefix} plan -d infra/network -w staging`,
    '',
    '# apply every plan of this pull request that is not applied yet',
    `${prefix} apply`,
    '',
    '# apply only the project named billing',
    `${prefix} apply -p billing`,
    '',
    "# release this pull request's locks",
    `${prefix} unlock`,
    '```',
  ].join('\n');
}
