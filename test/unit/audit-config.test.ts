import { generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { formatProblems, readCliEnv, readEnv } from '../../config/read-env.js';
import type { ConfigProblem, ReadEnvResult, Settings } from '../../config/settings.js';
import { canonicalJson } from '../../server/audit/canonical-json.js';
import { configDigest, redactedSettings } from '../../server/audit/config-digest.js';

const BASE = { TIDELINE_WEBHOOK_SECRET: 'webhook-secret-1', TIDELINE_GITHUB_TOKEN: 'ghp_token123456', TIDELINE_REPO_ALLOWLIST: 'acme/*' } as const;
const ED25519 = generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
const RSA = generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
const APP_PEM = generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey.export({ type: 'pkcs1', format: 'pem' }).toString();
const OTHER_APP_PEM = generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey.export({ type: 'pkcs1', format: 'pem' }).toString();
const FILES: Record<string, string> = {
  '/srv/tideline/audit.pem': ED25519,
  '/srv/tideline/rsa.pem': RSA,
  '/srv/tideline/notes.txt': 'not a key',
  '/srv/tideline/app.pem': APP_PEM,
  '/etc/tideline/config.yaml': 'data_dir: state\naudit_signing_key_file: ../../srv/tideline/audit.pem\naudit_retention_days: 90\n',
};

function readFile(file: string): string {
  const text = FILES[file];
  if (text === undefined) throw Object.assign(new Error(`ENOENT: ${file}`), { code: 'ENOENT' });
  return text;
}

function read(env: Record<string, string>): ReadEnvResult {
  return readEnv(env, { cwd: '/srv/tideline', readFile, checkDataDir: () => null });
}

function settingsOf(result: ReadEnvResult): Settings {
  if (!result.ok) throw new Error(`expected settings, got problems:\n${formatProblems(result.problems)}`);
  return result.settings;
}

function problemsOf(result: { ok: true } | { ok: false; problems: ConfigProblem[] }): ConfigProblem[] {
  if (result.ok) throw new Error('expected problems, got settings');
  return result.problems;
}

describe('audit settings', () => {
  it('default to no signing key, no webhook and no retention', () => {
    expect(settingsOf(read({ ...BASE })).audit).toEqual({ signingKeyFile: null, signingKeyPem: null, webhook: null, retentionDays: null });
  });

  it('read an Ed25519 signing key and register it as a secret', () => {
    const settings = settingsOf(read({ ...BASE, TIDELINE_AUDIT_SIGNING_KEY_FILE: 'audit.pem' }));
    expect(settings.audit.signingKeyFile).toBe('/srv/tideline/audit.pem');
    expect(settings.audit.signingKeyPem).toBe(ED25519);
    expect(settings.secrets).toContain(ED25519);
  });

  it.each([
    ['a missing file', 'missing.pem', /^names \/srv\/tideline\/missing\.pem, which cannot be read \(ENOENT\): point it at the Ed25519/],
    ['a file without a PEM key', 'notes.txt', /holds no unencrypted PEM private key: generate one with `openssl genpkey -algorithm ed25519/],
    ['an RSA key', 'rsa.pem', /holds a key of type rsa, not Ed25519: generate one/],
  ])('refuse a signing key file that is %s', (_name, file, message) => {
    expect(problemsOf(read({ ...BASE, TIDELINE_AUDIT_SIGNING_KEY_FILE: file }))).toEqual([{ variable: 'TIDELINE_AUDIT_SIGNING_KEY_FILE', message: expect.stringMatching(message) }]);
  });

  it('take the audit webhook URL and secret together; the secret is masked', () => {
    const settings = settingsOf(read({ ...BASE, TIDELINE_AUDIT_WEBHOOK_URL: 'https://siem.example.com/in/', TIDELINE_AUDIT_WEBHOOK_SECRET: 'siem-secret-1' }));
    expect(settings.audit.webhook).toEqual({ url: 'https://siem.example.com/in', secret: 'siem-secret-1' });
    expect(settings.secrets).toEqual(['webhook-secret-1', 'ghp_token123456', 'siem-secret-1']);
  });

  it.each([
    [{ TIDELINE_AUDIT_WEBHOOK_URL: 'https://siem.example.com' }, 'TIDELINE_AUDIT_WEBHOOK_SECRET', /^is required with TIDELINE_AUDIT_WEBHOOK_URL: /],
    [{ TIDELINE_AUDIT_WEBHOOK_SECRET: 'siem-secret-1' }, 'TIDELINE_AUDIT_WEBHOOK_URL', /^is required with TIDELINE_AUDIT_WEBHOOK_SECRET: /],
    [{ TIDELINE_AUDIT_WEBHOOK_URL: 'ftp://x', TIDELINE_AUDIT_WEBHOOK_SECRET: 's-1234' }, 'TIDELINE_AUDIT_WEBHOOK_URL', /^must be an http:\/\/ or https:\/\/ URL/],
    [{ TIDELINE_AUDIT_RETENTION_DAYS: '0' }, 'TIDELINE_AUDIT_RETENTION_DAYS', /^must be a whole number from 1 to 36500, got "0"/],
    [{ TIDELINE_AUDIT_RETENTION_DAYS: '-3' }, 'TIDELINE_AUDIT_RETENTION_DAYS', /^must be a whole number/],
    [{ TIDELINE_AUDIT_RETENTION_DAYS: '1.5' }, 'TIDELINE_AUDIT_RETENTION_DAYS', /^must be a whole number/],
    [{ TIDELINE_AUDIT_RETENTION_DAYS: 'a year' }, 'TIDELINE_AUDIT_RETENTION_DAYS', /^must be a whole number/],
  ])('report %j as a problem with %s', (extra, variable, message) => {
    expect(problemsOf(read({ ...BASE, ...extra }))).toEqual([{ variable, message: expect.stringMatching(message) }]);
  });

  it('read the retention in days', () => {
    expect(settingsOf(read({ ...BASE, TIDELINE_AUDIT_RETENTION_DAYS: ' 365 ' })).audit.retentionDays).toBe(365);
  });

  it('read the same settings from the YAML file, paths relative to it', () => {
    const settings = settingsOf(read({ ...BASE, TIDELINE_CONFIG: '/etc/tideline/config.yaml' }));
    expect(settings.audit).toMatchObject({ signingKeyFile: '/srv/tideline/audit.pem', retentionDays: 90 });
  });
});

describe('readCliEnv', () => {
  it('needs none of the server settings: the data dir defaults to ./data', () => {
    expect(readCliEnv({}, { cwd: '/srv/tideline', readFile })).toEqual({
      ok: true,
      settings: { dataDir: '/srv/tideline/data', configFile: null, audit: { signingKeyFile: null, signingKeyPem: null } },
    });
  });

  it('reads TIDELINE_DATA_DIR and the signing key', () => {
    const read = readCliEnv({ TIDELINE_DATA_DIR: '/var/lib/tideline', TIDELINE_AUDIT_SIGNING_KEY_FILE: 'audit.pem' }, { cwd: '/srv/tideline', readFile });
    expect(read).toMatchObject({ ok: true, settings: { dataDir: '/var/lib/tideline', audit: { signingKeyFile: '/srv/tideline/audit.pem', signingKeyPem: ED25519 } } });
  });

  it('reads data_dir from the TIDELINE_CONFIG file', () => {
    const read = readCliEnv({ TIDELINE_CONFIG: '/etc/tideline/config.yaml' }, { cwd: '/', readFile });
    expect(read).toMatchObject({ ok: true, settings: { dataDir: '/etc/tideline/state', configFile: '/etc/tideline/config.yaml' } });
  });

  it('reports a signing key that is not Ed25519', () => {
    const problems = problemsOf(readCliEnv({ TIDELINE_AUDIT_SIGNING_KEY_FILE: 'rsa.pem' }, { cwd: '/srv/tideline', readFile }));
    expect(problems.map((p) => p.variable)).toEqual(['TIDELINE_AUDIT_SIGNING_KEY_FILE']);
  });
});

describe('configDigest', () => {
  const full = {
    ...BASE,
    TIDELINE_API_SECRET: 'api-secret-1',
    TIDELINE_WEB_USERNAME: 'admin',
    TIDELINE_WEB_PASSWORD: 'web-password-1',
    TIDELINE_AUDIT_WEBHOOK_URL: 'https://siem.example.com/in',
    TIDELINE_AUDIT_WEBHOOK_SECRET: 'siem-secret-1',
    TIDELINE_AUDIT_SIGNING_KEY_FILE: 'audit.pem',
    PATH: '/usr/bin',
    HOME: '/home/secret-home',
  };
  const digest = configDigest(settingsOf(read(full)));

  it('is a sha256 hex digest', () => {
    expect(digest).toMatch(/^[0-9a-f]{64}$/);
  });

  it.each([
    ['TIDELINE_WEBHOOK_SECRET', 'webhook-secret-2'],
    ['TIDELINE_GITHUB_TOKEN', 'ghp_other9876543'],
    ['TIDELINE_API_SECRET', 'api-secret-2'],
    ['TIDELINE_WEB_PASSWORD', 'web-password-2'],
    ['TIDELINE_AUDIT_WEBHOOK_SECRET', 'siem-secret-2'],
    ['HOME', '/home/elsewhere'],
  ])('does not change when only %s changes', (variable, value) => {
    expect(configDigest(settingsOf(read({ ...full, [variable]: value })))).toBe(digest);
  });

  it('does not change when only the App private key changes', () => {
    const app = { ...full, TIDELINE_GITHUB_TOKEN: '', TIDELINE_GITHUB_APP_ID: '42', TIDELINE_GITHUB_APP_PRIVATE_KEY_FILE: 'app.pem' };
    const before = configDigest(settingsOf(read(app)));
    FILES['/srv/tideline/app.pem'] = OTHER_APP_PEM;
    try {
      expect(configDigest(settingsOf(read(app)))).toBe(before);
    } finally {
      FILES['/srv/tideline/app.pem'] = APP_PEM;
    }
  });

  it.each([
    ['TIDELINE_PORT', '8080'],
    ['TIDELINE_REPO_ALLOWLIST', 'acme/infra'],
    ['TIDELINE_AUDIT_RETENTION_DAYS', '30'],
    ['TIDELINE_AUDIT_WEBHOOK_URL', 'https://other.example.com'],
    ['TIDELINE_COMMAND_PREFIX', 'atlantis'],
  ])('changes when %s changes', (variable, value) => {
    expect(configDigest(settingsOf(read({ ...full, [variable]: value })))).not.toBe(digest);
  });

  it('never hashes a secret, wherever it appears', () => {
    const settings = settingsOf(read({ ...full, TIDELINE_DRIFT_WEBHOOK_URL: 'https://alerts.example.com/hook?token=api-secret-1', TIDELINE_DRIFT_WEBHOOK_SECRET: 'dws-secret-9' }));
    const text = canonicalJson(redactedSettings(settings));
    expect(settings.secrets.length).toBeGreaterThanOrEqual(6);
    for (const secret of [...settings.secrets, 'api-secret-1', 'web-password-1', 'siem-secret-1', 'ghp_token123456', 'webhook-secret-1', '/home/secret-home']) {
      expect(text).not.toContain(secret);
    }
    expect(text).toContain('"retentionDays":null');
    expect(text).toContain('"username":"admin"');
  });
});
