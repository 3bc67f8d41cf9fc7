// Drift alerts, each switchable (`drift.alerts` of the server config):
//  (a) a GitHub issue per drifted project, labelled `tideline-drift`: opened once, updated in
//      place when the drift changes, closed with a comment when it is resolved or corrected;
//  (b) a comment on the pull request that last applied the project;
//  (c) the signed outgoing webhook;
//  (d) the `tideline/drift` commit status (sent by the sweep, once per sweep when it changed:
//      see sweep.ts).
// A channel that fails is logged and does not stop the others or the sweep. An open drift whose
// issue could not be opened gets it at the next sweep.

import { STATUS_CONTEXT } from '../jobs/context.js';
import { refOf, reply, setStatus } from '../jobs/post.js';
import type { RepoInfo } from '../jobs/types.js';
import { ForgeError, type IssueInfo } from '../github/forge.js';
import { lastAppliedPull } from './last-applied.js';
import { DRIFT_LABEL, driftStatus, issueBody, issueTitle, pullComment, resolvedComment, webhookText, type DriftView } from './render.js';
import { setDriftIssue, type DriftRecord } from './store.js';
import type { DriftDeps, DriftEvent, DriftState } from './types.js';
import { postDriftWebhook } from './webhook.js';

export interface ProjectAlert {
  record: DriftRecord;
  /** The alert to send; null re-checks only that an open drift has its issue. */
  event: DriftEvent | null;
  previousFingerprint: string | null;
  excerpt: string;
  /** What remediation applied, for `remediated`. */
  corrected: string | null;
  /** Why a drift was resolved, for the closing comment. */
  resolution?: 'clean' | 'removed';
}

export async function alertProject(deps: DriftDeps, repo: RepoInfo, headSha: string, alert: ProjectAlert): Promise<void> {
  const { ctx } = deps;
  const { record, event } = alert;
  const log = ctx.log.child({ project: record.key, event });
  const appliedBy = lastAppliedPull(ctx.db, repo.fullName, record.key);
  const view: DriftView = {
    repo: repo.fullName,
    defaultBranch: repo.defaultBranch,
    headSha,
    dir: record.dir,
    workspace: record.workspace,
    name: record.name,
    summary: record.summary,
    fingerprint: event === 'resolved' || event === 'remediated' ? alert.previousFingerprint : record.fingerprint,
    firstSeen: record.firstSeen,
    lastSeen: record.lastSeen,
    excerpt: alert.excerpt,
    appliedBy,
    issueUrl: record.issueUrl,
    corrected: alert.corrected,
  };
  if (deps.alerts.issues) {
    try {
      view.issueUrl = await issueAlert(deps, repo, record, view, event, alert.resolution ?? 'clean');
    } catch (err: unknown) {
      log.warn({ err }, 'drift issue could not be updated');
    }
  }
  if (event === null) return;
  if (deps.alerts.prComment && appliedBy !== null) {
    try {
      await reply(ctx, repo, appliedBy, pullComment(view, event));
    } catch (err: unknown) {
      log.warn({ err, pull: appliedBy }, 'drift comment could not be posted');
    }
  }
  if (deps.alerts.webhook && deps.webhook !== null) {
    const delivered = await postDriftWebhook(
      { url: deps.webhook.url, secret: deps.webhook.secret, log: ctx.log, ...(deps.fetchImpl === undefined ? {} : { fetchImpl: deps.fetchImpl }) },
      {
        event: `drift.${event}`,
        text: ctx.masker.mask(webhookText(view, event)),
        repo: repo.fullName,
        project: { dir: record.dir, workspace: record.workspace, name: record.name, kind: record.kind },
        defaultBranch: repo.defaultBranch,
        headSha,
        fingerprint: record.fingerprint,
        previousFingerprint: alert.previousFingerprint,
        summary: record.summary,
        issueUrl: view.issueUrl,
        appliedByPull: appliedBy,
        sentAt: (deps.now ?? ((): Date => new Date()))().toISOString(),
      },
    );
    if (!delivered) log.warn('drift webhook not delivered');
  }
}

/**
 * (d) once per sweep, on the head that was checked, unless the head already shows that result.
 * GitHub keeps at most 1,000 statuses per commit and context and refuses more: sweeps of a
 * default branch nobody pushes to, every few hours, would reach that in months, and the status
 * would then stay at whatever it said last. The link of an unchanged status is left as it is.
 */
export async function alertStatus(deps: DriftDeps, repo: RepoInfo, headSha: string, counts: Record<DriftState, number>): Promise<void> {
  if (!deps.alerts.commitStatus) return;
  const status = driftStatus(counts);
  const { ctx } = deps;
  try {
    const latest = await ctx.forge.latestStatus(refOf(repo), headSha, STATUS_CONTEXT.drift);
    if (latest?.state === status.state && latest.description === ctx.masker.mask(status.description)) return;
  } catch (err: unknown) {
    ctx.log.warn({ err, repo: repo.fullName, sha: headSha }, 'could not read the drift status: setting it');
  }
  await setStatus(ctx, repo, headSha, STATUS_CONTEXT.drift, status.state, status.description);
}

/** (a) Returns the issue's URL afterwards (null once closed). */
async function issueAlert(deps: DriftDeps, repo: RepoInfo, record: DriftRecord, view: DriftView, event: DriftEvent | null, resolution: 'clean' | 'removed'): Promise<string | null> {
  const { ctx } = deps;
  const ref = refOf(repo);
  const title = issueTitle(view);
  const body = ctx.masker.mask(issueBody(view));
  switch (event) {
    case null:
      if (record.state !== 'drifted' || record.issueNumber !== null) return record.issueUrl;
      return (await openOrUpdate(deps, repo, record, title, body)).htmlUrl;
    case 'detected':
    case 'changed':
      return (await openOrUpdate(deps, repo, record, title, body)).htmlUrl;
    case 'resolved': {
      const number = record.issueNumber ?? (await findOpen(deps, repo, title))?.number ?? null;
      if (number === null) return null;
      await ctx.forge.createComment(ref, number, resolvedComment(view, resolution));
      await ctx.forge.updateIssue(ref, number, { state: 'closed', stateReason: 'completed' });
      setDriftIssue(ctx.db, record.key, null);
      return null;
    }
    case 'remediated': {
      const issue = await openOrUpdate(deps, repo, record, title, body);
      await ctx.forge.createComment(ref, issue.number, resolvedComment(view, 'remediated'));
      await ctx.forge.updateIssue(ref, issue.number, { state: 'closed', stateReason: 'completed' });
      setDriftIssue(ctx.db, record.key, null);
      return issue.htmlUrl;
    }
  }
}

/** Updates the project's issue in place (reopening it), else adopts an open one with its title, else opens one. */
async function openOrUpdate(deps: DriftDeps, repo: RepoInfo, record: DriftRecord, title: string, body: string): Promise<IssueInfo> {
  const { ctx } = deps;
  const ref = refOf(repo);
  const known = record.issueNumber ?? (await findOpen(deps, repo, title))?.number ?? null;
  if (known !== null) {
    try {
      const issue = await ctx.forge.updateIssue(ref, known, { title, body, state: 'open' });
      setDriftIssue(ctx.db, record.key, { number: issue.number, url: issue.htmlUrl });
      return issue;
    } catch (err: unknown) {
      // Deleted or transferred issues answer 404/410: open a new one.
      if (!(err instanceof ForgeError) || (err.status !== 404 && err.status !== 410)) throw err;
    }
  }
  await ctx.forge.ensureLabel(ref, DRIFT_LABEL);
  const issue = await ctx.forge.createIssue(ref, { title, body, labels: [DRIFT_LABEL.name] });
  setDriftIssue(ctx.db, record.key, { number: issue.number, url: issue.htmlUrl });
  ctx.log.info({ project: record.key, issue: issue.number }, 'drift issue opened');
  return issue;
}

async function findOpen(deps: DriftDeps, repo: RepoInfo, title: string): Promise<IssueInfo | null> {
  const open = await deps.ctx.forge.listIssues(refOf(repo), { label: DRIFT_LABEL.name, state: 'open' });
  return open.find((issue) => issue.title === title) ?? null;
}
