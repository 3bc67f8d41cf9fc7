// The Octokit forge in GitHub App mode against the double: installations that change under it.

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { startGitHubDouble, type StartedGitHubDouble } from '../../sandbox/github/index.js';
import { AppNotInstalledError, type Forge } from '../../server/github/forge.js';
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
    if (double.installationOf(FULL) === null) double.installApp(FULL);
  });
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

  it('sent only requests GitHub’s description allows', () => {
    expect(double.violations).toEqual([]);
    expect(double.unimplemented).toEqual([]);
  });
});
