// The Octokit forge in GitHub App mode against the double: installations that change under it.

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { startGitHubDouble, type StartedGitHubDouble } from '../../sandbox/github/index.js';
import { AppNotInstalledError, InstallationSuspendedError, type Forge } from '../../server/github/forge.js';
import { createOctokitForge } from '../../server/github/octokit-forge.js';

const REPO = { owner: 'acme', name: 'forge-app' };
const FULL = 'acme/forge-app';

describe('the forge as a GitHub App', () => {
  let tmp: string;
  let double: StartedGitHubDouble;
  let pull: number;
  const warnings: string[] = [];

  function forge(): Forge {
    if (double.app === null) throw new Error('no App');
    const log = pino({ level: 'info' }, { write: (line: string) => void warnings.push(line) });
    return createOctokitForge({ apiUrl: double.url, auth: { kind: 'app', appId: String(double.app.id), privateKey: double.app.privateKey }, log, retries: 0, throttle: false });
  }

  beforeAll(async () => {
    tmp = await mkdtemp(join(tmpdir(), 'tideline-app-forge-'));
    double = await startGitHubDouble({ webhookSecret: 's', rootDir: join(tmp, 'repos'), app: { id: 5150 } });
    await double.createRepo(FULL, { 'main.tf': '' });
    pull = (await double.openPull(FULL, { branch: 'b', files: { 'a.tf': '' } })).number;
  });
  afterEach(() => {
    vi.useRealTimers();
    vi.restoreAllMocks();
    if (double.installationOf(FULL) === null) double.installApp(FULL);
    double.unsuspendInstallation(double.installationOf(FULL) ?? 0);
  });

  /** Counts the requests the forge sends from now on (Octokit fetches through globalThis.fetch). */
  function countRequests(): { urls: string[] } {
    const seen = { urls: [] as string[] };
    const real = globalThis.fetch;
    vi.spyOn(globalThis, 'fetch').mockImplementation((input, init) => {
      seen.urls.push(String(input instanceof Request ? input.url : input));
      return real(input, init);
    });
    return seen;
  }
  afterAll(async () => {
    await double.close();
    await rm(tmp, { recursive: true, force: true });
  });

  it('acts as the App’s bot', async () => {
    double.installApp(FULL);
    expect(await forge().whoami()).toBe('tideline[bot]');
  });

  it('follows a reinstall on the next call: the revoked token’s 401 makes it look again', async () => {
    double.installApp(FULL);
    const f = forge();
    await f.getPull(REPO, pull);
    double.reinstallApp(FULL);
    await expect(f.createComment(REPO, pull, 'after the reinstall')).resolves.toMatchObject({ id: expect.any(Number) });
    expect(double.comments(FULL, pull).at(-1)).toMatchObject({ body: 'after the reinstall', user: 'tideline[bot]' });
  });

  it('follows a reinstall an hour later: the token request’s 404 makes it look again', async () => {
    double.installApp(FULL);
    const f = forge();
    await f.getPull(REPO, pull);
    double.reinstallApp(FULL);
    const before = warnings.length;
    // An hour on, the cached token is gone and a new one is asked of the deleted installation.
    vi.useFakeTimers({ toFake: ['Date'], now: Date.now() + 61 * 60 * 1000 });
    await expect(f.getPull(REPO, pull)).resolves.toMatchObject({ number: pull });
    expect(warnings.slice(before).join('')).toMatch(/"status":404,"refusal":"credentials".*looking the GitHub App installation up again/);
  });

  it('hands git a token GitHub takes after a reinstall nobody announced, when no API call came first', async () => {
    // A drift sweep's first forge call is cloneToken, and git's failures are not retried.
    double.installApp(FULL);
    const f = forge();
    await f.cloneToken(REPO);
    double.reinstallApp(FULL);
    // Past the 5 s in which @octokit/auth-app waits out a new token's 401s, so this stays quick.
    vi.useFakeTimers({ toFake: ['Date'], now: Date.now() + 10_000 });
    const token = await f.cloneToken(REPO);
    const res = await fetch(`${double.url}/repos/${FULL}`, { headers: { authorization: `token ${token}` } });
    expect(res.status).toBe(200);
  });

  it('drops what an installation webhook names, so the next call finds the new installation at once', async () => {
    double.installApp(FULL);
    const f = forge();
    await f.getPull(REPO, pull);
    const { deleted } = double.reinstallApp(FULL);
    const before = warnings.length;
    f.forgetInstallations?.({ installationId: deleted, account: 'acme', repos: [] });
    await f.getPull(REPO, pull);
    expect(warnings.slice(before).join('')).not.toContain('looking the GitHub App installation up again');
  });

  it('says the App is not installed, and what to do, once the App is uninstalled', async () => {
    double.installApp(FULL);
    const f = forge();
    await f.getPull(REPO, pull);
    double.uninstallApp(FULL);
    const error = await f.createComment(REPO, pull, 'never posted').catch((err: unknown) => err);
    expect(error).toBeInstanceOf(AppNotInstalledError);
    expect((error as Error).message).toBe(
      `GitHub: the GitHub App (ID ${double.app?.id}) is not installed on ${FULL} (GET /repos/${FULL}/installation answered 404): ` +
        `install the App on ${FULL}, or add ${FULL} to the App's installation under Settings → GitHub Apps → Configure → Repository access, then run the command again`,
    );
    expect(double.comments(FULL, pull).map((c) => c.body)).not.toContain('never posted');
  });

  it('says the same for a repository taken out of the installation, and for one never in it', async () => {
    double.installApp(FULL);
    const f = forge();
    await f.getPull(REPO, pull);
    double.removeFromInstallation(FULL);
    await expect(f.getPull(REPO, pull)).rejects.toThrow(`is not installed on ${FULL}`);
    await expect(forge().getPull(REPO, pull)).rejects.toBeInstanceOf(AppNotInstalledError);
  });

  it('asks for a permission on a repository taken out of the installation as not installed, not as none', async () => {
    double.installApp(FULL);
    const f = forge();
    await f.getPull(REPO, pull);
    double.removeFromInstallation(FULL);
    await expect(f.getPermission(REPO, 'octocat')).rejects.toBeInstanceOf(AppNotInstalledError);
  });

  it('keeps a plain 404 a 404 when the installation did not change', async () => {
    double.installApp(FULL);
    const f = forge();
    await f.getPull(REPO, pull);
    await expect(f.getPull(REPO, 999)).rejects.toMatchObject({ status: 404, message: expect.stringContaining('Not Found') });
  });

  it('says which token it could not get when the token request fails', async () => {
    double.installApp(FULL);
    double.failNext('apps/create-installation-access-token', { status: 500, message: 'Server Error' });
    await expect(forge().cloneToken(REPO)).rejects.toThrow(`GitHub: could not get an installation token for ${FULL}: Server Error`);
  });

  it('says the installation is suspended, by whom, and how to fix it; then asks GitHub nothing while it is', async () => {
    const id = double.installApp(FULL);
    const f = forge();
    await f.getPull(REPO, pull);
    double.suspendInstallation(id, { by: 'octocat' });
    const error = await f.createComment(REPO, pull, 'never posted').catch((err: unknown) => err);
    expect(error).toBeInstanceOf(InstallationSuspendedError);
    expect((error as Error).message).toMatch(
      new RegExp(`^GitHub: the GitHub App \\(ID ${double.app?.id}\\) is suspended on acme \\(installation ${id}, suspended at \\S+Z by octocat\\), so GitHub refuses every request it makes for ${FULL}: an owner of acme can unsuspend it under Settings → GitHub Apps → Configure → Unsuspend`),
    );
    expect(double.comments(FULL, pull).map((c) => c.body)).not.toContain('never posted');
    const sent = countRequests();
    for (let i = 0; i < 3; i++) await expect(f.getPull(REPO, pull)).rejects.toBeInstanceOf(InstallationSuspendedError);
    await expect(f.cloneToken(REPO)).rejects.toBeInstanceOf(InstallationSuspendedError);
    expect(sent.urls).toEqual([]);
  });

  it('asks for no token of an installation the look-up finds suspended (a drift sweep’s first call)', async () => {
    double.suspendInstallation(double.installApp(FULL));
    const sent = countRequests();
    await expect(forge().cloneToken(REPO)).rejects.toBeInstanceOf(InstallationSuspendedError);
    expect(sent.urls.map((u) => new URL(u).pathname)).toEqual([`/repos/${FULL}/installation`]);
  });

  it('works again at once after the unsuspend webhook, or after the hold when that delivery is lost', async () => {
    const id = double.installApp(FULL);
    const f = forge();
    double.suspendInstallation(id);
    await expect(f.getPull(REPO, pull)).rejects.toBeInstanceOf(InstallationSuspendedError);
    double.unsuspendInstallation(id);
    f.forgetInstallations?.({ installationId: id, account: 'acme', repos: [] });
    await expect(f.getPull(REPO, pull)).resolves.toMatchObject({ number: pull });
    const g = forge();
    double.suspendInstallation(id);
    await expect(g.getPull(REPO, pull)).rejects.toBeInstanceOf(InstallationSuspendedError);
    double.unsuspendInstallation(id);
    await expect(g.getPull(REPO, pull)).rejects.toBeInstanceOf(InstallationSuspendedError);
    vi.useFakeTimers({ toFake: ['Date'], now: Date.now() + 11 * 60 * 1000 });
    await expect(g.getPull(REPO, pull)).resolves.toMatchObject({ number: pull });
  });

  it('sent only requests GitHub’s description allows', () => {
    expect(double.violations).toEqual([]);
    expect(double.unimplemented).toEqual([]);
  });
});
