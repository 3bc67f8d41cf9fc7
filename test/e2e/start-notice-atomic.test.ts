// At start-up, a job a dead process left `running` is marked and its pull request's notice is
// queued in one transaction: a start that fails between the two (here a trigger refuses the
// notice's insert) leaves the job as it was, and the next start tells the PR. Were they two
// transactions, the job would be marked interrupted and its notice lost for good.

import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { claimNext } from '../../server/jobs/queue.js';
import { openDb } from '../../server/store/db.js';
import { restartable } from '../support/restartable.js';
import { plan, repo } from '../support/queue-jobs.js';

describe('the notice of a job a dead process left running', () => {
  const rig = restartable('tideline-start-notice-');

  it('is queued in the transaction that marks the job, so a failed start loses neither', async () => {
    const double = await rig.double();
    await double.createRepo(repo.fullName, { 'main.tf': '' });
    const pr = await double.openPull(repo.fullName, { branch: 'change', files: { 'main.tf': '# change\n' } });

    // What a killed server leaves: its plan job running. The first start cannot queue a reply.
    const db = openDb({ dataDir: rig.dataDir });
    const id = plan(db, pr.number);
    expect(claimNext(db)?.id).toBe(id);
    db.exec(`CREATE TRIGGER refuse_replies BEFORE INSERT ON jobs WHEN NEW.type = 'reply' BEGIN SELECT RAISE(ABORT, 'injected: no reply now'); END`);
    db.close();

    await expect(rig.start()).rejects.toThrow(/injected: no reply now/);
    const between = openDb({ dataDir: rig.dataDir });
    expect(between.prepare('SELECT state FROM jobs WHERE id = ?').get(id)).toEqual({ state: 'running' });
    between.exec('DROP TRIGGER refuse_replies');
    between.close();

    // The next start marks it and tells the PR.
    const harness = await rig.start();
    await double.waitFor('the interrupted notice', () => double.comments(repo.fullName, pr.number).find((c) => c.body.includes('Interrupted')), 30_000);
    const after = openDb({ dataDir: join(harness.dir, 'data') });
    expect(after.prepare('SELECT state FROM jobs WHERE id = ?').get(id)).toEqual({ state: 'interrupted' });
    after.close();
  }, 60_000);
});
