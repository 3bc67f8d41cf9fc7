// When GitHub refuses the reply of a run (here its secondary rate limit, as GitHub words it), the
// run's final commit status is still set, so branch protection is not left waiting on a pending
// status for good; the job fails with GitHub's reason, and the error comment that follows says
// that the run itself ran.

import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { InjectedFailure } from '../../sandbox/github/index.js';
import { startHarness, terraformProject, type Harness } from '../support/harness.js';

const REPO = 'acme/refused';
const SECONDARY_LIMIT: InjectedFailure = {
  status: 403,
  message: 'You have exceeded a secondary rate limit. Please wait a few minutes before you try again.',
  headers: { 'retry-after': '60' },
};

describe('a reply GitHub refuses', () => {
  let h: Harness;
  let stateFile: string;
  let pull: number;

  beforeAll(async () => {
    h = await startHarness();
    stateFile = join(h.stateDir, 'refused.tfstate');
    await h.double.createRepo(REPO, { 'app/main.tf': terraformProject(stateFile, 'one') });
    pull = (await h.double.openPull(REPO, { branch: 'change', files: { 'app/main.tf': terraformProject(stateFile, 'two') } })).number;
  });
  afterAll(async () => {
    await h?.close();
  });

  const botComments = (): string[] => h.double.comments(REPO, pull).filter((c) => c.user === h.double.botLogin).map((c) => c.body);
  const finalStatus = (context: string, count: number) =>
    h.double.waitFor(`final ${context} number ${count}`, () => {
      const done = h.double.statuses(REPO, h.double.headSha(REPO, pull)).filter((s) => s.context === context && s.state !== 'pending');
      return done.length >= count ? done[0] : undefined;
    });
  const lastJob = () => h.server.db.prepare("SELECT state, error FROM jobs WHERE type = 'command' ORDER BY id DESC LIMIT 1").get() as { state: string; error: string | null };

  it('still sets the plan status, saying the reply could not be posted, and fails the job with the reason', async () => {
    h.double.failNext('issues/create-comment', SECONDARY_LIMIT);
    await h.double.sendComment(REPO, pull, 'tideline plan -d app');
    const status = await finalStatus('tideline/plan', 1);
    expect(status).toMatchObject({ state: 'success', description: '1/1 projects planned successfully. The reply could not be posted. Plan again to see it.' });
    await h.double.waitFor('the job to finish', () => lastJob().state !== 'running' || undefined);
    expect(lastJob()).toMatchObject({ state: 'failed', error: expect.stringContaining('secondary rate limit') });
    // The reply never arrived; the error comment the server tries next did (the limit passed).
    const [error, ...more] = botComments();
    expect(more).toEqual([]);
    expect(error).toContain('**Plan Error**');
    expect(error).toContain('The plan ran (1/1 projects planned successfully), but its reply could not be posted: GitHub: could not comment on acme/refused#1: You have exceeded a secondary rate limit');
    expect(error).toContain('Plan again to see its output.');
    expect(error).not.toContain('Ran Plan');
    expect(h.double.violations).toEqual([]);
  });

  it('does not apply the plan nobody saw: its reply never reached the pull request', async () => {
    const before = botComments().length;
    await h.double.sendComment(REPO, pull, 'tideline apply -d app');
    const refusal = await h.double.waitFor('the apply refusal', () => botComments().slice(before).find((b) => b.includes('Apply Failed')));
    expect(refusal).toContain('the plan was made but never posted to this pull request (the server stopped, or GitHub refused the reply), so nobody has reviewed it: run plan again');
    expect(await finalStatus('tideline/apply', 1)).toMatchObject({ state: 'failure', description: 'apply refused: the plan was never shown, run plan again' });
    expect(existsSync(stateFile)).toBe(false);
    const refused = h.server.db.prepare("SELECT fields FROM audit WHERE type = 'command.refused'").all() as { fields: string }[];
    expect(refused.map((r) => JSON.parse(r.fields) as Record<string, unknown>)).toEqual([expect.objectContaining({ command: 'apply', reason: 'the plan was never posted' })]);
  });

  it('keeps what ran as the job error when GitHub refuses the error comment too', async () => {
    const before = botComments().length;
    h.double.failNext('issues/create-comment', { ...SECONDARY_LIMIT, times: 2 });
    await h.double.sendComment(REPO, pull, 'tideline plan -d app');
    expect(await finalStatus('tideline/plan', 2)).toMatchObject({ state: 'success', description: expect.stringContaining('The reply could not be posted.') });
    await h.double.waitFor('the job to finish', () => lastJob().state !== 'running' || undefined);
    expect(lastJob()).toMatchObject({ state: 'failed', error: expect.stringContaining('The plan ran (1/1 projects planned successfully), but its reply could not be posted') });
    expect(botComments().length).toBe(before);
    expect(h.logs()).toContain('could not post the error comment');
  });

  it('replies to the next plan as usual', async () => {
    await h.double.sendComment(REPO, pull, 'tideline plan -d app');
    const plan = await h.double.waitFor('the plan comment', () => botComments().find((b) => b.includes('Ran Plan')));
    expect(plan).toContain('Plan: 1 to add, 0 to change, 0 to destroy.');
    expect(await finalStatus('tideline/plan', 3)).toMatchObject({ state: 'success', description: '1/1 projects planned successfully.' });
  });

  it('still sets the apply status after an apply whose reply was refused: the apply happened', async () => {
    const before = botComments().length;
    h.double.failNext('issues/create-comment', SECONDARY_LIMIT);
    await h.double.sendComment(REPO, pull, 'tideline apply -d app');
    // The second apply status of this head: the first was the refusal of the plan nobody saw.
    const status = await finalStatus('tideline/apply', 2);
    expect(status).toMatchObject({ state: 'success', description: '1/1 projects applied successfully. The reply could not be posted.' });
    const state = JSON.parse(readFileSync(stateFile, 'utf8')) as { resources: { instances: { attributes: { input: { value: string } } }[] }[] };
    expect(state.resources[0]?.instances[0]?.attributes.input.value).toBe('two');
    await h.double.waitFor('the job to finish', () => lastJob().state !== 'running' || undefined);
    expect(lastJob()).toMatchObject({ state: 'failed', error: expect.stringContaining('secondary rate limit') });
    expect(botComments().slice(before).some((b) => b.includes('Ran Apply'))).toBe(false);
    expect(botComments().at(-1)).toContain('The apply ran (1/1 projects applied successfully), but its reply could not be posted');
  });
});
