// The comment grammar (Atlantis-compatible): a single-line comment whose first word is the prefix.
//
//   <prefix> plan|apply [-p project | -d dir [-w workspace]] [--verbose] [-- extra args]
//   apply also takes --auto-merge-disabled and --auto-merge-method merge|squash|rebase
//   <prefix> unlock | help | version
//   <prefix>                      (alone: help; `<prefix> -h` and `<prefix> --help` too, as Atlantis)
//
// Instead of the prefix, a comment may start with an @-mention of the server's own account, as
// Atlantis accepts `@<its user>`: `@tideline-bot plan`; or, with the prefix `atlantis`, with
// `run`, Atlantis's global executable name, when a command follows (`run plan`; Atlantis answers
// `run the tests` too).
// `terraform plan` gets a reply naming the prefix, as Atlantis's "Did you mean" does, when what
// follows `terraform` reads as a command (Atlantis answers any comment starting with `terraform`).
//
// Flags also take the forms --project/--dir/--workspace, -d=dir/--dir=dir and, as pflag reads
// them, -dinfra. Words are split with simple shell-like quoting (see tokenize.ts); nothing is
// ever expanded or executed.

import { codeSpan } from './code-span.js';
import { COMMANDS, commandNames, isCommandName } from './command-table.js';
import { normaliseDir } from './repo-dir.js';
import { tokenize } from './tokenize.js';
import type { AutoMergeMethod, Command, CommandName, ParseResult, ProjectSelector } from './types.js';
import { validateWorkspaceName } from './workspace-name.js';

type SelectorFlag = 'project' | 'dir' | 'workspace';

// A Map, not an object literal: a word like `constructor` must not find Object.prototype.
const FLAGS: ReadonlyMap<string, SelectorFlag | 'verbose' | 'auto-merge-disabled' | 'auto-merge-method'> = new Map([
  ['-p', 'project'],
  ['--project', 'project'],
  ['-d', 'dir'],
  ['--dir', 'dir'],
  ['-w', 'workspace'],
  ['--workspace', 'workspace'],
  ['--verbose', 'verbose'],
  ['--auto-merge-disabled', 'auto-merge-disabled'],
  ['--auto-merge-method', 'auto-merge-method'],
]);

// A long flag typed with one dash reads as its short flag glued to a value (`-dir` as `-d ir`).
const SINGLE_DASH_LONG: ReadonlyMap<string, string> = new Map([
  ['-project', '--project'],
  ['-dir', '--dir'],
  ['-workspace', '--workspace'],
]);

// Terraform's plan and apply flags that begin like a glued -d or -p. Typed before `--`, pflag
// (and so Atlantis) reads `-destroy` as `-d estroy` and `-parallelism=1` as `-p arallelism=1`,
// selecting a project nobody named; these keep the reply that says to put them after `--`.
const TERRAFORM_FLAGS: ReadonlySet<string> = new Set(['-destroy', '-detailed-exitcode', '-parallelism']);

const AUTO_MERGE_METHODS: readonly AutoMergeMethod[] = ['merge', 'squash', 'rebase'];

// Atlantis commands a migrating team may type out of habit; each gets a reply saying so and what
// to do instead, rather than "is not a command" as if it were a typo.
const ATLANTIS_ONLY: ReadonlyMap<string, string> = new Map([
  ['import', 'run `terraform import` outside Tideline, or add an `import` block to the configuration and plan'],
  ['state', 'run `terraform state` outside Tideline, or add a `removed` or `moved` block to the configuration and plan'],
  ['approve_policies', 'Tideline runs no policy checks, so there is nothing to approve'],
]);

const VALUE_HINT: Readonly<Record<SelectorFlag, string>> = {
  project: 'a project name, e.g. -p billing',
  dir: 'a directory, e.g. -d infra/network',
  workspace: 'a workspace name, e.g. -w staging',
};

interface ReadFlags {
  selector: ProjectSelector;
  verbose: boolean;
  autoMerge: NonNullable<Command['autoMerge']>;
}

function invalid(message: string): ParseResult {
  return { kind: 'invalid', message };
}

/** Splits `--flag=value` / `-f=value` / `-fvalue` (a short flag glued to its value, as pflag reads it); other words come back without a value. */
function splitFlag(word: string): { flag: string; value: string | undefined } {
  // pflag's order: `-dinfra=x` is -d with the value `infra=x`.
  const glued = TERRAFORM_FLAGS.has(word.split('=', 1)[0] ?? word) ? null : /^(-[pdw])([^-=].*)$/s.exec(word);
  if (glued?.[1] !== undefined && glued[2] !== undefined) return { flag: glued[1], value: glued[2] };
  const equals = word.indexOf('=');
  if (word.startsWith('-') && equals > 0) return { flag: word.slice(0, equals), value: word.slice(equals + 1) };
  return { flag: word, value: undefined };
}

function checkedValue(kind: SelectorFlag, flag: string, value: string): { value: string } | { message: string } {
  if (kind === 'dir') {
    const dir = normaliseDir(value);
    return dir.ok ? { value: dir.dir } : { message: `${flag} ${dir.message}` };
  }
  if (kind === 'workspace') {
    const problem = validateWorkspaceName(value);
    return problem === null ? { value } : { message: `${flag} ${codeSpan(value)} ${problem}` };
  }
  return value === '' ? { message: `${codeSpan(flag)} needs a value: give ${VALUE_HINT.project}` } : { value };
}

/** Reads the flags of plan / apply (the words before `--`). */
function readFlags(name: CommandName, words: readonly string[], prefix: string): ReadFlags | { message: string } {
  const selector: ProjectSelector = {};
  let verbose = false;
  const autoMerge: NonNullable<Command['autoMerge']> = {};
  for (let index = 0; index < words.length; index += 1) {
    const word = words[index] ?? '';
    const { flag, value: joined } = splitFlag(word);
    const typed = word.split('=', 1)[0] ?? word;
    const long = SINGLE_DASH_LONG.get(typed);
    if (long !== undefined) {
      return { message: `${codeSpan(typed)} would read as ${codeSpan(`${flag} ${typed.slice(2)}`)}: write ${codeSpan(long)}, with two dashes` };
    }
    const kind = FLAGS.get(flag);
    if (kind === undefined) {
      if (!word.startsWith('-')) {
        return { message: `${codeSpan(word)} is not a flag of ${name}: to pass it to terraform, put it after --, e.g. ${codeSpan(`${prefix} ${name} -- ${word}`)}` };
      }
      return {
        message: `${codeSpan(flag)} is not a flag of ${name} (those are ${name === 'apply' ? '-p, -d, -w, --verbose, --auto-merge-disabled and --auto-merge-method' : '-p, -d, -w and --verbose'}): to pass it to terraform, put it after --, e.g. ${codeSpan(`${prefix} ${name} -- ${word}`)}`,
      };
    }
    if ((kind === 'auto-merge-disabled' || kind === 'auto-merge-method') && name !== 'apply') {
      return { message: `${codeSpan(flag)} is a flag of apply: it says how an apply merges the pull request when the repo config sets \`automerge: true\`` };
    }
    if (kind === 'auto-merge-disabled') {
      if (joined !== undefined) return { message: `${codeSpan(flag)} takes no value: write --auto-merge-disabled on its own` };
      if (autoMerge.disabled === true) return { message: `${codeSpan(flag)} is given twice: give it once` };
      autoMerge.disabled = true;
      continue;
    }
    if (kind === 'auto-merge-method') {
      const method = joined ?? words[index + 1];
      if (joined === undefined) index += 1;
      if (method === undefined || !AUTO_MERGE_METHODS.includes(method as AutoMergeMethod)) {
        return { message: `${codeSpan(flag)} needs one of merge, squash or rebase${method === undefined ? '' : `, got ${codeSpan(method)}`}: e.g. --auto-merge-method squash` };
      }
      if (autoMerge.method !== undefined) return { message: `${codeSpan(flag)} is given twice: give it once` };
      autoMerge.method = method as AutoMergeMethod;
      continue;
    }
    if (kind === 'verbose') {
      if (joined !== undefined) {
        return { message: `${codeSpan(flag)} takes no value: write --verbose on its own` };
      }
      if (verbose) {
        return { message: `${codeSpan(flag)} is given twice: give it once` };
      }
      verbose = true;
      continue;
    }
    let value = joined;
    if (value === undefined) {
      const next = words[index + 1];
      if (next === undefined || next.startsWith('-')) {
        return { message: `${codeSpan(flag)} needs a value: give ${VALUE_HINT[kind]}` };
      }
      value = next;
      index += 1;
    }
    if (selector[kind] !== undefined) {
      return { message: `${codeSpan(flag)} is given twice: give it once` };
    }
    const hidden = /\p{Cf}/u.exec(value);
    if (hidden !== null) {
      const code = `U+${(hidden[0].codePointAt(0) ?? 0).toString(16).toUpperCase().padStart(4, '0')}`;
      return { message: `${codeSpan(flag)} ${codeSpan(value)} holds an invisible character (${code}), often pasted from chat or a document: type the value again` };
    }
    const checked = checkedValue(kind, flag, value);
    if ('message' in checked) {
      return checked;
    }
    selector[kind] = checked.value;
  }
  if (selector.project !== undefined && (selector.dir !== undefined || selector.workspace !== undefined)) {
    return { message: '-p cannot be combined with -d/-w: a project name already fixes dir and workspace' };
  }
  if (autoMerge.disabled === true && autoMerge.method !== undefined) {
    return { message: '--auto-merge-disabled cannot be combined with --auto-merge-method: give one of them' };
  }
  return { selector, verbose, autoMerge };
}

function command(name: CommandName, selector: ProjectSelector, extraArgs: string[], verbose: boolean, autoMerge: NonNullable<Command['autoMerge']> = {}): ParseResult {
  const parsed: Command = verbose ? { name, selector, extraArgs, verbose } : { name, selector, extraArgs };
  if (autoMerge.disabled === true || autoMerge.method !== undefined) parsed.autoMerge = autoMerge;
  return { kind: 'command', command: parsed };
}

export interface ParseOptions {
  /**
   * Account names an `@`-mention may use instead of the prefix (the server's login, and for a
   * GitHub App also its slug without `[bot]`). Compared without case, as GitHub compares logins.
   */
  mentions?: readonly string[];
}

/**
 * Atlantis's global executable name: `run plan` is `atlantis plan`. Read only where the prefix is
 * `atlantis`, a team that replaced Atlantis with Tideline: one still running Atlantis beside it
 * gives Tideline a prefix of its own, and there `run plan` is Atlantis's to answer.
 */
const GLOBAL_NAME = 'run';
const GLOBAL_NAME_PREFIX = 'atlantis';

/** A word that, after `run` or `terraform`, makes the comment a command meant for us. */
function isCommandWord(word: string | undefined): boolean {
  return word !== undefined && (isCommandName(word) || ATLANTIS_ONLY.has(word) || word === '-h' || word === '--help');
}

function addressedToUs(firstWord: string | undefined, secondWord: string | undefined, prefix: string, mentions: readonly string[]): boolean {
  if (firstWord === prefix) return true;
  // Only before a command: unlike Atlantis, `run the tests` in a review gets no reply.
  if (firstWord === GLOBAL_NAME) return prefix === GLOBAL_NAME_PREFIX && isCommandWord(secondWord);
  if (firstWord === undefined || !firstWord.startsWith('@')) return false;
  const named = firstWord.slice(1).toLowerCase();
  return named !== '' && mentions.some((mention) => mention.toLowerCase() === named);
}

/**
 * Reads one PR comment. `ignore` when it is not addressed to us: empty, more than one line after
 * trimming, or a first word other than `prefix` (compared exactly, like Atlantis) or an
 * `@`-mention of one of `options.mentions`. Otherwise a command, or `invalid` with a message that
 * names the offending word and the fix.
 */
export function parseComment(body: string, prefix: string, options: ParseOptions = {}): ParseResult {
  const line = body.trim();
  if (line === '' || /[\r\n\u2028\u2029]/.test(line)) {
    return { kind: 'ignore' };
  }
  const [firstWord, secondWord] = line.split(/\s+/);
  if (firstWord === 'terraform' && prefix !== 'terraform' && isCommandWord(secondWord)) {
    const meant = `${prefix}${line.slice(firstWord.length)}`;
    // Only when the suggestion is itself a command: `terraform apply succeeded` is prose (or a CI
    // bot's note on every push), and a reply to it would be noise.
    if (parseComment(meant, prefix).kind !== 'command') return { kind: 'ignore' };
    return invalid(`did you mean ${codeSpan(meant)}? Commands start with ${codeSpan(prefix)}, not \`terraform\``);
  }
  if (!addressedToUs(firstWord, secondWord, prefix, options.mentions ?? [])) {
    return { kind: 'ignore' };
  }
  const tokens = tokenize(line);
  if (!tokens.ok) {
    return invalid(tokens.message);
  }
  const [, name, ...args] = tokens.words;
  // Atlantis answers `atlantis -h` and `atlantis --help` with its help, like `atlantis help`.
  if (name === undefined || ((name === '-h' || name === '--help') && args.length === 0)) {
    return command('help', {}, [], false);
  }
  const atlantisOnly = ATLANTIS_ONLY.get(name);
  if (atlantisOnly !== undefined) {
    return invalid(`${codeSpan(name)} is an Atlantis command Tideline does not have: ${atlantisOnly}`);
  }
  if (!isCommandName(name)) {
    return invalid(`${codeSpan(name)} is not a command: use ${commandNames().join(', ')}`);
  }
  const separator = args.indexOf('--');
  const flags = separator < 0 ? args : args.slice(0, separator);
  const extraArgs = separator < 0 ? [] : args.slice(separator + 1);
  if (!COMMANDS[name].takesArguments) {
    if (args.length > 0) {
      return invalid(`${name} takes no flags or arguments, got ${codeSpan(args.join(' '))}: write ${codeSpan(`${prefix} ${name}`)}`);
    }
    return command(name, {}, [], false);
  }
  const read = readFlags(name, flags, prefix);
  if ('message' in read) {
    return invalid(read.message);
  }
  return command(name, read.selector, extraArgs, read.verbose, read.autoMerge);
}
