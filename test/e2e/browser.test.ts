// The web UI in a real browser: Debian's chromium driven by playwright-core, against the real
// server (GitHub double, real terraform, git and SQLite). It sees the lock a PR holds, unlocks it
// through the form and the confirm dialog, watches a running apply's output arrive line by line,
// checks the pages on a phone-sized screen, and saves the screenshots the README shows.

import { existsSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getLock, lockKey } from '../../server/locks/locks.js';
import { startHarness, terraformProject, type Harness } from '../support/harness.js';

// What the page functions below use of the browser's globals (the project compiles without DOM types).
declare const document: {
  querySelector(selector: string): { textContent: string | null; getAttribute(name: string): string | null } | null;
  documentElement: { scrollWidth: number };
};
declare const window: { innerWidth: number };

const CHROMIUM = '/usr/bin/chromium';
const HAVE_CHROMIUM = existsSync(CHROMIUM);
/** The flags this machine needs (see the machine notes): headless, no sandbox as root, no calls home. */
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const WEB = { username: 'ops', password: 'browser-test-password-7f3a' };
const REPO = 'acme/platform';
// The README's screenshots are refreshed only on request, so a test run never dirties the tree:
// TIDELINE_UPDATE_SCREENSHOTS=1 npx vitest run test/e2e/browser.test.ts
const DOCS =
  process.env['TIDELINE_UPDATE_SCREENSHOTS'] === '1'
    ? fileURLToPath(new URL('../../docs/', import.meta.url))
    : join(tmpdir(), `tideline-screenshots-${process.pid}`);

if (!HAVE_CHROMIUM) console.warn(`browser test skipped: ${CHROMIUM} is missing (.ci/run installs Debian's chromium with apt-get)`);

/** A project whose apply prints a line a second for ten seconds, from a local-exec loop. */
function tickingProject(stateFile: string, value: string): string {
  return `terraform {
  backend "local" { path = ${JSON.stringify(stateFile)} }
}
variable "v" { default = ${JSON.stringify(value)} }
resource "terraform_data" "ticker" {
  input = var.v
  provisioner "local-exec" {
    command = "for i in 1 2 3 4 5 6 7 8 9 10; do echo tick-$i; sleep 1; done"
  }
}
`;
}

interface UiTarget {
  url: string;
  close: () => Promise<void>;
}

/** The UI as the running server serves it; fails when it does not. */
async function uiTarget(h: Harness): Promise<UiTarget> {
  const auth = `Basic ${Buffer.from(`${WEB.username}:${WEB.password}`).toString('base64')}`;
  const probe = await fetch(`${h.server.url}/`, { headers: { authorization: auth } });
  expect(probe.status).toBe(200);
  expect(probe.headers.get('content-type') ?? '').toMatch(/^text\/html/);
  return { url: h.server.url, close: async () => {} };
}

describe.skipIf(!HAVE_CHROMIUM)(`web UI in Chromium${HAVE_CHROMIUM ? '' : ` (skipped: ${CHROMIUM} is missing)`}`, () => {
  let h: Harness;
  let ui: UiTarget;
  let browser: Browser;
  let context: BrowserContext;
  const foreign: string[] = [];
  const consoleErrors: string[] = [];

  function bodies(pull: number): string[] {
    return h.double.comments(REPO, pull).filter((c) => c.user === h.double.botLogin).map((c) => c.body);
  }

  async function openPlanned(branch: string, files: Record<string, string>): Promise<number> {
    const pr = await h.double.openPull(REPO, { branch, files, author: 'alice' });
    expect((await h.double.sendPullRequestEvent(REPO, pr.number, 'opened')).status).toBe(202);
    await h.double.waitFor(`plan of #${pr.number}`, () => bodies(pr.number).find((b) => b.includes('Ran Plan')), 60_000);
    return pr.number;
  }

  async function newPage(viewport = { width: 1280, height: 800 }): Promise<Page> {
    const page = await context.newPage();
    await page.setViewportSize(viewport);
    page.on('request', (req) => {
      if (!req.url().startsWith(`${ui.url}/`) && !req.url().startsWith('data:')) foreign.push(req.url());
    });
    page.on('console', (msg) => {
      if (msg.type() === 'error') consoleErrors.push(msg.text());
    });
    page.on('pageerror', (err) => consoleErrors.push(err.message));
    return page;
  }

  beforeAll(async () => {
    h = await startHarness({ env: { TIDELINE_WEB_USERNAME: WEB.username, TIDELINE_WEB_PASSWORD: WEB.password } });
    await h.double.createRepo(REPO, {
      'README.md': '# platform\n',
      'app/main.tf': terraformProject(join(h.stateDir, 'app.tfstate'), 'one'),
      'network/main.tf': terraformProject(join(h.stateDir, 'network.tfstate'), 'one'),
      'ticker/main.tf': tickingProject(join(h.stateDir, 'ticker.tfstate'), 'one'),
    });
    ui = await uiTarget(h);
    mkdirSync(DOCS, { recursive: true });
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
    context = await browser.newContext({ httpCredentials: { username: WEB.username, password: WEB.password } });
  }, 120_000);

  afterAll(async () => {
    // Pages first: an open event stream would hold the server's close.
    await context?.close();
    await browser?.close();
    await ui?.close();
    await h?.close();
  });

  it('shows the lock a PR holds, and releases it with Unlock and a confirmation', async () => {
    const pull = await openPlanned('change-app', { 'app/main.tf': terraformProject(join(h.stateDir, 'app.tfstate'), 'two') });
    const key = lockKey(REPO, { dir: 'app', workspace: 'default' });
    expect(getLock(h.server.db, key)?.pull).toBe(pull);

    const page = await newPage();
    await page.goto(`${ui.url}/`);
    const row = page.locator('#locks-table tbody tr', { hasText: 'app' });
    await row.waitFor();
    expect(await row.innerText()).toContain(`#${pull}`);
    expect(await row.innerText()).toContain(REPO);

    await row.getByRole('link', { name: 'app' }).click();
    await page.waitForURL(`${ui.url}/locks/${encodeURIComponent(key)}`);
    const dialogs: string[] = [];
    page.once('dialog', (dialog) => {
      dialogs.push(dialog.message());
      void dialog.accept();
    });
    await Promise.all([page.waitForURL(`${ui.url}/`), page.getByRole('button', { name: 'Unlock' }).click()]);
    expect(dialogs).toHaveLength(1);
    expect(dialogs[0]).toContain(`held by #${pull}`);
    expect(await page.locator('.flash').innerText()).toContain(`Released the lock of ${REPO} app`);
    expect(await page.locator('#locks-table tbody tr', { hasText: 'app' }).count()).toBe(0);

    expect(getLock(h.server.db, key)).toBeNull();
    const record = h.server.db.prepare("SELECT actor, fields FROM audit WHERE type = 'lock.released' AND project = ?").get(key) as { actor: string; fields: string };
    expect(record.actor).toBe(WEB.username);
    expect(JSON.parse(record.fields)).toMatchObject({ reason: 'unlocked from the web UI' });
    const notice = await h.double.waitFor('the PR told of the release', () => bodies(pull).find((b) => b.includes('Lock released')));
    expect(notice).toContain('tideline plan -d app');
    await page.close();
  }, 120_000);

  it('streams a running apply\'s output live, and the screenshots show it', async () => {
    const other = await openPlanned('change-network', { 'network/main.tf': terraformProject(join(h.stateDir, 'network.tfstate'), 'two') });
    const pull = await openPlanned('change-ticker', { 'ticker/main.tf': tickingProject(join(h.stateDir, 'ticker.tfstate'), 'two') });
    expect(other).not.toBe(pull);
    const head = h.double.headSha(REPO, pull);
    expect((await h.double.sendComment(REPO, pull, 'tideline apply -d ticker')).status).toBe(202);
    await h.double.waitFor('apply to start', () => h.double.statuses(REPO, head).find((s) => s.context === 'tideline/apply' && s.state === 'pending'), 60_000);

    const overview = await newPage();
    await overview.goto(`${ui.url}/`);
    const running = overview.locator('#running tbody tr', { hasText: 'apply -d ticker' });
    await running.waitFor();
    await running.getByRole('link').first().click();
    await overview.waitForURL(/\/jobs\/\d+$/);
    const log = overview.locator('pre.log');
    const ticksNow = async (): Promise<number> => Math.max(0, ...[...(await log.innerText()).matchAll(/tick-(\d+)/g)].map((m) => Number(m[1])));
    const atLoad = await ticksNow();
    expect(atLoad, 'the page opened before most of the output was printed').toBeLessThanOrEqual(7);
    let navigations = 0;
    overview.on('framenavigated', () => (navigations += 1));

    // Lines arrive while we watch: one, then a later one, without reloading.
    await overview.waitForFunction((n) => new RegExp(`tick-${n}\\b`).test(document.querySelector('pre.log')?.textContent ?? ''), atLoad + 1, { timeout: 30_000 });
    const first = Date.now();
    await overview.waitForFunction((n) => new RegExp(`tick-${n}\\b`).test(document.querySelector('pre.log')?.textContent ?? ''), atLoad + 3, { timeout: 30_000 });
    expect(Date.now() - first, 'lines came over seconds, not all at once').toBeGreaterThan(1000);
    expect(navigations).toBe(0);
    await overview.screenshot({ path: join(DOCS, 'ui-job.png') });

    // The overview mid-apply: a lock held, the apply running, the audit trail.
    const shot = await newPage();
    await shot.goto(`${ui.url}/`);
    await shot.locator('#running tbody tr', { hasText: 'apply -d ticker' }).waitFor();
    await shot.screenshot({ path: join(DOCS, 'ui.png') });

    await overview.waitForFunction(() => document.querySelector('pre.log')?.getAttribute('data-ended') === 'succeeded', undefined, { timeout: 60_000 });
    expect(await overview.locator('[data-job-state]').innerText()).toBe('succeeded');
    expect(await log.innerText()).toContain('tick-10');
    expect(navigations).toBe(0);
    await Promise.all([overview.close(), shot.close()]);
  }, 180_000);

  it('fits a phone screen without sideways scrolling', async () => {
    const page = await newPage({ width: 390, height: 844 });
    for (const path of ['/', '/jobs/1']) {
      await page.goto(`${ui.url}${path}`);
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
      expect(overflow, `${path} is wider than the screen`).toBeLessThanOrEqual(0);
    }
    await page.close();
  });

  it('loaded nothing from outside the server and broke no Content-Security-Policy rule', () => {
    expect(foreign).toEqual([]);
    expect(consoleErrors).toEqual([]);
  });
});
