// A lock's page, with the Unlock form, and the confirmation step shown when the form was sent
// without the script's confirm() (or with the script off).

import type { Lock } from '../../locks/locks.js';
import { html, link, type Html } from './html.js';
import { page, timeCell, type Chrome } from './layout.js';
import { lockPath, projectLabel } from './overview-page.js';
import { age } from './read-model.js';

export function unlockAction(key: string): string {
  return `unlock:${key}`;
}

function facts(lock: Lock, now: Date): Html {
  return html`<dl class="facts">
<dt>Repository</dt><dd>${lock.repo}</dd>
<dt>Directory</dt><dd class="mono">${lock.dir}</dd>
<dt>Workspace</dt><dd>${lock.workspace}</dd>
<dt>Project name</dt><dd>${lock.project === '' ? html`<span class="muted">none (a directory project)</span>` : lock.project}</dd>
<dt>Kind</dt><dd>${lock.kind}</dd>
<dt>Pull request</dt><dd>${lock.pullUrl === '' ? `#${lock.pull}` : link(lock.pullUrl, `#${lock.pull}`)}</dd>
<dt>Locked by</dt><dd>${lock.lockedBy}</dd>
<dt>Since</dt><dd>${lock.lockedAt} (${timeCell(lock.lockedAt, (iso) => age(iso, now))})</dd>
<dt>Lock key</dt><dd class="mono">${lock.key}</dd>
</dl>`;
}

function question(lock: Lock): string {
  return `Unlock ${lock.repo} ${projectLabel(lock)} (workspace ${lock.workspace}), held by #${lock.pull}? Its plan can then no longer be applied.`;
}

export function lockPage(chrome: Chrome, lock: Lock, csrf: string, now: Date): Html {
  return page(
    chrome,
    html`<h1>Lock: ${lock.repo} · ${projectLabel(lock)} · ${lock.workspace}</h1>
<section class="card"><h2>Held by #${lock.pull}</h2>${facts(lock, now)}</section>
<section class="card" id="unlock"><h2>Unlock</h2>
<p class="empty">Releasing the lock lets another pull request plan this project. The plan #${lock.pull} made for it can no longer be
applied: it has to plan again. The pull request is told, and the audit log records who released it.</p>
<form class="actions" method="post" action="${lockPath(lock.key)}/unlock" data-confirm="${question(lock)}">
<input type="hidden" name="csrf" value="${csrf}">
<input type="hidden" name="confirm" value="">
<button type="submit" class="danger">Unlock</button>
<a class="button" href="/">Cancel</a>
</form></section>`,
  );
}

/** The same question without the script: a second form that says yes. */
export function confirmUnlockPage(chrome: Chrome, lock: Lock, csrf: string, now: Date): Html {
  return page(
    chrome,
    html`<h1>Confirm unlock</h1>
<section class="card"><h2>${question(lock)}</h2>${facts(lock, now)}
<form class="actions" method="post" action="${lockPath(lock.key)}/unlock">
<input type="hidden" name="csrf" value="${csrf}">
<input type="hidden" name="confirm" value="yes">
<button type="submit" class="danger">Yes, unlock</button>
<a class="button" href="${lockPath(lock.key)}">Cancel</a>
</form></section>`,
  );
}
