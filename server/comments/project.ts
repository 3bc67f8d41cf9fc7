// How a project is named in comments, and the commands that act on it.

import type { Project } from '../projects/types.js';
import { inlineCode } from './markdown.js';
import type { RenderContext } from './types.js';

function hasName(p: Project): p is Project & { name: string } {
  return p.name !== undefined && p.name !== '';
}

/** `dir: \`x\` workspace: \`y\``, led by `project: \`name\`` when the project is named. */
export function projectLabel(p: Project): string {
  const name = hasName(p) ? `project: ${inlineCode(p.name)} ` : '';
  return `${name}dir: ${inlineCode(p.dir)} workspace: ${inlineCode(p.workspace)}`;
}

/** Quotes an argument only when the comment grammar would otherwise split it. */
function commandArg(value: string): string {
  return /[\s"']/.test(value) ? JSON.stringify(value) : value;
}

/**
 * The comment that re-runs `verb` for one project: `-p name` for a named project, else
 * `-d dir`, plus `-w ws` when the workspace is not `default`.
 */
export function commandFor(ctx: RenderContext, verb: 'plan' | 'apply', p: Project): string {
  const words = [ctx.prefix, verb];
  if (hasName(p)) {
    words.push('-p', commandArg(p.name));
  } else {
    words.push('-d', commandArg(p.dir));
    if (p.workspace !== 'default') {
      words.push('-w', commandArg(p.workspace));
    }
  }
  return words.join(' ');
}

/** `tideline apply`, `tideline unlock`, … for the whole pull request. */
export function pullCommand(ctx: RenderContext, verb: 'plan' | 'apply' | 'unlock' | 'help'): string {
  return `${ctx.prefix} ${verb}`;
}

/**
 * Link to one project's lock in the server UI, or undefined without `serverUrl`. The lock is
 * named by query parameters (repo when known, dir, workspace, project name).
 */
export function lockUrl(ctx: RenderContext, p: Project): string | undefined {
  if (ctx.serverUrl === undefined || ctx.serverUrl === '') {
    return undefined;
  }
  const query = new URLSearchParams();
  if (ctx.repo !== undefined) {
    query.set('repo', ctx.repo);
  }
  query.set('dir', p.dir);
  query.set('workspace', p.workspace);
  if (hasName(p)) {
    query.set('project', p.name);
  }
  return `${ctx.serverUrl.replace(/\/+$/, '')}/locks?${query.toString()}`;
}
