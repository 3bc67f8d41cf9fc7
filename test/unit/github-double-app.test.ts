// The GitHub double as a GitHub App: JWTs checked as GitHub checks them, installations,
// installation tokens and the installation webhooks.

import { createPrivateKey, generateKeyPairSync, sign } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGitHubDouble, type StartedGitHubDouble } from '../../sandbox/github/index.js';

const REPO = 'acme/infra';
const OTHER = 'acme/elsewhere';

interface Claims {
  iss?: unknown;
  iat?: unknown;
  exp?: unknown;
}

function jwt(privateKey: string, claims: Claims, alg = 'RS256'): string {
  const part = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url');
  const signed = `${part({ alg, typ: 'JWT' })}.${part(claims)}`;
  const signature = sign('sha256', Buffer.from(signed), createPrivateKey(privateKey)).toString('base64url');
  return `${signed}.${signature}`;
}

function now(): number {
  return Math.floor(Date.now() / 1000);
}

describe('GitHub double App auth', () => {
  let tmp: string;
  let double: StartedGitHubDouble;
  let key: string;
  let appId: number;
  const received: { event: string; body: Record<string, any> }[] = [];
  let receiver: Server;

  async function api(method: string, path: string, auth: string | null, body?: unknown): Promise<{ status: number; body: any }> {
    const response = await fetch(`${double.url}${path}`, {
      method,
      headers: { accept: 'application/vnd.github+json', ...(auth === null ? {} : { authorization: auth }), ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await response.text();
    return { status: response.status, body: text === '' ? null : JSON.parse(text) };
  }

  function appJwt(claims: Claims = {}): string {
    return `Bearer ${jwt(key, { iat: now() - 30, exp: now() + 540, iss: appId, ...claims })}`;
  }

  async function installationToken(installationId: number): Promise<string> {
    const created = await api('POST', `/app/installations/${installationId}/access_tokens`, appJwt());
    expect(created.status).toBe(201);
    return created.body.token as string;
  }

  beforeAll(async () => {
    tmp = await mkdtemp(join(tmpdir(), 'tideline-double-app-'));
    double = await startGitHubDouble({ webhookSecret: 'app-secret', rootDir: join(tmp, 'repos'), app: { id: 7001, slug: 'tideline-test' } });
    if (double.app === null) throw new Error('no app');
    key = double.app.privateKey;
    appId = double.app.id;
    await double.createRepo(REPO, { 'main.tf': '' });
    await double.createRepo(OTHER, { 'main.tf': '' });
    receiver = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        received.push({ event: String(req.headers['x-github-event']), body: JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, any> });
        res.writeHead(202).end();
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    double.setWebhookTarget(`http://127.0.0.1:${(receiver.address() as AddressInfo).port}/events`);
  });

  afterAll(async () => {
    await new Promise<void>((resolve) => receiver.close(() => resolve()));
    await double.close();
    await rm(tmp, { recursive: true, force: true });
  });

  it('hands out a PKCS#1 RSA key and names the bot after the App', () => {
    expect(key).toMatch(/^-----BEGIN RSA PRIVATE KEY-----/);
    expect(double.botLogin).toBe('tideline-test[bot]');
  });

  it('answers GET /app to a JWT the App signed', async () => {
    const app = await api('GET', '/app', appJwt());
    expect(app.status).toBe(200);
    expect(app.body).toMatchObject({ id: appId, slug: 'tideline-test' });
  });

  const otherKey = generateKeyPairSync('rsa', { modulusLength: 2048, privateKeyEncoding: { type: 'pkcs8', format: 'pem' }, publicKeyEncoding: { type: 'spki', format: 'pem' } }).privateKey;
  it.each([
    ['signed by another key', (): string => `Bearer ${jwt(otherKey, { iat: now() - 30, exp: now() + 540, iss: appId })}`, 'A JSON web token could not be decoded'],
    ['issued by another App id', (): string => `Bearer ${jwt(key, { iat: now() - 30, exp: now() + 540, iss: appId + 1 })}`, 'A JSON web token could not be decoded'],
    ['without an issuer', (): string => `Bearer ${jwt(key, { iat: now() - 30, exp: now() + 540 })}`, 'A JSON web token could not be decoded'],
    ['not RS256', (): string => `Bearer ${jwt(key, { iat: now() - 30, exp: now() + 540, iss: appId }, 'HS256')}`, 'A JSON web token could not be decoded'],
    ['expiring more than 10 minutes ahead', (): string => `Bearer ${jwt(key, { iat: now(), exp: now() + 601, iss: appId })}`, "'Expiration time' claim ('exp') is too far in the future"],
    ['already expired', (): string => `Bearer ${jwt(key, { iat: now() - 700, exp: now() - 100, iss: appId })}`, "'Expiration time' claim ('exp') must be a numeric value representing the future time at which the assertion expires"],
    ['issued in the future', (): string => `Bearer ${jwt(key, { iat: now() + 300, exp: now() + 540, iss: appId })}`, "'Issued at' claim ('iat') must be an Integer representing the time that the assertion was issued"],
    ['with a fractional iat', (): string => `Bearer ${jwt(key, { iat: now() - 0.5, exp: now() + 540, iss: appId })}`, "'Issued at' claim ('iat') must be an Integer representing the time that the assertion was issued"],
  ])('refuses a JWT %s with 401 and GitHub’s message', async (_name, header, message) => {
    const answer = await api('GET', '/app', header());
    expect(answer.status).toBe(401);
    expect(answer.body.message).toBe(message);
  });

  it('refuses a JWT sent as `token …`: GitHub takes a JWT only as `Bearer`', async () => {
    const signed = jwt(key, { iat: now() - 30, exp: now() + 540, iss: appId });
    expect((await api('GET', '/app', `token ${signed}`)).status).toBe(401);
    expect((await api('GET', '/app', `bearer ${signed}`)).status).toBe(200);
  });

  it('accepts the App’s client id as issuer and exp exactly 10 minutes ahead', async () => {
    const answer = await api('GET', '/app', `Bearer ${jwt(key, { iat: now() - 60, exp: now() + 600, iss: double.app?.clientId })}`);
    expect(answer.status).toBe(200);
  });

  it('finds the installation of an installed repository, 404 for one the App is not on', async () => {
    const id = double.installApp(REPO);
    expect(double.installationOf(REPO)).toBe(id);
    const found = await api('GET', `/repos/${REPO}/installation`, appJwt());
    expect(found.status).toBe(200);
    expect(found.body).toMatchObject({ id, app_id: appId, account: { login: 'acme' }, access_tokens_url: `${double.url}/app/installations/${id}/access_tokens` });
    const missing = await api('GET', `/repos/${OTHER}/installation`, appJwt());
    expect(missing.status).toBe(404);
  });

  it('refuses the App endpoints to anything but a JWT', async () => {
    const id = double.installApp(REPO);
    const token = await installationToken(id);
    for (const auth of [`token ${token}`, `token ${double.token}`]) {
      const answer = await api('GET', `/repos/${REPO}/installation`, auth);
      expect(answer.status).toBe(401);
      expect(answer.body.message).toBe('A JSON web token could not be decoded');
    }
  });

  it('issues installation tokens (201) that read and write the installation’s repositories only', async () => {
    const id = double.installApp(REPO);
    const created = await api('POST', `/app/installations/${id}/access_tokens`, appJwt());
    expect(created.status).toBe(201);
    expect(Object.keys(created.body).sort()).toEqual(['expires_at', 'permissions', 'repository_selection', 'token']);
    expect(created.body.token).toMatch(/^ghs_\w{36}$/);
    expect(Date.parse(created.body.expires_at) - Date.now()).toBeGreaterThan(59 * 60 * 1000);
    expect(created.body.permissions).toMatchObject({ issues: 'write', statuses: 'write' });
    const token = created.body.token as string;
    for (const auth of [`token ${token}`, `Bearer ${token}`]) {
      expect((await api('GET', `/repos/${REPO}`, auth)).status).toBe(200);
    }
    expect((await api('GET', `/repos/${OTHER}`, `token ${token}`)).status).toBe(404);
    expect((await api('GET', '/user', `token ${token}`)).status).toBe(403);
    expect((await api('GET', `/repos/${REPO}`, appJwt())).status).toBe(401);
  });

  it('answers 404 to a token request for an unknown or deleted installation', async () => {
    expect((await api('POST', '/app/installations/999999/access_tokens', appJwt())).status).toBe(404);
    const { deleted, created } = double.reinstallApp(REPO);
    expect(created).not.toBe(deleted);
    const gone = await api('POST', `/app/installations/${deleted}/access_tokens`, appJwt());
    expect(gone.status).toBe(404);
    expect(gone.body.message).toBe('Not Found');
    expect((await api('POST', `/app/installations/${created}/access_tokens`, appJwt())).status).toBe(201);
  });

  it('refuses tokens of a deleted installation, and expired ones, with 401 Bad credentials', async () => {
    const before = double.installApp(REPO);
    const revoked = await installationToken(before);
    const { created } = double.reinstallApp(REPO);
    const answer = await api('GET', `/repos/${REPO}`, `token ${revoked}`);
    expect(answer).toMatchObject({ status: 401, body: { message: 'Bad credentials' } });
    const expiring = await installationToken(created);
    expect((await api('GET', `/repos/${REPO}`, `token ${expiring}`)).status).toBe(200);
    double.expireInstallationTokens(created);
    expect(await api('GET', `/repos/${REPO}`, `token ${expiring}`)).toMatchObject({ status: 401, body: { message: 'Bad credentials' } });
  });

  it('takes a repository out of an installation without touching the others', async () => {
    const id = double.installApp(REPO);
    expect(double.installApp(OTHER)).toBe(id);
    const token = await installationToken(id);
    double.removeFromInstallation(OTHER);
    expect((await api('GET', `/repos/${OTHER}`, `token ${token}`)).status).toBe(404);
    expect((await api('GET', `/repos/${OTHER}/installation`, appJwt())).status).toBe(404);
    expect((await api('GET', `/repos/${REPO}`, `token ${token}`)).status).toBe(200);
  });

  it('keeps the plain token working as in token mode', async () => {
    expect((await api('GET', `/repos/${REPO}`, `token ${double.token}`)).status).toBe(200);
    expect((await api('GET', '/user', `Bearer ${double.token}`)).status).toBe(200);
    expect((await api('GET', `/repos/${REPO}`, 'token ghs_unknown')).status).toBe(401);
  });

  it('sends installation and installation_repositories webhooks from GitHub’s examples', async () => {
    const { deleted, created } = double.reinstallApp(REPO);
    await double.sendInstallationEvent(deleted, 'deleted');
    await double.sendInstallationEvent(created, 'created');
    await double.sendInstallationRepositoriesEvent(created, 'removed', [REPO]);
    const [gone, made, removed] = received.slice(-3);
    expect(gone).toMatchObject({ event: 'installation', body: { action: 'deleted', installation: { id: deleted, app_id: appId, account: { login: 'acme' } }, repositories: [{ full_name: REPO }] } });
    expect(made).toMatchObject({ event: 'installation', body: { action: 'created', installation: { id: created }, sender: { login: 'acme' } } });
    expect(removed).toMatchObject({ event: 'installation_repositories', body: { action: 'removed', installation: { id: created }, repositories_added: [], repositories_removed: [{ full_name: REPO }] } });
  });

  it('refuses a suspended installation’s token requests and its live tokens with 403, until it is unsuspended', async () => {
    const id = double.installApp(REPO);
    const live = await installationToken(id);
    double.suspendInstallation(id, { by: 'octocat' });
    const refused = await api('POST', `/app/installations/${id}/access_tokens`, appJwt());
    expect(refused).toMatchObject({ status: 403, body: { message: 'This installation has been suspended' } });
    const used = await api('GET', `/repos/${REPO}`, `token ${live}`);
    expect(used.status).toBe(403);
    expect(used.body.message).toMatch(/^Sorry\. This installation owned by acme suspended your access at \d{4}-\d\d-\d\dT[\d:]+Z\.$/);
    // The App's own endpoints still answer its JWT, and say who suspended it and when.
    const found = await api('GET', `/repos/${REPO}/installation`, appJwt());
    expect(found).toMatchObject({ status: 200, body: { id, suspended_by: { login: 'octocat' }, suspended_at: expect.stringMatching(/Z$/) } });
    double.unsuspendInstallation(id);
    expect((await api('GET', `/repos/${REPO}`, `token ${live}`)).status).toBe(200);
    expect((await api('POST', `/app/installations/${id}/access_tokens`, appJwt())).status).toBe(201);
    expect((await api('GET', `/repos/${REPO}/installation`, appJwt())).body).toMatchObject({ suspended_by: null, suspended_at: null });
  });

  it('sends installation.suspend and installation.unsuspend as they stand, from GitHub’s examples', async () => {
    const id = double.installApp(REPO);
    expect(() => double.sendInstallationEvent(id, 'suspend')).toThrow('is not suspended');
    double.suspendInstallation(id, { by: 'octocat' });
    await double.sendInstallationEvent(id, 'suspend');
    expect(received.at(-1)).toMatchObject({
      event: 'installation',
      body: { action: 'suspend', installation: { id, account: { login: 'acme' }, suspended_by: { login: 'octocat' }, suspended_at: expect.stringMatching(/Z$/) }, sender: { login: 'octocat' } },
    });
    double.unsuspendInstallation(id);
    await double.sendInstallationEvent(id, 'unsuspend');
    expect(received.at(-1)).toMatchObject({ event: 'installation', body: { action: 'unsuspend', installation: { id, suspended_by: null, suspended_at: null }, sender: { login: 'acme' } } });
  });

  it('names the installation in the deliveries of an installed repository', async () => {
    const id = double.installApp(REPO);
    const pull = await double.openPull(REPO, { branch: 'feature', files: { 'a.tf': '' } });
    await double.sendPullRequestEvent(REPO, pull.number, 'opened');
    expect(received.at(-1)?.body['installation']).toMatchObject({ id });
  });

  it('answered everything within GitHub’s description', () => {
    expect(double.violations).toEqual([]);
    expect(double.unimplemented).toEqual([]);
  });
});
