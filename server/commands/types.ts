// What a PR comment asks for, once parsed. Names follow Atlantis: plan, apply, unlock, help,
// version; a project is chosen by name (-p) or by dir (-d) and workspace (-w).

export type CommandName = 'plan' | 'apply' | 'unlock' | 'help' | 'version';

export interface ProjectSelector {
  /** `-p name`; exclusive with `dir`. */
  project?: string;
  /** `-d dir`, repo-relative and normalised (no leading `./`, `.` for the root). */
  dir?: string;
  /** `-w workspace`; only meaningful with `dir` or on its own. */
  workspace?: string;
}

export interface Command {
  name: CommandName;
  selector: ProjectSelector;
  /** Arguments after `--`, passed to terraform / kubectl as separate argv items. */
  extraArgs: string[];
  /** `--verbose` (plan and apply, as in Atlantis): present and true only when given. */
  verbose?: boolean;
  /** apply only, as Atlantis: `--auto-merge-disabled` (true when given) and `--auto-merge-method`. */
  autoMerge?: { disabled?: true; method?: AutoMergeMethod };
}

export type AutoMergeMethod = 'merge' | 'squash' | 'rebase';

/**
 * The outcome of reading one comment:
 * - `ignore`: not addressed to us (other prefix, multi-line, empty);
 * - `command`: a well-formed command;
 * - `invalid`: addressed to us but wrong; `message` says what and the reply adds the help text.
 */
export type ParseResult =
  | { kind: 'ignore' }
  | { kind: 'command'; command: Command }
  | { kind: 'invalid'; message: string };
