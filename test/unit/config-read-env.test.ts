import { generateKeyPairSync } from 'node:crypto';
import { availableParallelism } from 'node:os';
import { describe, expect, it } from 'vitest';
import { formatProblems, readEnv } from '../../config/read-env.js';
import type { ConfigProblem, ReadEnvResult, Settings } from '../../config/settings.js';

// GitHub hands out PKCS#1 RSA keys (`BEGIN RSA PRIVATE KEY`).
const PEM = generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey.export({ type: 'pkcs1', format: 'pem' }).toString();
/** The header of a key with a body cut short, as a bad copy-paste leaves it. */
const MANGLED_PEM = `${PEM.slice(0, 120)}\n-----END RSA PRIVATE KEY-----\n`;
const ED25519_PEM = generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();

const BASE = {
  TIDELINE_WEBHOOK_SECRET: 'webhook-secret-1',
  TIDELINE_GITHUB_TOKEN: 'ghp_token123456',
  TIDELINE_REPO_ALLOWLIST: 'acme/*',
} as const;

/** A readFile over an in-memory map that fails like fs does for a missing file. */
function files(map: Record<string, string>): (path: string) => string {
  return (path: string): string => {
    const text = map[path];
    if (text === undefined) {
      throw Object.assign(new Error(`ENOENT: no such file or directory, open '${path}'`), { code: 'ENOENT' });
    }
    return text;
  };
}

function read(env: Record<string, string>, map: Record<string, string> = {}): ReadEnvResult {
  return readEnv(env, { cwd: '/srv/tideline', readFile: files(map), checkDataDir: () => null, checkCommand: () => null });
}

function settingsOf(result: ReadEnvResult): Settings {
  if (!result.ok) {
    throw new Error(`expected settings, got problems:\n${formatProblems(result.problems)}`);
  }
  return result.settings;
}

function problemsOf(result: ReadEnvResult): ConfigProblem[] {
  if (result.ok) {
    throw new Error('expected problems, got settings');
  }
  return result.problems;
}

describe('readEnv', () => {
  it('reports every missing required variable at once, one problem per variable', () => {
    const problems = problemsOf(read({}));
    expect(problems.map((problem) => problem.variable).sort()).toEqual([
      'TIDELINE_GITHUB_TOKEN',
      'TIDELINE_REPO_ALLOWLIST',
      'TIDELINE_WEBHOOK_SECRET',
    ]);
    for (const problem of problems) {
      expect(problem.message).toMatch(/^(or .* )?is required: set /);
    }
  });

  it.each(['TIDELINE_WEBHOOK_SECRET', 'TIDELINE_REPO_ALLOWLIST', 'TIDELINE_GITHUB_TOKEN'] as const)(
    'reports only %s when it alone is missing',
    (missing) => {
      const env: Record<string, string> = { ...BASE };
      delete env[missing];
      expect(problemsOf(read(env)).map((problem) => problem.variable)).toEqual([missing]);
    },
  );

  it('applies the documented defaults', () => {
    const settings = settingsOf(read({ ...BASE }));
    expect(settings).toEqual({
      port: 4141,
      publicUrl: null,
      dataDir: '/srv/tideline/data',
      webhookSecret: 'webhook-secret-1',
      github: { apiUrl: 'https://api.github.com', auth: { kind: 'token', token: 'ghp_token123456' } },
      repoAllowlist: ['acme/*'],
      allowForkPulls: false,
      failOnPreWorkflowHookError: false,
      commandPrefix: 'tideline',
      terraformBin: 'terraform',
      kubectlBin: 'kubectl',
      driftSchedule: '0 */6 * * *',
      parallelism: availableParallelism(),
      logLevel: 'info',
      apiSecret: null,
      driftWebhookUrl: null,
      driftWebhookSecret: null,
      web: null,
      webHosts: [],
      shutdownTimeoutSeconds: 120,
      configFile: null,
      childEnv: {},
      audit: { signingKeyFile: null, signingKeyPem: null, webhook: null, retentionDays: null },
      secrets: ['webhook-secret-1', 'ghp_token123456'],
    } satisfies Settings);
  });

  it('reads TIDELINE_ALLOW_FORK_PRS as true or false, off when unset, and refuses anything else', () => {
    expect(settingsOf(read(BASE)).allowForkPulls).toBe(false);
    expect(settingsOf(read({ ...BASE, TIDELINE_ALLOW_FORK_PRS: 'true' })).allowForkPulls).toBe(true);
    expect(settingsOf(read({ ...BASE, TIDELINE_ALLOW_FORK_PRS: 'FALSE' })).allowForkPulls).toBe(false);
    const [problem, ...more] = problemsOf(read({ ...BASE, TIDELINE_ALLOW_FORK_PRS: 'yes' }));
    expect(more).toEqual([]);
    expect(problem?.variable).toBe('TIDELINE_ALLOW_FORK_PRS');
    expect(problem?.message).toMatch(/must be true or false, got "yes": set it to true to plan and apply pull requests from forks/);
  });

  it('reads TIDELINE_FAIL_ON_PRE_WORKFLOW_HOOK_ERROR as true or false, off when unset, and refuses anything else', () => {
    expect(settingsOf(read(BASE)).failOnPreWorkflowHookError).toBe(false);
    expect(settingsOf(read({ ...BASE, TIDELINE_FAIL_ON_PRE_WORKFLOW_HOOK_ERROR: 'true' })).failOnPreWorkflowHookError).toBe(true);
    expect(settingsOf(read({ ...BASE, TIDELINE_FAIL_ON_PRE_WORKFLOW_HOOK_ERROR: 'FALSE' })).failOnPreWorkflowHookError).toBe(false);
    const [problem, ...more] = problemsOf(read({ ...BASE, TIDELINE_FAIL_ON_PRE_WORKFLOW_HOOK_ERROR: '1' }));
    expect(more).toEqual([]);
    expect(problem?.variable).toBe('TIDELINE_FAIL_ON_PRE_WORKFLOW_HOOK_ERROR');
    expect(problem?.message).toMatch(/must be true or false, got "1": set it to true to stop a command when one of its pre workflow hooks fails/);
  });

  it('reads TIDELINE_URL without its trailing slash, and refuses one that is not http(s)', () => {
    expect(settingsOf(read({ ...BASE, TIDELINE_URL: 'https://tideline.example.com/' })).publicUrl).toBe('https://tideline.example.com');
    expect(settingsOf(read({ ...BASE, TIDELINE_URL: 'http://10.0.0.5:4141/tideline' })).publicUrl).toBe('http://10.0.0.5:4141/tideline');
    const [problem, ...more] = problemsOf(read({ ...BASE, TIDELINE_URL: 'tideline.example.com' }));
    expect(more).toEqual([]);
    expect(problem?.variable).toBe('TIDELINE_URL');
    expect(problem?.message).toMatch(/must be an http:\/\/ or https:\/\/ URL, got "tideline.example.com": set it to the URL people reach Tideline at/);
  });

  it.each([
    ['https://tideline.example.com/?a=b', /has a query \(\?a=b\)/],
    ['https://tideline.example.com/?', /has a query \(\?\)/],
    ['https://tideline.example.com/#f', /has a fragment \(#f\)/],
    ['https://u:p@tideline.example.com/', /holds credentials/],
    ['https://u@tideline.example.com/', /holds credentials/],
  ])('refuses TIDELINE_URL=%j, which would break or leak into the links it builds', (value, message) => {
    const [problem, ...more] = problemsOf(read({ ...BASE, TIDELINE_URL: value }));
    expect(more).toEqual([]);
    expect(problem?.variable).toBe('TIDELINE_URL');
    expect(problem?.message).toMatch(message);
    expect(problem?.message).toMatch(/: remove (it|them); set it to the URL people reach Tideline at, e.g. https:\/\/tideline.example.com/);
    // The password never reaches the start-up line.
    expect(problem?.message).not.toContain('u:p');
  });

  it('leaves credentials and queries to the webhook URLs, whose receivers may need them', () => {
    expect(settingsOf(read({ ...BASE, TIDELINE_DRIFT_WEBHOOK_URL: 'https://u:p@hooks.example.com/x?token=1', TIDELINE_DRIFT_WEBHOOK_SECRET: 's' })).driftWebhookUrl).toBe('https://u:p@hooks.example.com/x?token=1');
  });

  it('treats blank values as unset', () => {
    const settings = settingsOf(read({ ...BASE, TIDELINE_PORT: '', TIDELINE_LOG_LEVEL: '   ' }));
    expect([settings.port, settings.logLevel]).toEqual([4141, 'info']);
    expect(problemsOf(read({ ...BASE, TIDELINE_WEBHOOK_SECRET: '  ' })).map((problem) => problem.variable)).toEqual([
      'TIDELINE_WEBHOOK_SECRET',
    ]);
  });

  it.each([
    ['TIDELINE_PORT', '8080', (s: Settings) => s.port, 8080],
    ['TIDELINE_PORT', ' 8080 ', (s: Settings) => s.port, 8080],
    ['TIDELINE_DATA_DIR', '/var/lib/tideline', (s: Settings) => s.dataDir, '/var/lib/tideline'],
    ['TIDELINE_DATA_DIR', '../state', (s: Settings) => s.dataDir, '/srv/state'],
    ['TIDELINE_GITHUB_API_URL', 'https://ghe.example.com/api/v3/', (s: Settings) => s.github.apiUrl, 'https://ghe.example.com/api/v3'],
    ['TIDELINE_GITHUB_API_URL', 'http://127.0.0.1:3000', (s: Settings) => s.github.apiUrl, 'http://127.0.0.1:3000'],
    ['TIDELINE_REPO_ALLOWLIST', ' acme/* , */infra,acme/infra-*, ', (s: Settings) => s.repoAllowlist, ['acme/*', '*/infra', 'acme/infra-*']],
    ['TIDELINE_COMMAND_PREFIX', 'atlantis', (s: Settings) => s.commandPrefix, 'atlantis'],
    ['TIDELINE_COMMAND_PREFIX', 'tide-line2', (s: Settings) => s.commandPrefix, 'tide-line2'],
    ['TIDELINE_TERRAFORM_BIN', '/opt/terraform/1.9/terraform', (s: Settings) => s.terraformBin, '/opt/terraform/1.9/terraform'],
    ['TIDELINE_TERRAFORM_BIN', './bin/terraform', (s: Settings) => s.terraformBin, '/srv/tideline/bin/terraform'],
    ['TIDELINE_KUBECTL_BIN', 'kubectl-1.32', (s: Settings) => s.kubectlBin, 'kubectl-1.32'],
    ['TIDELINE_DRIFT_SCHEDULE', 'off', (s: Settings) => s.driftSchedule, 'off'],
    ['TIDELINE_DRIFT_SCHEDULE', 'OFF', (s: Settings) => s.driftSchedule, 'off'],
    ['TIDELINE_DRIFT_SCHEDULE', '30  2 * * mon-fri', (s: Settings) => s.driftSchedule, '30 2 * * mon-fri'],
    ['TIDELINE_DRIFT_SCHEDULE', '0 0 */6 * * *', (s: Settings) => s.driftSchedule, '0 0 */6 * * *'],
    ['TIDELINE_PARALLELISM', '3', (s: Settings) => s.parallelism, 3],
    ['TIDELINE_LOG_LEVEL', 'DEBUG', (s: Settings) => s.logLevel, 'debug'],
    ['TIDELINE_LOG_LEVEL', 'silent', (s: Settings) => s.logLevel, 'silent'],
    ['TIDELINE_API_SECRET', 'api-secret-9', (s: Settings) => s.apiSecret, 'api-secret-9'],
    ['TIDELINE_SHUTDOWN_TIMEOUT', '0', (s: Settings) => s.shutdownTimeoutSeconds, 0],
    ['TIDELINE_SHUTDOWN_TIMEOUT', '600', (s: Settings) => s.shutdownTimeoutSeconds, 600],
    ['TIDELINE_SHUTDOWN_TIMEOUT', '2147483', (s: Settings) => s.shutdownTimeoutSeconds, 2147483],
  ] as const)('reads %s=%j', (variable, value, pick, expected) => {
    expect(pick(settingsOf(read({ ...BASE, [variable]: value })))).toEqual(expected);
  });

  it.each([
    ['TIDELINE_PORT', 'http', /must be a whole number from 1 to 65535, got "http": set it to/],
    ['TIDELINE_PORT', '0', /from 1 to 65535, got "0"/],
    ['TIDELINE_PORT', '65536', /from 1 to 65535, got "65536"/],
    ['TIDELINE_PORT', '80.5', /got "80.5"/],
    ['TIDELINE_PORT', '-1', /got "-1"/],
    ['TIDELINE_PORT', '0x10', /got "0x10"/],
    ['TIDELINE_REPO_ALLOWLIST', 'acme', /entry `acme`, which is not an owner\/repo glob: write it like `acme\/\*`/],
    ['TIDELINE_REPO_ALLOWLIST', 'acme/infra/x', /entry `acme\/infra\/x`, which is not an owner\/repo glob/],
    ['TIDELINE_REPO_ALLOWLIST', 'acme/in fra', /entry `acme\/in fra`, which is not/],
    ['TIDELINE_REPO_ALLOWLIST', 'acme/[abc]', /entry `acme\/\[abc\]`, which is not/],
    ['TIDELINE_REPO_ALLOWLIST', 'github.com/acme/infra', /entry `github.com\/acme\/infra`, which names a host: drop it and write `acme\/infra`/],
    ['TIDELINE_REPO_ALLOWLIST', '*', /entry `\*`, which is not owner\/repo: write `\*\/\*`/],
    ['TIDELINE_REPO_ALLOWLIST', ',', /lists no repositories: give at least one/],
    ['TIDELINE_COMMAND_PREFIX', 'Tideline', /must be one lowercase word of a-z, 0-9 and -, got "Tideline": e.g. tideline/],
    ['TIDELINE_COMMAND_PREFIX', 'tide line', /got "tide line"/],
    ['TIDELINE_COMMAND_PREFIX', '@tideline', /got "@tideline"/],
    ['TIDELINE_COMMAND_PREFIX', '-tideline', /got "-tideline"/],
    ['TIDELINE_COMMAND_PREFIX', 'tide_line', /got "tide_line"/],
    ['TIDELINE_DRIFT_SCHEDULE', 'hourly', /not a valid cron expression \("hourly": 1 field where cron has 5, or 6 with seconds first\): write 5 fields/],
    ['TIDELINE_DRIFT_SCHEDULE', '0 25 * * *', /hour field: `25` is out of range 0-23/],
    ['TIDELINE_DRIFT_SCHEDULE', '0 * * * * * *', /7 fields/],
    ['TIDELINE_DRIFT_SCHEDULE', '*/0 * * * *', /minute field: `\*\/0` has step `0`/],
    ['TIDELINE_PARALLELISM', '0', /must be a whole number of at least 1, got "0"/],
    ['TIDELINE_PARALLELISM', 'many', /got "many"/],
    ['TIDELINE_LOG_LEVEL', 'verbose', /must be one of fatal, error, warn, info, debug, trace, silent, got "verbose": e.g. info/],
    ['TIDELINE_GITHUB_API_URL', 'api.github.com', /must be an http:\/\/ or https:\/\/ URL, got "api.github.com": set it to the REST API base/],
    ['TIDELINE_GITHUB_API_URL', 'ftp://api.github.com', /got "ftp:\/\/api.github.com"/],
    ['TIDELINE_SHUTDOWN_TIMEOUT', '-5', /must be a whole number from 0 to 2147483, got "-5"/],
    ['TIDELINE_SHUTDOWN_TIMEOUT', '2m', /got "2m"/],
    // One second more than a timer can wait: Node would fire it at once and stop running applies.
    ['TIDELINE_SHUTDOWN_TIMEOUT', '2147484', /must be a whole number from 0 to 2147483, got "2147484"/],
  ] as const)('refuses %s=%j, naming the variable and the fix', (variable, value, message) => {
    const problems = problemsOf(read({ ...BASE, [variable]: value }));
    expect(problems).toHaveLength(1);
    expect(problems[0]?.variable).toBe(variable);
    expect(problems[0]?.message).toMatch(message);
  });

  it('reads the drift webhook as a URL and secret pair, the secret registered for masking', () => {
    const settings = settingsOf(read({ ...BASE, TIDELINE_DRIFT_WEBHOOK_URL: 'https://alerts.example.com/hook', TIDELINE_DRIFT_WEBHOOK_SECRET: 'dws-secret-1' }));
    expect(settings.driftWebhookUrl).toBe('https://alerts.example.com/hook');
    expect(settings.driftWebhookSecret).toBe('dws-secret-1');
    expect(settings.secrets).toContain('dws-secret-1');
  });

  it.each([
    [{ TIDELINE_DRIFT_WEBHOOK_URL: 'https://alerts.example.com/hook' }, 'TIDELINE_DRIFT_WEBHOOK_SECRET', /is required with TIDELINE_DRIFT_WEBHOOK_URL/],
    [{ TIDELINE_DRIFT_WEBHOOK_SECRET: 'dws-secret-1' }, 'TIDELINE_DRIFT_WEBHOOK_URL', /is required with TIDELINE_DRIFT_WEBHOOK_SECRET: set it to the URL drift alerts/],
    [{ TIDELINE_DRIFT_WEBHOOK_URL: 'file:///tmp/x', TIDELINE_DRIFT_WEBHOOK_SECRET: 'dws-secret-1' }, 'TIDELINE_DRIFT_WEBHOOK_URL', /must be an http:\/\/ or https:\/\/ URL, got "file:\/\/\/tmp\/x": set it to the URL drift alerts/],
  ] as const)('refuses the drift webhook %j, naming %s', (vars, variable, message) => {
    const problems = problemsOf(read({ ...BASE, ...vars }));
    expect(problems).toHaveLength(1);
    expect(problems[0]?.variable).toBe(variable);
    expect(problems[0]?.message).toMatch(message);
  });

  it('reports each bad allowlist entry and every other bad variable together', () => {
    const problems = problemsOf(read({ ...BASE, TIDELINE_REPO_ALLOWLIST: 'acme/*,bad,also/bad/x', TIDELINE_PORT: 'x', TIDELINE_LOG_LEVEL: 'x' }));
    expect(problems.map((problem) => problem.variable).sort()).toEqual([
      'TIDELINE_LOG_LEVEL',
      'TIDELINE_PORT',
      'TIDELINE_REPO_ALLOWLIST',
      'TIDELINE_REPO_ALLOWLIST',
    ]);
  });

  it('never echoes a secret in a problem', () => {
    const problems = problemsOf(read({ TIDELINE_GITHUB_TOKEN: 'ghp_secret-value', TIDELINE_GITHUB_APP_ID: '12', TIDELINE_WEB_PASSWORD: 'pw-secret-value' }));
    expect(formatProblems(problems)).not.toMatch(/secret-value/);
  });
});

describe('readEnv: GitHub auth', () => {
  const app = { TIDELINE_WEBHOOK_SECRET: 'whs', TIDELINE_REPO_ALLOWLIST: 'acme/*' };

  it('reads App auth with the private key from the file, relative to cwd', () => {
    const settings = settingsOf(
      read({ ...app, TIDELINE_GITHUB_APP_ID: '123456', TIDELINE_GITHUB_APP_PRIVATE_KEY_FILE: 'keys/app.pem' }, { '/srv/tideline/keys/app.pem': PEM }),
    );
    expect(settings.github.auth).toEqual({ kind: 'app', appId: '123456', privateKeyFile: '/srv/tideline/keys/app.pem', privateKey: PEM });
    expect(settings.secrets).toContain(PEM);
  });

  it.each([
    [
      'both auth forms',
      { TIDELINE_GITHUB_TOKEN: 'ghp_x', TIDELINE_GITHUB_APP_ID: '1', TIDELINE_GITHUB_APP_PRIVATE_KEY_FILE: '/k.pem' },
      'TIDELINE_GITHUB_TOKEN',
      /and TIDELINE_GITHUB_APP_ID are both set: choose one way to authenticate/,
    ],
    ['an App ID without a key file', { TIDELINE_GITHUB_APP_ID: '1' }, 'TIDELINE_GITHUB_APP_PRIVATE_KEY_FILE', /is required with TIDELINE_GITHUB_APP_ID: set it to the path/],
    ['a key file without an App ID', { TIDELINE_GITHUB_APP_PRIVATE_KEY_FILE: '/app.pem' }, 'TIDELINE_GITHUB_APP_ID', /is required with TIDELINE_GITHUB_APP_PRIVATE_KEY_FILE: set it to the App ID/],
    [
      'an unreadable key file',
      { TIDELINE_GITHUB_APP_ID: '1', TIDELINE_GITHUB_APP_PRIVATE_KEY_FILE: '/missing.pem' },
      'TIDELINE_GITHUB_APP_PRIVATE_KEY_FILE',
      /names \/missing.pem, which cannot be read \(ENOENT\): point it at the App's private key file/,
    ],
    [
      'a key file that holds no PEM key',
      { TIDELINE_GITHUB_APP_ID: '1', TIDELINE_GITHUB_APP_PRIVATE_KEY_FILE: '/k.pem' },
      'TIDELINE_GITHUB_APP_PRIVATE_KEY_FILE',
      /names \/k.pem, which holds no PEM private key: generate a private key/,
    ],
    [
      'a key file whose PEM body is cut short',
      { TIDELINE_GITHUB_APP_ID: '1', TIDELINE_GITHUB_APP_PRIVATE_KEY_FILE: '/mangled.pem' },
      'TIDELINE_GITHUB_APP_PRIVATE_KEY_FILE',
      /names \/mangled.pem, which holds no PEM private key: generate a private key/,
    ],
    [
      'a key file that holds a key of another type',
      { TIDELINE_GITHUB_APP_ID: '1', TIDELINE_GITHUB_APP_PRIVATE_KEY_FILE: '/ed25519.pem' },
      'TIDELINE_GITHUB_APP_PRIVATE_KEY_FILE',
      /names \/ed25519.pem, which holds a key of type ed25519, not the RSA key GitHub issues: generate a private key/,
    ],
    ['a non-numeric App ID', { TIDELINE_GITHUB_APP_ID: 'my-app', TIDELINE_GITHUB_APP_PRIVATE_KEY_FILE: '/app.pem' }, 'TIDELINE_GITHUB_APP_ID', /must be the App's numeric ID, got "my-app"/],
  ])('refuses %s', (_case, auth, variable, message) => {
    const problems = problemsOf(read({ ...app, ...auth }, { '/k.pem': 'not a key', '/app.pem': PEM, '/mangled.pem': MANGLED_PEM, '/ed25519.pem': ED25519_PEM }));
    expect(problems).toEqual([{ variable, message: expect.stringMatching(message) }]);
  });
});

describe('readEnv: web login', () => {
  it('reads both and registers the password as a secret', () => {
    const settings = settingsOf(read({ ...BASE, TIDELINE_WEB_USERNAME: 'admin', TIDELINE_WEB_PASSWORD: 'pw-1234' }));
    expect(settings.web).toEqual({ username: 'admin', password: 'pw-1234' });
    expect(settings.secrets).toContain('pw-1234');
  });

  it.each([
    ['TIDELINE_WEB_USERNAME', 'TIDELINE_WEB_PASSWORD'],
    ['TIDELINE_WEB_PASSWORD', 'TIDELINE_WEB_USERNAME'],
  ])('refuses %s without %s', (given, missing) => {
    expect(problemsOf(read({ ...BASE, [given]: 'x1234' }))).toEqual([
      { variable: missing, message: `is required with ${given}: set both to protect the web UI with basic auth, or unset both` },
    ]);
  });
});

describe('readEnv: web login names', () => {
  // Basic auth sends `user:password` and splits at the first colon (RFC 7617): a name with a
  // colon in it would be cut there, and nobody could ever sign in.
  it('refuses a TIDELINE_WEB_USERNAME with a colon, which basic auth cannot carry', () => {
    expect(problemsOf(read({ ...BASE, TIDELINE_WEB_USERNAME: 'ops:team', TIDELINE_WEB_PASSWORD: 'pw-1234' }))).toEqual([
      { variable: 'TIDELINE_WEB_USERNAME', message: 'contains a colon, which basic auth cannot carry in a user name (RFC 7617): choose a name without `:`' },
    ]);
  });

  it('takes a colon in TIDELINE_WEB_PASSWORD', () => {
    expect(settingsOf(read({ ...BASE, TIDELINE_WEB_USERNAME: 'ops', TIDELINE_WEB_PASSWORD: 'pw:1234' })).web).toEqual({ username: 'ops', password: 'pw:1234' });
  });
});

describe('readEnv: child environment and secrets', () => {
  const env = {
    ...BASE,
    TIDELINE_API_SECRET: 'api-secret-1',
    PATH: '/usr/local/bin:/usr/bin',
    HOME: '/home/tideline',
    https_proxy: 'http://proxy:3128',
    NO_PROXY: 'localhost',
    KUBECONFIG: '/etc/kube/config',
    TF_PLUGIN_CACHE_DIR: '/var/cache/tf',
    AWS_SECRET_ACCESS_KEY: 'aws-secret',
    GITHUB_TOKEN: 'other-token',
    NODE_OPTIONS: '--inspect',
  };

  it('passes the allow-listed variables that are present', () => {
    expect(settingsOf(read(env)).childEnv).toEqual({
      PATH: '/usr/local/bin:/usr/bin',
      HOME: '/home/tideline',
      https_proxy: 'http://proxy:3128',
      NO_PROXY: 'localhost',
      KUBECONFIG: '/etc/kube/config',
      TF_PLUGIN_CACHE_DIR: '/var/cache/tf',
    });
  });

  it.each(['TIDELINE_GITHUB_TOKEN', 'TIDELINE_WEBHOOK_SECRET', 'TIDELINE_API_SECRET', 'AWS_SECRET_ACCESS_KEY', 'GITHUB_TOKEN', 'NODE_OPTIONS'])(
    'keeps %s out of the child environment',
    (name) => {
      const { childEnv } = settingsOf(read(env));
      expect(childEnv).not.toHaveProperty(name);
      expect(Object.values(childEnv)).not.toContain(env[name as keyof typeof env]);
    },
  );

  it('lists every secret once for the masker', () => {
    const settings = settingsOf(read({ ...env, TIDELINE_WEB_USERNAME: 'admin', TIDELINE_WEB_PASSWORD: 'api-secret-1' }));
    expect(settings.secrets).toEqual(['webhook-secret-1', 'ghp_token123456', 'api-secret-1']);
  });
});

describe('formatProblems', () => {
  it('writes one line per problem, the variable first', () => {
    const problems = problemsOf(read({ TIDELINE_GITHUB_TOKEN: 'x', TIDELINE_REPO_ALLOWLIST: 'acme/*', TIDELINE_PORT: 'x' }));
    const lines = formatProblems(problems).split('\n');
    expect(lines).toHaveLength(2);
    expect(lines).toContain('TIDELINE_WEBHOOK_SECRET is required: set it to the webhook secret configured on the GitHub App or repository webhook');
    expect(lines).toContain('TIDELINE_PORT must be a whole number from 1 to 65535, got "x": set it to the TCP port to listen on, e.g. 4141');
  });

  it('gives an empty string for no problems', () => {
    expect(formatProblems([])).toBe('');
  });
});
