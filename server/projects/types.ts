import type { ProjectKind } from '../../runners/types.js';

/**
 * One project: a directory of a repository planned in one workspace. Its lock key is
 * repo + dir + workspace + name, so one directory in two workspaces is two projects.
 */
export interface Project {
  /** Declared name from repo config; absent for autodiscovered projects. */
  name?: string;
  /** Repo-relative directory, normalised: `.` for the root, no leading `./`, no trailing `/`. */
  dir: string;
  workspace: string;
  kind: ProjectKind;
}
