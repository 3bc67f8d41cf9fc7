import { describe, expect, it } from 'vitest';
import type { RenderContext } from '../../server/comments/index.js';
import { stoppedNotice } from '../../server/jobs/stopped-notice.js';
import type { ProjectResult, RecordedProject, WorkRecord } from '../../server/jobs/work-record.js';

const ctx: RenderContext = { prefix: 'tideline' };
const PAGE = 'https://tideline.example.com/jobs/9';

function project(name: string, result: ProjectResult | null): RecordedProject {
  return { key: `acme/infra/${name}/default/${name}`, project: { name, dir: name, workspace: 'default', kind: 'terraform' }, result };
}

function apply(projects: RecordedProject[], ended = false): WorkRecord {
  return { projects, endedAt: ended ? '2026-01-01T00:00:00.000Z' : null, summary: null, outcome: null, repliedAt: null };
}

describe('what the next start tells a pull request about a stopped plan or apply', () => {
  it.each([
    ['an apply that recorded nothing', 'apply', null],
    ['an apply none of whose projects had finished', 'apply', apply([project('a', null), project('b', 'stopped')])],
    ['a plan whose work had not ended', 'plan', { projects: [], endedAt: null, summary: null, outcome: null, repliedAt: null }],
  ] as const)('calls %s interrupted while it ran, as before', (_name, command, record) => {
    const notice = stoppedNotice(ctx, command, record, PAGE);
    expect(notice.body).toContain(`**${command === 'apply' ? 'Apply' : 'Plan'} Interrupted**: the server restarted while this ${command}`);
    expect(notice.status(`tideline/${command}`)).toEqual({ state: 'error', description: `${command} interrupted: the Tideline server stopped while it ran. Plan again.` });
  });

  it('reports an apply whose every project was applied as applied, with no plan-again, and settles its status as success', () => {
    const notice = stoppedNotice(ctx, 'apply', { ...apply([project('a', 'applied'), project('b', 'applied')], true), summary: '2/2 projects applied successfully' }, PAGE);
    expect(notice.body).toContain('**Apply Ran**: the apply ran (2/2 projects applied successfully), but the server stopped before it finished posting the result');
    expect(notice.body).toContain('Applied:\n* project: `a` dir: `a` workspace: `default`\n* project: `b` dir: `b` workspace: `default`');
    expect(notice.body).toContain(`[its job page](${PAGE})`);
    expect(notice.body).not.toContain('Interrupted');
    expect(notice.body).not.toContain('tideline plan');
    expect(notice.status('tideline/apply')).toEqual({ state: 'success', description: '2/2 projects applied successfully. The server stopped before it finished reporting.' });
  });

  it('settles an apply that finished with a failed project as failure, and offers a plan for that one only', () => {
    const notice = stoppedNotice(ctx, 'apply', apply([project('a', 'applied'), project('b', 'failed')], true));
    expect(notice.body).toContain('the apply ran (1/2 projects failed to apply)');
    expect(notice.body).toContain('Failed to apply (to try again, plan it again and review the new plan):\n* project: `b` dir: `b` workspace: `default`: `tideline plan -p b`');
    expect(notice.body).not.toContain('tideline plan -p a');
    expect(notice.status('tideline/apply')).toEqual({ state: 'failure', description: '1/2 projects failed to apply. The server stopped before it finished reporting.' });
  });

  it('names what a cut-short apply applied and asks for a plan only of what it cut short', () => {
    const notice = stoppedNotice(ctx, 'apply', apply([project('a', 'applied'), project('b', 'stopped'), project('c', null)]), PAGE);
    expect(notice.body).toContain('**Apply Interrupted**: the server stopped while this apply ran, after 1/3 projects were applied.');
    expect(notice.body).toContain('Applied before the stop (what was applied is applied: these need no new plan):\n* project: `a` dir: `a` workspace: `default`');
    expect(notice.body).toContain('plan them again and review the new plan before applying it:\n* project: `b` dir: `b` workspace: `default`: `tideline plan -p b`\n* project: `c` dir: `c` workspace: `default`: `tideline plan -p c`');
    expect(notice.body).not.toContain('tideline plan -p a');
    expect(notice.status('tideline/apply')).toEqual({ state: 'error', description: 'apply cut short by a server stop: 1/3 projects applied. Plan the rest again.' });
  });

  it('says a plan whose work ended ran, asks for a plan to see it, and does not call it a success', () => {
    const notice = stoppedNotice(ctx, 'plan', { projects: [], endedAt: '2026-01-01T00:00:00.000Z', summary: '1/1 projects planned successfully', outcome: 'success', repliedAt: null }, PAGE);
    expect(notice.body).toContain('**Plan Not Posted**: the plan ran (1/1 projects planned successfully), but the server stopped before it finished posting its output.');
    expect(notice.body).toContain('`tideline plan`');
    expect(notice.body).not.toContain('Interrupted');
    expect(notice.status('tideline/plan')).toEqual({ state: 'error', description: 'plan ran, but the server stopped before it finished posting it. Plan again to see it.' });
  });

  it.each([
    ['plan', '1/1 projects planned successfully', 'success'],
    ['plan', '1/2 projects failed to plan', 'failure'],
    ['apply', '2/2 projects applied successfully', 'success'],
    ['apply', '1/2 projects failed to apply', 'failure'],
  ] as const)('posts nothing for a %s whose reply was posted, and settles its status as the run would have (%s)', (command, summary, outcome) => {
    const projects = command === 'apply' ? [project('a', 'applied'), project('b', outcome === 'success' ? 'applied' : 'failed')] : [];
    const notice = stoppedNotice(ctx, command, { projects, endedAt: '2026-01-01T00:00:00.000Z', summary, outcome, repliedAt: '2026-01-01T00:00:01.000Z' }, PAGE);
    expect(notice.body).toBeNull();
    expect(notice.status(`tideline/${command}`)).toEqual({ state: outcome, description: `${summary}.` });
  });

  it.each([
    ['a plan whose reply was posted', { projects: [], endedAt: '2026-01-01T00:00:00.000Z', summary: '1/1 projects planned successfully', outcome: 'success' as const, repliedAt: '2026-01-01T00:00:01.000Z' }],
    ['a run that recorded nothing', null],
  ])('settles a workflow hook status left pending as interrupted, for %s', (_, record) => {
    const status = stoppedNotice(ctx, 'plan', record, PAGE).status('tideline/post_workflow_hook: Cleanup');
    expect(status).toEqual({ state: 'error', description: 'interrupted: the Tideline server stopped while this hook ran.' });
    expect(stoppedNotice(ctx, 'plan', record, PAGE).status('tideline/plan').description).not.toContain('workflow_hook');
  });

  it('does not trust a reply mark without the outcome it was recorded with (a damaged row)', () => {
    const notice = stoppedNotice(ctx, 'plan', { projects: [], endedAt: '2026-01-01T00:00:00.000Z', summary: '1/1 projects planned successfully', outcome: null, repliedAt: '2026-01-01T00:00:01.000Z' }, PAGE);
    expect(notice.body).toContain('**Plan Not Posted**');
  });

  it.each(['apply', 'plan'] as const)('keeps every %s status description within the 140 characters GitHub takes', (command) => {
    const many = Array.from({ length: 999 }, (_, i) => project(`p${i}`, i % 2 === 0 ? 'applied' : null));
    const records = [apply(many), apply(many.map((p) => ({ ...p, result: 'failed' as const })), true), { projects: [], endedAt: 'x', summary: '999/999 projects failed to plan', outcome: 'failure' as const, repliedAt: null }];
    for (const record of records) expect(Array.from(stoppedNotice(ctx, command, record).status(`tideline/${command}`).description).length).toBeLessThanOrEqual(140);
  });
});
