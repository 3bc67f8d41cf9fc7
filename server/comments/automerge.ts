// The replies of automerge (repo config `automerge: true`): waiting, merged, refused by GitHub.

import type { Project } from '../projects/types.js';
import { finishComment, inlineCode } from './markdown.js';
import { projectLabel } from './project.js';

function labels(projects: readonly Project[]): string {
  return projects.map(projectLabel).join(', ');
}

/** Why apply waits: with automerge on, every changed project must plan successfully first. */
export function automergeWaitMessage(projects: readonly Project[], headSha: string): string {
  const one = projects.length === 1;
  return `\`automerge\` is on, so every project this pull request changes must plan successfully before any is applied: ${labels(projects)} ${one ? 'has' : 'have'} no successful plan of ${headSha.slice(0, 7)}. Fix ${one ? 'it' : 'them'} and plan again.`;
}

export function renderAutomergeWaiting(projects: readonly Project[]): string {
  const one = projects.length === 1;
  return finishComment([`:hourglass: **Not merged yet** (\`automerge\` is on): ${labels(projects)} ${one ? 'is' : 'are'} not applied. The pull request is merged once every project it changes is.`], 'automerge');
}

export function renderAutomerged(mergeSha: string, method: 'merge' | 'squash' | 'rebase'): string {
  const how = method === 'merge' ? 'merge commit' : `${method === 'squash' ? 'squashed' : 'rebased'} onto the base branch, now at`;
  return finishComment([`:twisted_rightwards_arrows: **Automatically merged** because every plan has been applied (\`automerge\` is on): ${how} ${inlineCode(mergeSha.slice(0, 7))}.`], 'automerge');
}

/** `headMoved`: GitHub answered 409, the head is no longer the one applied. */
export function renderAutomergeFailed(reason: string, headMoved: boolean): string {
  const next = headMoved ? 'the pull request has new commits since this apply: plan and apply them, and it is merged then' : 'merge it by hand once GitHub allows it';
  return finishComment([`:x: **Automerge Failed**: GitHub would not merge this pull request: ${reason}`, `Everything planned was applied; ${next}.`], 'automerge');
}
