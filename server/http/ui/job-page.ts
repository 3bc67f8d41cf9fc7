// A job's page: what it is, and its terraform / kubectl output. The output printed so far is in
// the page; the script then follows `/jobs/:id/events?after=<last line>` for the rest.

import type { Job } from '../../jobs/queue.js';
import { html, type Html } from './html.js';
import { badge, page, timeCell, type Chrome } from './layout.js';
import { age, describeJob, isFinished, jobActor } from './read-model.js';

export interface JobOutputView {
  lines: readonly string[];
  /** Lines dropped before `lines[0]` (the live buffer keeps the last few thousand). */
  dropped: number;
  /** The state the live output ended with, or null while the job may still print. */
  ended: string | null;
}

export function jobPage(chrome: Chrome, job: Job, output: JobOutputView, now: Date): Html {
  const ago = (iso: string): string => age(iso, now);
  const last = output.dropped + output.lines.length;
  const follow = !isFinished(job.state) || (output.ended === null && output.lines.length > 0);
  const state = output.ended ?? job.state;
  const text = output.lines.length === 0 ? '' : `${output.lines.join('\n')}\n`;
  const note =
    output.lines.length > 0 || !isFinished(job.state)
      ? null
      : html`<p class="empty">This job's output is no longer kept: the server keeps it for a while after a job ends, and not across restarts. The pull request's comment has the result.</p>`;
  return page(
    chrome,
    html`<h1>Job #${job.id}: <span class="mono">${describeJob(job)}</span></h1>
<section class="card"><h2>${job.repo}${job.pull === null ? null : html` · #${job.pull}`} <span class="badge state-${state.replace(/[^a-z]/g, '')}" data-job-state="${state}">${state}</span></h2>
<dl class="facts">
<dt>Repository</dt><dd>${job.repo}</dd>
<dt>Pull request</dt><dd>${job.pull === null ? '—' : `#${job.pull}`}</dd>
<dt>Command</dt><dd class="mono">${describeJob(job)}</dd>
<dt>By</dt><dd>${jobActor(job) ?? '—'}</dd>
<dt>Queued</dt><dd>${timeCell(job.createdAt, ago)}</dd>
<dt>Started</dt><dd>${timeCell(job.startedAt, ago)}</dd>
<dt>Finished</dt><dd>${timeCell(job.finishedAt, ago)}</dd>
${job.error === null ? null : html`<dt>Error</dt><dd class="mono">${job.error}</dd>`}
</dl></section>
<section class="card" id="output"><h2>Output <span class="n"><span data-line-count>${last}</span> lines</span>${follow ? html` <span class="muted">live</span>` : null}</h2>
${note}<pre class="log" ${follow ? html`data-events="/jobs/${job.id}/events?after=${last}" ` : null}data-lines="${last}">${output.dropped > 0 ? `… ${output.dropped} earlier lines were dropped …\n` : ''}${text}</pre>
</section>`,
  );
}
