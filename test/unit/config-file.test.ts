import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { loadServerFileConfig, serverFileConfigProblems } from '../../server/file-config.js';
import { describe, expect, it } from 'vitest';
import { readEnv } from '../../config/read-env.js';
import type { ConfigProblem, ReadEnvResult, Settings } from '../../config/settings.js';
import { SETTING_VARIABLES } from '../../config/variables.js';

const FILE = '/etc/tideline/config.yaml';
const REQUIRED_ENV = { TIDELINE_CONFIG: FILE, TIDELINE_WEBHOOK_SECRET: 'whs-1', TIDELINE_GITHUB_TOKEN: 'ghp_1234' };

function readWith(yaml: string, env: Record<string, string> = {}, extraFiles: Record<string, string> = {}): ReadEnvResult {
  const map: Record<string, string> = { [FILE]: yaml, ...extraFiles };
  return readEnv(
    { ...REQUIRED_ENV, ...env },
    {
      cwd: '/srv',
      readFile: (path) => {
        const text = map[path];
        if (text === undefined) {
          throw Object.assign(new Error('ENOENT'), { code: 'ENOENT' });
        }
        return text;
      },
      checkDataDir: () => null,
      checkCommand: () => null,
    },
  );
}

function settingsOf(result: ReadEnvResult): Settings {
  if (!result.ok) {
    throw new Error(`expected settings, got ${JSON.stringify(result.problems)}`);
  }
  return result.settings;
}

function problemsOf(result: ReadEnvResult): ConfigProblem[] {
  if (result.ok) {
    throw new Error('expected problems, got settings');
  }
  return result.problems;
}

const FULL_YAML = `
port: 8080
data_dir: state
github_api_url: http://127.0.0.1:9000
repo_allowlist:
  - acme/*
  - "*/infra"
command_prefix: atlantis
terraform_bin: ./bin/terraform
kubectl_bin: kubectl-1.32
drift_schedule: "*/30 * * * *"
parallelism: 2
log_level: debug
api_secret: api-secret-1
drift_webhook_url: https://alerts.example.com/x
drift_webhook_secret: dws-1
web_username: admin
web_password: pw-1234
shutdown_timeout: 30
fail_on_pre_workflow_hook_error: true
repos:
  - id: /.*/
    apply_requirements: [approved]
kubernetes:
  clusters:
    prod: { kubeconfig: /etc/kube/prod.yaml }
`;

describe('readEnv with a TIDELINE_CONFIG file', () => {
  it('reads every setting from the file; relative paths resolve against the file', () => {
    const settings = settingsOf(readWith(FULL_YAML));
    expect(settings).toMatchObject({
      port: 8080,
      dataDir: '/etc/tideline/state',
      github: { apiUrl: 'http://127.0.0.1:9000', auth: { kind: 'token', token: 'ghp_1234' } },
      repoAllowlist: ['acme/*', '*/infra'],
      commandPrefix: 'atlantis',
      terraformBin: '/etc/tideline/bin/terraform',
      kubectlBin: 'kubectl-1.32',
      driftSchedule: '*/30 * * * *',
      parallelism: 2,
      logLevel: 'debug',
      apiSecret: 'api-secret-1',
      driftWebhookUrl: 'https://alerts.example.com/x',
      driftWebhookSecret: 'dws-1',
      web: { username: 'admin', password: 'pw-1234' },
      shutdownTimeoutSeconds: 30,
      failOnPreWorkflowHookError: true,
      configFile: FILE,
    });
    expect(settings.secrets).toEqual(['whs-1', 'ghp_1234', 'api-secret-1', 'pw-1234', 'dws-1']);
  });

  it.each([
    ['TIDELINE_PORT', '9999', (s: Settings) => s.port, 9999],
    ['TIDELINE_DATA_DIR', 'data', (s: Settings) => s.dataDir, '/srv/data'],
    ['TIDELINE_REPO_ALLOWLIST', 'other/*', (s: Settings) => s.repoAllowlist, ['other/*']],
    ['TIDELINE_COMMAND_PREFIX', 'tideline', (s: Settings) => s.commandPrefix, 'tideline'],
    ['TIDELINE_DRIFT_SCHEDULE', 'off', (s: Settings) => s.driftSchedule, 'off'],
    ['TIDELINE_LOG_LEVEL', 'warn', (s: Settings) => s.logLevel, 'warn'],
    ['TIDELINE_WEB_PASSWORD', 'env-pw', (s: Settings) => s.web?.password, 'env-pw'],
    ['TIDELINE_FAIL_ON_PRE_WORKFLOW_HOOK_ERROR', 'false', (s: Settings) => s.failOnPreWorkflowHookError, false],
  ] as const)('lets %s=%j in the environment win over the file', (variable, value, pick, expected) => {
    expect(pick(settingsOf(readWith(FULL_YAML, { [variable]: value })))).toEqual(expected);
  });

  it('takes repo_allowlist as a comma-separated string too', () => {
    expect(settingsOf(readWith('repo_allowlist: acme/*, other/infra\n')).repoAllowlist).toEqual(['acme/*', 'other/infra']);
  });

  it('takes a required setting from the file when the environment lacks it', () => {
    expect(settingsOf(readWith('repo_allowlist: [acme/*]\nwebhook_secret: from-file\n', { TIDELINE_WEBHOOK_SECRET: '' })).webhookSecret).toBe(
      'from-file',
    );
  });

  it('still reports required settings that neither source sets', () => {
    expect(problemsOf(readWith('port: 8080\n')).map((problem) => problem.variable)).toEqual(['TIDELINE_REPO_ALLOWLIST']);
  });

  it('accepts an empty file', () => {
    expect(settingsOf(readWith('', { TIDELINE_REPO_ALLOWLIST: 'acme/*' })).port).toBe(4141);
  });

  it.each([
    ['an unclosed flow sequence', 'port: 8080\nrepo_allowlist: [acme/*\nlog_level: info\n', 3],
    ['a duplicate key', 'port: 1\nlog_level: info\nport: 2\n', 3],
    ['a compact nested mapping', 'port: 1\nweb_username: a: b\n', 2],
    ['an unquoted cron starting with *', 'repo_allowlist: [acme/*]\n\ndrift_schedule: * * * * *\n', 3],
    ['a tab used for indentation', 'repos:\n  - id: x\n\tapply: y\n', 3],
    ['two documents', 'port: 1\n---\nport: 2\n', 2],
  ])('reports %s with the file and line', (_case, yaml, line) => {
    const problems = problemsOf(readWith(yaml, { TIDELINE_REPO_ALLOWLIST: 'acme/*' }));
    expect(problems).toHaveLength(1);
    expect(problems[0]?.variable).toBe('TIDELINE_CONFIG');
    expect(problems[0]?.message).toMatch(new RegExp(`^file ${FILE} is not valid YAML at line ${line} \\(.+\\): fix the YAML on that line$`));
  });

  it.each([
    ['port: abc\n', 'port in /etc/tideline/config.yaml line 1', /must be a whole number from 1 to 65535, got "abc"/],
    ['repo_allowlist: [acme/*]\n\nlog_level: loud\n', 'log_level in /etc/tideline/config.yaml line 3', /must be one of/],
    ['repo_allowlist: [acme, b/c]\n', 'repo_allowlist in /etc/tideline/config.yaml line 1', /entry `acme`, which is not an owner\/repo glob/],
    ['repo_allowlist: [[a/b]]\n', 'repo_allowlist in /etc/tideline/config.yaml line 1', /must be a list of owner\/repo globs/],
    ['port:\n  value: 1\n', 'port in /etc/tideline/config.yaml line 1', /must be a single value, not a mapping/],
    ['prot: 8080\n', 'prot in /etc/tideline/config.yaml line 1', /is not a setting name: did you mean `port`\?/],
    ['data-dir: /x\n', 'data-dir in /etc/tideline/config.yaml line 1', /is not a setting name: write it as `data_dir`/],
    ['TIDELINE_PORT: 1\n', 'TIDELINE_PORT in /etc/tideline/config.yaml line 1', /write it as `port`/],
    ['logLevel: info\n', 'logLevel in /etc/tideline/config.yaml line 1', /write it as `log_level`/],
    ['TIDELINE_CONFIG: /x.yaml\n', 'TIDELINE_CONFIG in /etc/tideline/config.yaml line 1', /can only be set in the environment/],
  ])('names the key, file and line of a bad value in %j', (yaml, variable, message) => {
    const problems = problemsOf(readWith(yaml, yaml.includes('repo_allowlist') ? {} : { TIDELINE_REPO_ALLOWLIST: 'acme/*' }));
    expect(problems).toEqual([{ variable, message: expect.stringMatching(message) }]);
  });

  it('leaves sections other modules own alone', () => {
    const yaml = 'repos: []\nworkflows: {}\nkubernetes: {clusters: {}}\ndrift: {alert_on: [drifted]}\npolicies: {}\nmetrics: {}\nteam_authz: {}\n';
    expect(settingsOf(readWith(yaml, { TIDELINE_REPO_ALLOWLIST: 'acme/*' })).port).toBe(4141);
  });

  // Atlantis refuses unknown keys in its server-side repo config too; skipped, a misspelt
  // `kubernets:` would leave every cluster unconfigured without a word at start-up.
  it.each([
    ['kubernets: {clusters: {}}\n', 'kubernets', /is not a setting or a section of the server config: did you mean `kubernetes`\?/],
    ['workflow: {custom: {}}\n', 'workflow', /did you mean `workflows`\?/],
    ['clusters: {prod: {kubeconfig: /k}}\n', 'clusters', /belongs under `kubernetes:`/],
    ['alerts: {issues: false}\n', 'alerts', /belongs under `drift:`/],
    ['frobnicate: 1\n', 'frobnicate', /is not a setting or a section of the server config: remove it, or see config\/example.yaml/],
  ])('refuses the unknown top-level key in %j', (yaml, key, message) => {
    expect(problemsOf(readWith(yaml, { TIDELINE_REPO_ALLOWLIST: 'acme/*' }))).toEqual([{ variable: `${key} in ${FILE} line 1`, message: expect.stringMatching(message) }]);
  });

  it('reports a config file that is not a mapping', () => {
    expect(problemsOf(readWith('- port: 1\n', { TIDELINE_REPO_ALLOWLIST: 'acme/*' }))).toEqual([
      { variable: 'TIDELINE_CONFIG', message: expect.stringMatching(/must be a YAML mapping of settings/) },
    ]);
  });

  it('reports an unreadable config file together with the other problems', () => {
    const problems = problemsOf(readEnv({ TIDELINE_CONFIG: 'missing.yaml' }, { cwd: '/srv', readFile: () => { throw Object.assign(new Error('x'), { code: 'EACCES' }); }, checkDataDir: () => null }));
    expect(problems[0]).toEqual({
      variable: 'TIDELINE_CONFIG',
      message: 'names /srv/missing.yaml, which cannot be read (EACCES): point it at the server config YAML file, or unset it',
    });
    expect(problems.map((problem) => problem.variable)).toContain('TIDELINE_WEBHOOK_SECRET');
  });
});

describe('the example files', () => {
  const exampleEnv = readFileSync(new URL('../../config/example.env', import.meta.url), 'utf8');

  it.each(SETTING_VARIABLES.map((variable) => variable.env))('example.env lists %s under a comment', (name) => {
    const lines = exampleEnv.split('\n');
    const index = lines.findIndex((line) => line.startsWith(`${name}=`));
    expect(index).toBeGreaterThan(0);
    expect(lines.slice(0, index).reverse().find((line) => line.trim() !== '' && !line.startsWith('TIDELINE_'))).toMatch(/^#/);
  });

  it('example.yaml reads cleanly once the required secrets are in the environment', () => {
    const exampleYaml = readFileSync(new URL('../../config/example.yaml', import.meta.url), 'utf8');
    expect(settingsOf(readWith(exampleYaml)).repoAllowlist).toEqual(['acme/*', 'platform/infra-*']);
  });

  it('reports the repo rules, clusters and drift sections with the settings when checkConfigFile is given', () => {
    const yaml = 'port: x\nrepos:\n  - id: acme/infra\n    apply_requirments: [approved]\nkubernetes:\n  clusters:\n    prod: { kubeconfig: /nowhere/prod.yaml }\n';
    const result = readEnv(
      { TIDELINE_CONFIG: FILE, TIDELINE_GITHUB_TOKEN: 'ghp_1234' },
      { cwd: '/srv', readFile: (path) => (path === FILE ? yaml : ''), checkDataDir: () => null, checkConfigFile: serverFileConfigProblems },
    );
    expect(problemsOf(result).map((p) => p.variable)).toEqual(
      expect.arrayContaining([
        `port in ${FILE} line 1`,
        'TIDELINE_WEBHOOK_SECRET',
        'TIDELINE_REPO_ALLOWLIST',
        `repos[0].apply_requirments in ${FILE} line 4`,
        `kubernetes.clusters.prod.kubeconfig in ${FILE}`,
      ]),
    );
  });

  it('example.yaml holds valid repo rules, workflows, kubernetes and drift sections', () => {
    const file = fileURLToPath(new URL('../../config/example.yaml', import.meta.url));
    const loaded = loadServerFileConfig(file);
    expect(loaded.repoRules.rules).toHaveLength(2);
    expect(Object.keys(loaded.repoRules.workflows)).toEqual(['default']);
    expect(loaded.drift.lockTimeout).toBe('60s');
    expect(loaded.kube).toEqual({ allowForceConflicts: false, clusters: {} });
  });
});
