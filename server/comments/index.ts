// The markdown of every PR comment Tideline posts.

export type {
  CommentKind,
  ProjectApplyResult,
  ProjectPlanResult,
  RenderContext,
} from './types.js';
export { COMMENT_KINDS } from './types.js';
export { commentMarker, parseCommentMarker, MAX_UNWRAPPED_LINES } from './markdown.js';
export { commandFor, lockUrl, projectLabel } from './project.js';
export { automergeWaitMessage, renderAutomerged, renderAutomergeFailed, renderAutomergeWaiting } from './automerge.js';
export { planOutputAsDiff, planSummaryLine, applySummaryLine } from './plan-output.js';
export { renderPlan, planCounts, NO_CHANGES } from './plan.js';
export { renderApply, applyCounts } from './apply.js';
export { renderLockConflict, renderReleased, type LockHolder } from './locks.js';
export {
  renderError,
  renderHelp,
  renderInterrupted,
  renderUnreadableJob,
  renderInvalidCommand,
  renderNoPlan,
  renderStalePlan,
} from './notices.js';
export { renderApplyCutShort, renderApplyNotReported, renderPlanNotReported, type StoppedApply } from './stopped.js';
export { COMMENT_LIMIT, splitComment } from './split.js';
export { renderPreHookFailed, HOOK_OUTPUT_TAIL_LINES, type FailedHook } from './hooks.js';
export { renderApplyRefused, renderConfigProblems, renderWarnings, type ProblemLine, type RefusalLine } from './refusals.js';
