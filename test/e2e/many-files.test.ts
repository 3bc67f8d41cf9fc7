// A pull request changing more files than GitHub lists: pulls/list-files stops at 3,000, so
// the projects touched past that point are only found by asking git.

import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHarness, terraformProject, type Harness } from '../support/harness.js';

const REPO = 'acme/huge';
// Sorted before `zz/`: GitHub (and the double) list them first and stop at 3,000.
const DOC_FILES = 3_000;

describe('a pull request with more files than GitHub lists', () => {
  let h: Harness;
  let stateFile: string;

  beforeAll(async () => {
    h = await startHarness();
    stateFile = join(h.stateDir, 'zz.tfstate');
    await h.double.createRepo(REPO, { 'README.md': '# huge\n', 'zz/main.tf': terraformProject(stateFile, 'one') });
  });
  afterAll(async () => {
    await h?.close();
  });

  it('autoplans the project whose file GitHub left off the list', async () => {
    const files: Record<string, string> = { 'zz/main.tf': terraformProject(stateFile, 'two') };
    for (let i = 0; i < DOC_FILES; i += 1) files[`docs/page-${String(i).padStart(4, '0')}.md`] = `page ${i}\n`;
    const pr = await h.double.openPull(REPO, { branch: 'big-change', files, author: 'alice' });
    expect((await h.double.sendPullRequestEvent(REPO, pr.number, 'opened')).status).toBe(202);
    const status = await h.double.waitFor('a final tideline/plan status', () =>
      h.double.statuses(REPO, pr.headSha).find((s) => s.context === 'tideline/plan' && s.state !== 'pending'),
    );
    const replies = h.double.comments(REPO, pr.number).filter((c) => c.user === h.double.botLogin).map((c) => c.body);
    expect(status.state).toBe('success');
    expect(replies.join('\n')).toContain('dir: `zz` workspace: `default`');
    expect(h.double.violations).toEqual([]);
  }, 120_000);
});
