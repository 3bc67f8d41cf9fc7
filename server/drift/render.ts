// The words of drift alerts: the issue's title and body, the comment on the applying pull
// request, the resolution comment, the Slack-compatible webhook text, the commit status line.

import type { ChangeSummary } from '../../runners/types.js';
import { codeBlock, details, inlineCode } from '../comments/markdown.js';
import { planOutputAsDiff } from '../comments/plan-output.js';
import type { DriftEvent, DriftState } from './types.js';

export const DRIFT_LABEL = { name: 'tideline-drift', color: 'd93f0b', description: 'Infrastructure drifted from the default branch (Tideline)' } as const;
export const DRIFT_MARKER = '<!-- tideline:drift -->';

/** Plan excerpts in alerts and in the drift table stay below this (GitHub caps bodies at 65,536). */
const EXCERPT_CHARS = 20_000;
const EXCERPT_LINES = 200;

export interface DriftView {
  repo: string;
  defaultBranch: string;
  headSha: string;
  dir: string;
  workspace: string;
  name: string | null;
  summary: ChangeSummary | null;
  fingerprint: string | null;
  firstSeen: string | null;
  lastSeen: string | null;
  excerpt: string;
  /** The pull request that last applied the project, when known. */
  appliedBy: number | null;
  issueUrl: string | null;
  /** What Tideline re-applied (remediation), as the apply reported it. */
  corrected: string | null;
}

/** `app`, `app [staging]`, or the project's declared name. */
export function projectTitle(p: { dir: string; workspace: string; name: string | null }): string {
  if (p.name !== null) return p.name;
  return p.workspace === 'default' ? p.dir : `${p.dir} [${p.workspace}]`;
}

export function issueTitle(v: Pick<DriftView, 'repo' | 'dir' | 'workspace' | 'name'>): string {
  return `Drift detected: ${projectTitle(v)} (${v.repo})`;
}

export function summaryText(summary: ChangeSummary | null): string {
  if (summary === null) return 'changes outside resources (outputs only)';
  return `${summary.add} to add, ${summary.change} to change, ${summary.destroy} to destroy`;
}

/** Where the interesting part of a plan starts; the legend above it is the same every time. */
const PLAN_START = /^(?:Note: Objects have changed outside of Terraform|Terraform will perform the following actions:)/m;

/**
 * The plan as a diff (markers in column 0, refresh chatter and the symbol legend dropped), cut
 * to a size an issue can hold.
 */
export function planExcerpt(output: string): string {
  let text = planOutputAsDiff(output);
  const start = PLAN_START.exec(text);
  if (start !== null) text = text.slice(start.index);
  const lines = text.split('\n');
  if (lines.length > EXCERPT_LINES) text = `${lines.slice(0, EXCERPT_LINES).join('\n')}\n… (${lines.length - EXCERPT_LINES} more lines)`;
  if (text.length > EXCERPT_CHARS) text = `${text.slice(0, EXCERPT_CHARS)}\n… (cut)`;
  return text;
}

function where(v: DriftView): string {
  return `${inlineCode(v.dir)} (workspace ${inlineCode(v.workspace)}) of ${v.repo}`;
}

function facts(v: DriftView): string {
  const rows: [string, string][] = [
    ['Changes', summaryText(v.summary)],
    ['Default branch', `${inlineCode(v.defaultBranch)} at ${inlineCode(v.headSha.slice(0, 7))}`],
  ];
  if (v.firstSeen !== null) rows.push(['First seen', v.firstSeen]);
  if (v.lastSeen !== null) rows.push(['Last seen', v.lastSeen]);
  if (v.fingerprint !== null) rows.push(['Fingerprint', inlineCode(v.fingerprint.slice(0, 16))]);
  if (v.appliedBy !== null) rows.push(['Last applied by', `#${v.appliedBy}`]);
  return ['| | |', '|---|---|', ...rows.map(([k, val]) => `| ${k} | ${val} |`)].join('\n');
}

function howToFix(v: DriftView): string {
  return [
    '### How to fix',
    `- **Revert by hand**: undo the change made outside Git, so the resources match ${inlineCode(v.defaultBranch)} again. The next sweep closes this issue.`,
    `- **Keep the change**: declare it in a pull request, then plan and apply it with Tideline.`,
    `- **Let Tideline re-apply**: turn remediation on for this repository (${inlineCode('drift: { remediate: true }')} in the server config, or in the repo config where the server allows ${inlineCode('drift')} overrides). The next sweep then applies ${inlineCode(v.defaultBranch)} again.`,
  ].join('\n');
}

export function issueBody(v: DriftView): string {
  const head =
    v.corrected === null
      ? `**Drift detected** in ${where(v)}: the real infrastructure no longer matches ${inlineCode(v.defaultBranch)}.`
      : `**Drift detected and corrected** in ${where(v)}: the infrastructure had changed outside Git, and Tideline re-applied ${inlineCode(v.defaultBranch)}.`;
  const parts = [DRIFT_MARKER, head, facts(v), '### Plan excerpt', codeBlock(v.excerpt, 'diff')];
  if (v.corrected !== null) parts.push('### What Tideline corrected', codeBlock(planExcerpt(v.corrected)));
  else parts.push(howToFix(v));
  return parts.join('\n\n');
}

export function pullComment(v: DriftView, event: DriftEvent): string {
  const issue = v.issueUrl === null ? '' : ` Tracked in ${v.issueUrl}.`;
  const heading: Record<DriftEvent, string> = {
    detected: `### Drift detected in ${projectTitle(v)}`,
    changed: `### Drift changed in ${projectTitle(v)}`,
    resolved: `### Drift resolved in ${projectTitle(v)}`,
    remediated: `### Drift corrected in ${projectTitle(v)}`,
  };
  const text: Record<DriftEvent, string> = {
    detected: `This pull request last applied ${where(v)}. The infrastructure has since changed outside Git: a plan of ${inlineCode(v.defaultBranch)} now shows ${summaryText(v.summary)}.${issue}`,
    changed: `The drift of ${where(v)}, which this pull request last applied, has changed: a plan of ${inlineCode(v.defaultBranch)} now shows ${summaryText(v.summary)}.${issue}`,
    resolved: `${where(v)}, which this pull request last applied, matches ${inlineCode(v.defaultBranch)} again.${issue}`,
    remediated: `${where(v)}, which this pull request last applied, had changed outside Git (${summaryText(v.summary)}); Tideline re-applied ${inlineCode(v.defaultBranch)}.${issue}`,
  };
  const parts = [heading[event], text[event]];
  if (event !== 'resolved' && v.excerpt !== '') parts.push(details('Plan excerpt', codeBlock(v.excerpt, 'diff')));
  parts.push(DRIFT_MARKER);
  return parts.join('\n\n');
}

export function resolvedComment(v: Pick<DriftView, 'defaultBranch' | 'headSha'>, why: 'clean' | 'remediated' | 'removed'): string {
  const text = {
    clean: `Resolved: a plan of ${inlineCode(v.defaultBranch)} at ${inlineCode(v.headSha.slice(0, 7))} shows no changes any more.`,
    remediated: `Resolved: Tideline re-applied ${inlineCode(v.defaultBranch)} at ${inlineCode(v.headSha.slice(0, 7))}, so the infrastructure matches it again.`,
    removed: `Resolved: the project is no longer part of ${inlineCode(v.defaultBranch)} at ${inlineCode(v.headSha.slice(0, 7))}.`,
  }[why];
  return `${text}\n\n${DRIFT_MARKER}`;
}

/** Slack-compatible one-liner (`text` of the webhook body). */
export function webhookText(v: DriftView, event: DriftEvent): string {
  const subject = `${v.repo} ${projectTitle(v)}`;
  const link = v.issueUrl === null ? '' : ` <${v.issueUrl}|issue>`;
  switch (event) {
    case 'detected':
      return `:warning: Drift detected in ${subject}: ${summaryText(v.summary)}.${link}`;
    case 'changed':
      return `:warning: Drift changed in ${subject}: ${summaryText(v.summary)}.${link}`;
    case 'resolved':
      return `:white_check_mark: Drift resolved in ${subject}.${link}`;
    case 'remediated':
      return `:wrench: Drift corrected in ${subject}: Tideline re-applied ${v.defaultBranch} (${summaryText(v.summary)}).${link}`;
  }
}

/** `tideline/drift` status from the projects' states: drifted fails, errors error, else success. */
export function driftStatus(counts: Record<DriftState, number>): { state: 'success' | 'failure' | 'error'; description: string } {
  const checked = counts.clean + counts.drifted + counts.error;
  const skipped = counts.skipped > 0 ? `, ${counts.skipped} skipped` : '';
  if (counts.drifted > 0) return { state: 'failure', description: `Drift in ${counts.drifted}/${checked} project(s)${counts.error > 0 ? `, ${counts.error} failed to check` : ''}${skipped}.` };
  if (counts.error > 0) return { state: 'error', description: `No drift found, but ${counts.error}/${checked} project(s) failed to check${skipped}.` };
  return { state: 'success', description: `No drift in ${checked} project(s)${skipped}.` };
}
