// The commands a comment may ask for, keyed by name. The Record type makes the table complete:
// adding a name to `CommandName` without a row here does not compile.

import type { CommandName } from './types.js';

export interface CommandSpec {
  /** Takes -p / -d / -w / --verbose and extra arguments after `--`. */
  takesArguments: boolean;
  /** One line for the help text. */
  summary: string;
}

export const COMMANDS: Readonly<Record<CommandName, CommandSpec>> = {
  plan: {
    takesArguments: true,
    summary: 'Plans every project this pull request changes, or only the one chosen with `-p`, or `-d` and `-w`.',
  },
  apply: {
    takesArguments: true,
    summary: 'Applies the plans of this pull request that are not applied yet, or only the one chosen with `-p`, or `-d` and `-w`.',
  },
  unlock: {
    takesArguments: false,
    summary: "Releases this pull request's locks and discards its plans.",
  },
  help: {
    takesArguments: false,
    summary: 'Shows this help.',
  },
  version: {
    takesArguments: false,
    summary: 'Shows the versions of Tideline, terraform, kubectl and git that answer.',
  },
};

export function isCommandName(word: string): word is CommandName {
  return Object.hasOwn(COMMANDS, word);
}

export function commandNames(): CommandName[] {
  return Object.keys(COMMANDS).filter(isCommandName);
}
