// What the next start tells a pull request about a plan or apply that a stop left unfinished,
// and what the status it left pending is set to, read from the job's work record: a run whose
// work had ended is reported as it ran, an apply cut short names what it had applied, and only
// a run that recorded nothing is called interrupted while it ran.

import { renderApplyCutShort, renderApplyNotReported, renderInterrupted, renderPlanNotReported, type RenderContext } from '../comments/index.js';
import type { Project } from '../projects/types.js';
import { interruptedDescription } from './post.js';
import { cutShort, type WorkRecord } from './work-record.js';
import { HOOK_INTERRUPTED, isHookContext } from './workflow-hooks.js';

export type SettledState = 'success' | 'failure' | 'error';

export interface StoppedNotice {
  /** What the pull request is told; null when its reply was posted and only a status is left. */
  body: string | null;
  /** The final state of a status with `context` that the job left pending. */
  status(context: string): { state: SettledState; description: string };
}

const NOT_REPORTED = 'The server stopped before it finished reporting.';

export function stoppedNotice(render: RenderContext, command: string, record: WorkRecord | null, jobPage?: string): StoppedNotice {
  const notice = commandNotice(render, command, record, jobPage);
  // A workflow hook's status pending at the stop: that hook never finished, however far the
  // command got (a post hook runs after the plan's reply was posted and its status set).
  return {
    body: notice.body,
    status: (context) => (isHookContext(context) ? { state: 'error', description: HOOK_INTERRUPTED } : notice.status(context)),
  };
}

function commandNotice(render: RenderContext, command: string, record: WorkRecord | null, jobPage?: string): StoppedNotice {
  const interrupted: StoppedNotice = {
    body: renderInterrupted(render, command, null, jobPage),
    status: (context) => ({ state: 'error', description: interruptedDescription(context) }),
  };
  if (record === null) return interrupted;
  // The whole reply was posted before the stop: the pull request saw the plan (it can be
  // applied) or what was applied. Another comment would only repeat it; the status it left
  // pending is set as the run would have set it.
  if ((command === 'plan' || command === 'apply') && record.endedAt !== null && record.repliedAt !== null && record.outcome !== null) {
    const { outcome, summary } = record;
    return { body: null, status: () => ({ state: outcome, description: `${summary ?? (outcome === 'success' ? 'it succeeded' : 'it failed')}.` }) };
  }
  if (command === 'plan') {
    if (record.endedAt === null) return interrupted;
    const summary = record.summary ?? 'its projects planned';
    return {
      body: renderPlanNotReported(render, summary, jobPage),
      // Not success: a plan its pull request may never have been shown is no plan to apply.
      status: () => ({ state: 'error', description: 'plan ran, but the server stopped before it finished posting it. Plan again to see it.' }),
    };
  }
  if (command !== 'apply' || record.projects.length === 0) return interrupted;
  const of = (wanted: (r: string | null) => boolean): Project[] => record.projects.filter((p) => wanted(p.result)).map((p) => p.project);
  const applied = of((r) => r === 'applied');
  const failed = of((r) => r === 'failed');
  const cut = cutShort(record).map((p) => p.project);
  const total = record.projects.length;
  // Nothing had finished: what the stop cut short is the whole apply, as it always said.
  if (applied.length + failed.length === 0) return interrupted;
  if (cut.length === 0) {
    const summary = record.summary ?? (failed.length === 0 ? `${total}/${total} projects applied successfully` : `${failed.length}/${total} projects failed to apply`);
    return {
      body: renderApplyNotReported(render, summary, { applied, failed }, jobPage),
      status: () => ({ state: failed.length === 0 ? 'success' : 'failure', description: `${summary}. ${NOT_REPORTED}` }),
    };
  }
  return {
    body: renderApplyCutShort(render, { applied, failed, cutShort: cut }, jobPage),
    status: () => ({ state: 'error', description: `apply cut short by a server stop: ${applied.length}/${total} projects applied. Plan the rest again.` }),
  };
}
