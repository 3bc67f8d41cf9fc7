// The reply when a failing pre workflow hook stopped a command (TIDELINE_FAIL_ON_PRE_WORKFLOW_HOOK_ERROR).
// Atlantis only logs it and fails the plan or apply status, which leaves the PR's author looking
// at a red check with no word of why; the reply names the hook, how it failed, the end of what
// it printed (already masked by the exec door) and what to do.

import { capitalize, codeBlock, finishComment, inlineCode, normalizeOutput } from './markdown.js';
import { pullCommand } from './project.js';
import type { RenderContext } from './types.js';

/** Lines of a failed hook's output shown in the reply; the job page keeps all of it. */
export const HOOK_OUTPUT_TAIL_LINES = 20;

export interface FailedHook {
  description: string;
  /** How it failed: `failed with exit code 3`, `timed out after 30m and was killed`, … */
  failure: string;
  /** Its masked output. */
  printed: string;
}

/** `command`: `plan`, `apply`, `unlock`, or `autoplan` for a plan a push started. */
export function renderPreHookFailed(ctx: RenderContext, command: string, hook: FailedHook, jobPage?: string): string {
  const verb = command === 'autoplan' ? 'plan' : command;
  const lines = normalizeOutput(hook.printed).split('\n');
  const tail = lines.slice(-HOOK_OUTPUT_TAIL_LINES).join('\n');
  const cut = lines.length > HOOK_OUTPUT_TAIL_LINES ? `The last ${HOOK_OUTPUT_TAIL_LINES} of its ${lines.length} lines of output:` : 'Its output:';
  const whole = jobPage === undefined ? '' : ` The [job's page](${jobPage}) keeps its whole output.`;
  const again = command === 'autoplan' ? `push a commit or comment ${inlineCode(pullCommand(ctx, 'plan'))}` : `comment the ${verb} again`;
  const blocks = [
    `**${capitalize(verb)} Error**: the pre workflow hook ${inlineCode(hook.description)} ${hook.failure}, so the ${verb} did not run: this server stops a command whose pre workflow hook fails.`,
    tail === '' ? `It printed nothing.${whole}` : `${cut}\n\n${codeBlock(tail)}\n\n${whole.trim()}`.trim(),
    `* :wrench: To fix it, make the hook succeed: if it fails on something in this pull request, change that; if the hook itself is wrong, an operator fixes it in the server config (\`pre_workflow_hooks\` of \`repos:\`). Then ${again}.`,
  ];
  return finishComment(blocks, 'error');
}
