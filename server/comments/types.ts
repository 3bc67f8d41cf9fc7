// Inputs of the comment renderers. Types only: the renderers are pure functions of these.

import type { ApplyOutcome, PlanOutcome } from '../../runners/types.js';
import type { Project } from '../projects/types.js';

export interface RenderContext {
  /** First word of a command comment: `tideline` by default, `atlantis` for migrating users. */
  prefix: string;
  /** Base URL of the server UI for lock links; may be absent. */
  serverUrl?: string;
  /** `owner/name` of the repository, added to lock links when present. */
  repo?: string;
}

export interface ProjectPlanResult {
  project: Project;
  outcome: PlanOutcome;
}

export interface ProjectApplyResult {
  project: Project;
  outcome: ApplyOutcome;
}

/**
 * What a comment is, written into its hidden marker line `<!-- tideline:<kind> -->` so that
 * later code can find Tideline's own comments (e.g. to hide superseded plans).
 */
export type CommentKind =
  | 'plan'
  | 'apply'
  | 'lock'
  | 'released'
  | 'stale-plan'
  | 'no-plan'
  | 'interrupted'
  | 'error'
  | 'invalid'
  | 'help'
  | 'automerge';

export const COMMENT_KINDS: readonly CommentKind[] = [
  'plan',
  'apply',
  'lock',
  'released',
  'stale-plan',
  'no-plan',
  'interrupted',
  'error',
  'invalid',
  'help',
  'automerge',
];
