// GET /: the locks held, queued, running and recent jobs, each project's drift state and the
// latest audit events. Built to stay readable at hundreds of locks: counts on top, tables that
// scroll under a sticky header, and a filter box (enabled by the script) over the locks.

import type { AuditRecord } from '../../audit/types.js';
import type { Job } from '../../jobs/queue.js';
import type { Lock } from '../../locks/locks.js';
import { html, link, type Html } from './html.js';
import { badge, page, timeCell, type Chrome } from './layout.js';
import { age, describeJob, jobActor, type DriftRow, type Overview } from './read-model.js';

/** The lock page of a key (keys hold slashes, so they travel encoded in one path segment). */
export function lockPath(key: string): string {
  return `/locks/${encodeURIComponent(key)}`;
}

export function jobPath(id: number): string {
  return `/jobs/${id}`;
}

/** What a lock's project is called: its name, else its directory. */
export function projectLabel(lock: Pick<Lock, 'project' | 'dir'>): string {
  return lock.project !== '' ? lock.project : lock.dir;
}

function pullCell(pull: number | null, url: string): Html {
  if (pull === null) return html`<span class="muted">—</span>`;
  return url === '' ? html`#${pull}` : link(url, `#${pull}`);
}

function empty(text: string): Html {
  return html`<p class="empty">${text}</p>`;
}

function locksSection(locks: readonly Lock[], ago: (iso: string) => string): Html {
  const rows = locks.map(
    (l) => html`<tr>
<td>${l.repo}</td><td><a href="${lockPath(l.key)}">${projectLabel(l)}</a></td><td>${pullCell(l.pull, l.pullUrl)}</td><td>${l.workspace}</td>
<td>${l.lockedBy}</td><td>${timeCell(l.lockedAt, ago)}</td><td class="mono">${l.dir}</td><td><a href="${lockPath(l.key)}">Unlock…</a></td></tr>`,
  );
  return html`<section class="card" id="locks">
<h2>Locks held <span class="n">${locks.length}</span>
${locks.length > 0 ? html`<input type="search" data-filter="locks-table" placeholder="Filter by repository, project, PR, user…" aria-label="Filter locks" hidden><span class="muted" data-filter-count="locks-table"></span>` : null}</h2>
${
  locks.length === 0
    ? empty('No project is locked.')
    : html`<div class="table-wrap"><table id="locks-table">
<thead><tr><th>Repository</th><th>Project</th><th>Pull request</th><th>Workspace</th><th>Locked by</th><th>Since</th><th>Dir</th><th></th></tr></thead>
<tbody>${rows}</tbody></table></div>`
}
</section>`;
}

function jobRow(job: Job, when: string | null, ago: (iso: string) => string, withState: boolean): Html {
  return html`<tr><td><a href="${jobPath(job.id)}">#${job.id}</a></td><td class="mono">${describeJob(job)}</td><td>${job.repo}</td>
<td>${job.pull === null ? html`<span class="muted">—</span>` : html`#${job.pull}`}</td><td>${jobActor(job) ?? html`<span class="muted">—</span>`}</td>
${withState ? html`<td>${badge(job.state)}</td>` : null}<td>${timeCell(when, ago)}</td></tr>`;
}

function jobTable(jobs: readonly Job[], whenHeading: string, when: (j: Job) => string | null, ago: (iso: string) => string, withState = false): Html {
  return html`<div class="table-wrap"><table>
<thead><tr><th>Job</th><th>Command</th><th>Repository</th><th>PR</th><th>By</th>${withState ? html`<th>Result</th>` : null}<th>${whenHeading}</th></tr></thead>
<tbody>${jobs.map((j) => jobRow(j, when(j), ago, withState))}</tbody></table></div>`;
}

function more(shown: number, total: number): Html | null {
  return total > shown ? html`<p class="more">Showing ${shown} of ${total}.</p>` : null;
}

function jobsSections(o: Overview, ago: (iso: string) => string): Html {
  return html`<div id="jobs">
<section class="card" id="running"><h2>Running jobs <span class="n">${o.counts.running}</span></h2>
${o.running.length === 0 ? empty('Nothing is running.') : jobTable(o.running, 'Started', (j) => j.startedAt, ago)}${more(o.running.length, o.counts.running)}</section>
<section class="card" id="queued"><h2>Queued jobs <span class="n">${o.counts.queued}</span></h2>
${o.queued.length === 0 ? empty('The queue is empty.') : jobTable(o.queued, 'Queued', (j) => j.createdAt, ago)}${more(o.queued.length, o.counts.queued)}</section>
<section class="card" id="recent"><h2>Recently finished</h2>
${o.recent.length === 0 ? empty('No job has finished yet.') : jobTable(o.recent, 'Finished', (j) => j.finishedAt, ago, true)}</section>
</div>`;
}

function driftSection(drift: readonly DriftRow[], ago: (iso: string) => string): Html {
  const rows = drift.map(
    (d) => html`<tr><td>${d.repo}</td><td>${d.project}</td><td class="mono">${d.dir}</td><td>${d.workspace}</td><td>${badge(d.state)}</td>
<td>${timeCell(d.since, ago)}</td><td>${timeCell(d.lastSeen, ago)}</td></tr>`,
  );
  return html`<section class="card" id="drift"><h2>Drift <span class="n">${drift.length} projects</span></h2>
${
  drift.length === 0
    ? empty('No drift results yet: each project of the default branch shows here once a drift sweep has checked it.')
    : html`<div class="table-wrap"><table><thead><tr><th>Repository</th><th>Project</th><th>Dir</th><th>Workspace</th><th>State</th><th>Since</th><th>Last checked</th></tr></thead>
<tbody>${rows}</tbody></table></div>`
}</section>`;
}

function auditSection(records: readonly AuditRecord[], ago: (iso: string) => string): Html {
  const rows = records.map(
    (r) => html`<tr><td class="num">${r.seq}</td><td>${timeCell(r.time, ago)}</td><td>${r.type}</td><td>${r.actor}</td><td>${r.repo ?? ''}</td>
<td>${r.pull === null ? '' : html`#${r.pull}`}</td><td class="mono">${r.project ?? ''}</td></tr>`,
  );
  return html`<section class="card" id="audit"><h2>Latest audit events <span class="n">${records.length}</span></h2>
${
  records.length === 0
    ? empty('The audit log is empty.')
    : html`<div class="table-wrap"><table><thead><tr><th class="num">Seq</th><th>When</th><th>Type</th><th>Actor</th><th>Repository</th><th>PR</th><th>Project</th></tr></thead>
<tbody>${rows}</tbody></table></div>`
}</section>`;
}

export function overviewPage(chrome: Chrome, o: Overview, now: Date): Html {
  const ago = (iso: string): string => age(iso, now);
  const drifted = o.drift.filter((d) => d.state === 'drifted').length;
  return page(
    chrome,
    html`<h1>Overview</h1>
<div class="counts">
<a class="count" href="#locks"><b>${o.locks.length}</b><span>locks held</span></a>
<a class="count" href="#running"><b>${o.counts.running}</b><span>running</span></a>
<a class="count" href="#queued"><b>${o.counts.queued}</b><span>queued</span></a>
<a class="count" href="#drift"><b>${drifted}</b><span>drifted of ${o.drift.length}</span></a>
</div>
${locksSection(o.locks, ago)}
${jobsSections(o, ago)}
${driftSection(o.drift, ago)}
${auditSection(o.audit, ago)}`,
  );
}
