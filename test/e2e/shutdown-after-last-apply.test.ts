// A shutdown that reaches an apply after its last project has its result, before the apply has
// said so: nothing was cut short, so the apply is reported as it ran, by its own reply and
// final status, and not as "stopped by a server shutdown: plan again" of what it had applied.
// The stop is begun from inside the transaction that records the last project's result (a temp
// trigger on the server's own connection), so it lands in that window every time.

import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { terraformProject } from '../support/harness.js';
import { restartable } from '../support/restartable.js';

const REPO = 'acme/last-result';

describe('a shutdown that comes as the last project of an apply has its result', () => {
  const env = restartable('tideline-last-result-');

  it('reports the apply as applied, not as stopped: plan again', async () => {
    const d = await env.double();
    await d.createRepo(REPO, { 'app/main.tf': terraformProject(join(env.dir, 'app.tfstate'), 'one') });
    const pr = await d.openPull(REPO, { branch: 'change', files: { 'app/main.tf': terraformProject(join(env.dir, 'app.tfstate'), 'two') } });
    const comments = (text: string): string[] => d.comments(REPO, pr.number).map((c) => c.body).filter((b) => b.includes(text));
    const h = await env.start();
    await d.sendComment(REPO, pr.number, 'tideline plan');
    await d.waitFor('the plan', () => comments('Ran Plan').length > 0 || undefined, 60_000);

    // The shutdown's timeout runs out (every running job's signal aborts) as the result is recorded.
    const db = h.server.db;
    let draining: Promise<unknown> | undefined;
    db.function('stop_now', () => {
      draining ??= h.server.pool.drain(0, () => false);
      return null;
    });
    db.exec(`CREATE TEMP TRIGGER stop_at_last_result AFTER UPDATE OF work_projects ON jobs
      WHEN json_extract(NEW.work_projects, '$[0].result') = 'applied' BEGIN SELECT stop_now(); END`);
    await d.sendComment(REPO, pr.number, 'tideline apply');
    await d.waitFor('the stop', () => draining, 60_000);
    await draining;

    const apply = db.prepare("SELECT id, state FROM jobs WHERE type = 'command' ORDER BY id DESC LIMIT 1").get() as { id: number; state: string };
    expect(apply.state).toBe('succeeded');
    expect(comments('Ran Apply')).toHaveLength(1);
    expect(d.statuses(REPO, pr.headSha).find((s) => s.context === 'tideline/apply')).toMatchObject({ state: 'success', description: '1/1 projects applied successfully.' });
    // No notice of a stopped run is left for the next start.
    expect(db.prepare("SELECT COUNT(*) AS n FROM jobs WHERE type = 'reply' AND state = 'queued'").get()).toEqual({ n: 0 });
    expect(d.violations).toEqual([]);
  }, 120_000);
});
