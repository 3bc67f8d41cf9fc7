import { describe, expect, it } from 'vitest';
import { claimNext, getJob, interruptRunning, STOPPED_AFTER_REPLY, STOPPED_AFTER_WORK } from '../../server/jobs/queue.js';
import { stoppedNotice } from '../../server/jobs/stopped-notice.js';
import { readWorkRecord, recordApplying, recordProjectResult, recordReplied, recordWorkEnded } from '../../server/jobs/work-record.js';
import type { Project } from '../../server/projects/types.js';
import { migrate, openDb } from '../../server/store/db.js';
import { MIGRATIONS } from '../../server/store/migrations.js';
import { plan } from '../support/queue-jobs.js';

const a: Project = { name: 'a', dir: 'a', workspace: 'default', kind: 'terraform', workflow: 'default', applyRequirements: [] };
const b: Project = { dir: 'b', workspace: 'staging', kind: 'terraform' };

describe('work record', () => {
  it('keeps each project of an apply with its result as it finishes, and when the work ended', () => {
    const db = openDb({ dataDir: ':memory:' });
    const jobId = plan(db, 1);
    expect(readWorkRecord(db, jobId)).toBeNull();
    recordApplying({ db, jobId }, [{ key: 'k/a', project: a }, { key: 'k/b', project: b }]);
    recordProjectResult({ db, jobId }, 'k/b', 'stopped');
    expect(readWorkRecord(db, jobId)).toEqual({
      // Only what a notice names a project by: not its workflow or requirements.
      projects: [
        { key: 'k/a', project: { name: 'a', dir: 'a', workspace: 'default', kind: 'terraform' }, result: null },
        { key: 'k/b', project: { dir: 'b', workspace: 'staging', kind: 'terraform' }, result: 'stopped' },
      ],
      endedAt: null,
      summary: null,
      outcome: null,
      repliedAt: null,
    });
    recordProjectResult({ db, jobId }, 'k/a', 'applied');
    recordWorkEnded({ db, jobId }, '2/2 projects applied successfully', 'success');
    expect(readWorkRecord(db, jobId)).toMatchObject({ projects: [{ result: 'applied' }, { result: 'stopped' }], endedAt: expect.any(String), summary: '2/2 projects applied successfully', outcome: 'success', repliedAt: null });
    recordReplied({ db, jobId });
    expect(readWorkRecord(db, jobId)).toMatchObject({ outcome: 'success', repliedAt: expect.any(String) });
  });

  it('keeps nothing outside a job', () => {
    const db = openDb({ dataDir: ':memory:' });
    const jobId = plan(db, 1);
    recordWorkEnded({ db }, 'x', 'success');
    recordReplied({ db });
    recordApplying({ db }, [{ key: 'k/a', project: a }]);
    expect(readWorkRecord(db, jobId)).toBeNull();
  });

  it('reads a job queued before migration 11 as having recorded nothing', () => {
    const db = openDb({ dataDir: ':memory:', migrations: MIGRATIONS.filter((m) => m.version <= 10) });
    const jobId = plan(db, 1);
    claimNext(db);
    expect(migrate(db, MIGRATIONS)).toBe(MIGRATIONS.filter((m) => m.version > 10).length);
    expect(db.pragma('user_version', { simple: true })).toBe(MIGRATIONS.at(-1)?.version);
    expect(readWorkRecord(db, jobId)).toBeNull();
    expect(interruptRunning(db, 'restart').map((j) => j.state)).toEqual(['interrupted']);
  });

  it('fails, not interrupts, a job a dead process left running after its work ended, and still hands it back to be told', () => {
    const db = openDb({ dataDir: ':memory:' });
    const ended = plan(db, 1);
    const cut = plan(db, 2);
    const replied = plan(db, 3);
    claimNext(db);
    claimNext(db);
    claimNext(db);
    recordWorkEnded({ db, jobId: ended }, '1/1 projects planned successfully', 'success');
    recordWorkEnded({ db, jobId: replied }, '1/1 projects planned successfully', 'success');
    recordReplied({ db, jobId: replied });
    expect(interruptRunning(db, 'restart').map((j) => [j.id, j.state, j.error])).toEqual([
      [ended, 'failed', STOPPED_AFTER_WORK],
      [cut, 'interrupted', 'restart'],
      [replied, 'failed', STOPPED_AFTER_REPLY],
    ]);
    expect(getJob(db, ended)?.state).toBe('failed');
  });

  // The start-up transaction that marks a dead process's jobs builds each notice from its
  // record: a record that throws there fails every start, and the queue never runs again.
  it.each([
    ['an entry that is not an object', '[null]'],
    ['an entry without its project', '[{"key":"k/a","result":"applied"}]'],
    ['a project without its workspace', '[{"key":"k/a","project":{"dir":"a","kind":"terraform"},"result":"applied"}]'],
    ['an unknown result', '[{"key":"k/a","project":{"dir":"a","workspace":"default","kind":"terraform"},"result":"done"}]'],
    ['not a list', '{"key":"k/a"}'],
    ['not JSON', '[{'],
  ])('reads a record with %s as telling nothing, so the notice says interrupted instead of throwing', (_name, text) => {
    const db = openDb({ dataDir: ':memory:' });
    const jobId = plan(db, 1);
    db.prepare('UPDATE jobs SET work_projects = ? WHERE id = ?').run(text, jobId);
    expect(readWorkRecord(db, jobId)?.projects).toEqual([]);
    expect(stoppedNotice({ prefix: 'tideline' }, 'apply', readWorkRecord(db, jobId)).body).toContain('**Apply Interrupted**');
    recordProjectResult({ db, jobId }, 'k/a', 'applied');
  });
});
