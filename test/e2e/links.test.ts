// With TIDELINE_URL set (Atlantis's --atlantis-url), a plan's comment links its lock's page and
// its commit statuses link the job's page; both paths are pages the server serves. Here the URL
// is a public name in front of the server, as behind a reverse proxy, so the test follows the
// links by swapping that base for the server's own address.

import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHarness, terraformProject, type Harness } from '../support/harness.js';

const REPO = 'acme/links';
const PUBLIC = 'https://tideline.example.com';

describe('links to the web UI', () => {
  let h: Harness;
  let pull: number;
  let headSha: string;

  beforeAll(async () => {
    h = await startHarness({ env: { TIDELINE_URL: `${PUBLIC}/` } });
    const stateFile = join(h.stateDir, 'links.tfstate');
    await h.double.createRepo(REPO, { 'app/main.tf': terraformProject(stateFile, 'one') });
    ({ number: pull, headSha } = await h.double.openPull(REPO, { branch: 'change', files: { 'app/main.tf': terraformProject(stateFile, 'two') } }));
  });
  afterAll(async () => {
    await h?.close();
  });

  const served = (url: string): string => {
    expect(url.startsWith(`${PUBLIC}/`)).toBe(true);
    return `${h.server.url}${url.slice(PUBLIC.length)}`;
  };

  it("links the plan's lock page and the job's page, and both are served", async () => {
    await h.double.sendComment(REPO, pull, 'tideline plan -d app');
    const plan = await h.double.waitFor('the plan comment', () => h.double.comments(REPO, pull).find((c) => c.user === h.double.botLogin && c.body.includes('Ran Plan'))?.body);
    const lockLink = /click \[here\]\((\S+)\) to release only this lock/.exec(plan)?.[1];
    expect(lockLink).toBe(`${PUBLIC}/locks?repo=acme%2Flinks&dir=app&workspace=default`);
    const lockPage = await fetch(served(lockLink ?? ''));
    expect(lockPage.status).toBe(200);
    expect(await lockPage.text()).toContain(`#${pull}`);

    const final = await h.double.waitFor('the final plan status', () => h.double.statuses(REPO, headSha).find((s) => s.context === 'tideline/plan' && s.state !== 'pending'));
    const job = h.server.db.prepare("SELECT id FROM jobs WHERE type = 'command' ORDER BY id DESC LIMIT 1").get() as { id: number };
    expect(final).toMatchObject({ state: 'success', targetUrl: `${PUBLIC}/jobs/${job.id}` });
    // The pending status pointed at the same page while the plan ran.
    expect(h.double.statuses(REPO, headSha).filter((s) => s.context === 'tideline/plan').map((s) => s.targetUrl)).toEqual([`${PUBLIC}/jobs/${job.id}`, `${PUBLIC}/jobs/${job.id}`]);
    const jobPage = await fetch(served(final.targetUrl ?? ''));
    expect(jobPage.status).toBe(200);
    const page = await jobPage.text();
    expect(page).toContain('acme/links');
    expect(page).toContain('Plan: 1 to add, 0 to change, 0 to destroy.');
    expect(h.double.violations).toEqual([]);
  });

  it("links the job's page from a status that refuses, too: an apply of a stale plan", async () => {
    const newHead = await h.double.pushToPull(REPO, pull, { 'app/extra.tf': '# a push after the plan\n' });
    await h.double.sendComment(REPO, pull, 'tideline apply -d app');
    const refused = await h.double.waitFor('the refused apply status', () => h.double.statuses(REPO, newHead).find((s) => s.context === 'tideline/apply'));
    const job = h.server.db.prepare("SELECT id FROM jobs WHERE type = 'command' ORDER BY id DESC LIMIT 1").get() as { id: number };
    expect(refused).toMatchObject({ state: 'failure', description: 'apply refused: the plan is stale, run plan again', targetUrl: `${PUBLIC}/jobs/${job.id}` });
  });
});
