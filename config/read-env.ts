// The one place that reads the server's environment (Probot `read-env-options.ts`, made strict):
// raw values from the environment and the TIDELINE_CONFIG file → validated by the schemas →
// normalised into `Settings`. Every problem is collected; none is thrown.

import { createPrivateKey } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { pickChildEnv } from './child-env.js';
import { readConfigFile } from './config-file.js';
import { checkGitHubAuth, checkWebLogin } from './credentials.js';
import { dataDirProblem } from './data-dir.js';
import { ServerSettingsSchema } from './schema.js';
import { commandProblem } from './tool-bin.js';
import type { ServerSettingsValues } from './schema.js';
import type { AuditSettings, ConfigProblem, GitHubAuth, ReadCliEnvResult, ReadEnvOptions, ReadEnvResult, Settings } from './settings.js';
import { SETTING_VARIABLES } from './variables.js';
import type { RawValues, VariableName } from './variables.js';

export { allowlisted } from './repo-glob.js';

/** The settings present in `env`. Blank values count as unset; only secrets keep their spaces. */
function rawFromEnv(env: NodeJS.ProcessEnv, cwd: string): RawValues {
  const raw: RawValues = {};
  for (const variable of SETTING_VARIABLES) {
    const value = env[variable.env];
    if (value !== undefined && value.trim() !== '') {
      raw[variable.env] = { value: variable.kind === 'secret' ? value : value.trim(), origin: variable.env, baseDir: cwd };
    }
  }
  return raw;
}

interface FileValues {
  file: string | null;
  values: RawValues;
  problems: ConfigProblem[];
  rejected: VariableName[];
}

function readFileValues(raw: RawValues, readFile: (file: string) => string, checkSections?: (file: string, text: string) => ConfigProblem[]): FileValues {
  const given = raw.TIDELINE_CONFIG;
  if (given === undefined) {
    return { file: null, values: {}, problems: [], rejected: [] };
  }
  const file = path.resolve(given.baseDir, given.value);
  let text: string;
  try {
    text = readFile(file);
  } catch (error: unknown) {
    const reason = error instanceof Error && 'code' in error && typeof error.code === 'string' ? error.code : String(error);
    return {
      file,
      values: {},
      rejected: [],
      problems: [{ variable: 'TIDELINE_CONFIG', message: `names ${file}, which cannot be read (${reason}): point it at the server config YAML file, or unset it` }],
    };
  }
  const read = readConfigFile(file, text);
  return { file, ...read, problems: [...read.problems, ...(checkSections?.(file, text) ?? [])] };
}

/** The raw strings keyed by variable; absent keys take the schema's default or are reported missing. */
function schemaInput(raw: RawValues): Partial<Record<VariableName, string>> {
  const input: Partial<Record<VariableName, string>> = {};
  for (const variable of SETTING_VARIABLES) {
    const value = raw[variable.env]?.value;
    if (value !== undefined) {
      input[variable.env] = variable.kind === 'secret' ? value : value.trim();
    }
  }
  return input;
}

function errorReason(error: unknown): string {
  if (error instanceof Error && 'code' in error && typeof error.code === 'string') {
    return error.code;
  }
  return error instanceof Error ? error.message : String(error);
}

interface SigningKeyCheck {
  key: { file: string; pem: string } | null;
  problems: ConfigProblem[];
}

const GENERATE_ED25519 = 'generate one with `openssl genpkey -algorithm ed25519 -out audit-signing.pem`';

/** Reads TIDELINE_AUDIT_SIGNING_KEY_FILE, which must name an unencrypted Ed25519 private key PEM. */
function readSigningKey(raw: RawValues, readFile: (file: string) => string): SigningKeyCheck {
  const given = raw.TIDELINE_AUDIT_SIGNING_KEY_FILE;
  if (given === undefined) {
    return { key: null, problems: [] };
  }
  const file = path.resolve(given.baseDir, given.value);
  const problem = (message: string): SigningKeyCheck => ({ key: null, problems: [{ variable: given.origin, message: `names ${file}, ${message}` }] });
  let pem: string;
  try {
    pem = readFile(file);
  } catch (error: unknown) {
    return problem(`which cannot be read (${errorReason(error)}): point it at the Ed25519 private key that signs audit checkpoints and let the server user read it`);
  }
  let type: string | undefined;
  try {
    type = createPrivateKey(pem).asymmetricKeyType;
  } catch {
    return problem(`which holds no unencrypted PEM private key: ${GENERATE_ED25519}`);
  }
  if (type !== 'ed25519') {
    return problem(`which holds a key of type ${type ?? 'unknown'}, not Ed25519: ${GENERATE_ED25519}`);
  }
  return { key: { file, pem }, problems: [] };
}

/** The data directory's problem, checked whatever else is wrong, since its value is always known. */
function checkDataDir(raw: RawValues, cwd: string, check: (dir: string) => string | null): ConfigProblem[] {
  const given = raw.TIDELINE_DATA_DIR;
  const value = ServerSettingsSchema.shape.TIDELINE_DATA_DIR.parse(given?.value);
  const dir = path.resolve(given?.baseDir ?? cwd, value);
  const problem = check(dir);
  return problem === null ? [] : [{ variable: given?.origin ?? 'TIDELINE_DATA_DIR', message: `names ${dir}, ${problem}` }];
}

/** A signed webhook (audit, drift) needs its URL and its secret: both or neither. */
function checkWebhookPair(raw: RawValues, urlName: VariableName, secretName: VariableName, what: string): ConfigProblem[] {
  const url = raw[urlName];
  const secret = raw[secretName];
  if (url !== undefined && secret === undefined) {
    return [{ variable: secretName, message: `is required with ${url.origin}: set it to the secret the receiver checks the X-Tideline-Signature-256 HMAC with, or unset both` }];
  }
  if (secret !== undefined && url === undefined) {
    return [{ variable: urlName, message: `is required with ${secret.origin}: set it to the URL ${what} are POSTed to, or unset both` }];
  }
  return [];
}

function auditSettings(values: ServerSettingsValues, signing: SigningKeyCheck['key']): AuditSettings {
  const url = values.TIDELINE_AUDIT_WEBHOOK_URL;
  const secret = values.TIDELINE_AUDIT_WEBHOOK_SECRET;
  return {
    signingKeyFile: signing?.file ?? null,
    signingKeyPem: signing?.pem ?? null,
    webhook: url !== undefined && secret !== undefined ? { url, secret } : null,
    retentionDays: values.TIDELINE_AUDIT_RETENTION_DAYS ?? null,
  };
}

/** A command given as a path (`./bin/terraform`) resolves now; a bare name is looked up on PATH. */
function resolveCommand(command: string, baseDir: string): string {
  return command.includes('/') ? path.resolve(baseDir, command) : command;
}

const TOOLS = [
  { name: 'TIDELINE_TERRAFORM_BIN', tool: 'terraform', projects: 'Terraform' },
  { name: 'TIDELINE_KUBECTL_BIN', tool: 'kubectl', projects: 'Kubernetes' },
] as const;

/**
 * A binary set explicitly must be runnable (config/tool-bin.ts); the defaults are not checked
 * here, since an install may serve only one kind of project (server.ts warns about those).
 */
function checkTools(raw: RawValues, searchPath: string | undefined, check: (command: string, searchPath: string | undefined) => string | null): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  for (const { name, tool, projects } of TOOLS) {
    const given = raw[name];
    if (given === undefined) continue;
    const command = resolveCommand(given.value.trim(), given.baseDir);
    const problem = check(command, searchPath);
    if (problem !== null) {
      problems.push({ variable: given.origin, message: `names ${command}, ${problem}: point it at the ${tool} binary, or unset it to use \`${tool}\` from PATH (only ${projects} projects need it)` });
    }
  }
  return problems;
}

function buildSettings(
  values: ServerSettingsValues,
  raw: RawValues,
  auth: GitHubAuth,
  context: { env: NodeJS.ProcessEnv; cwd: string; configFile: string | null; signingKey: SigningKeyCheck['key'] },
): Settings {
  function baseDir(name: VariableName): string {
    return raw[name]?.baseDir ?? context.cwd;
  }
  const web =
    values.TIDELINE_WEB_USERNAME !== undefined && values.TIDELINE_WEB_PASSWORD !== undefined
      ? { username: values.TIDELINE_WEB_USERNAME, password: values.TIDELINE_WEB_PASSWORD }
      : null;
  const audit = auditSettings(values, context.signingKey);
  const secrets = [
    values.TIDELINE_WEBHOOK_SECRET,
    auth.kind === 'token' ? auth.token : auth.privateKey,
    values.TIDELINE_API_SECRET,
    web?.password,
    audit.webhook?.secret,
    values.TIDELINE_DRIFT_WEBHOOK_SECRET,
    audit.signingKeyPem ?? undefined,
  ].filter((secret): secret is string => secret !== undefined);
  return {
    port: values.TIDELINE_PORT,
    publicUrl: values.TIDELINE_URL ?? null,
    dataDir: path.resolve(baseDir('TIDELINE_DATA_DIR'), values.TIDELINE_DATA_DIR),
    webhookSecret: values.TIDELINE_WEBHOOK_SECRET,
    github: { apiUrl: values.TIDELINE_GITHUB_API_URL, auth },
    repoAllowlist: values.TIDELINE_REPO_ALLOWLIST,
    allowForkPulls: values.TIDELINE_ALLOW_FORK_PRS,
    failOnPreWorkflowHookError: values.TIDELINE_FAIL_ON_PRE_WORKFLOW_HOOK_ERROR,
    commandPrefix: values.TIDELINE_COMMAND_PREFIX,
    terraformBin: resolveCommand(values.TIDELINE_TERRAFORM_BIN, baseDir('TIDELINE_TERRAFORM_BIN')),
    kubectlBin: resolveCommand(values.TIDELINE_KUBECTL_BIN, baseDir('TIDELINE_KUBECTL_BIN')),
    driftSchedule: values.TIDELINE_DRIFT_SCHEDULE,
    parallelism: values.TIDELINE_PARALLELISM,
    logLevel: values.TIDELINE_LOG_LEVEL,
    apiSecret: values.TIDELINE_API_SECRET ?? null,
    driftWebhookUrl: values.TIDELINE_DRIFT_WEBHOOK_URL ?? null,
    driftWebhookSecret: values.TIDELINE_DRIFT_WEBHOOK_SECRET ?? null,
    web,
    webHosts: values.TIDELINE_WEB_HOSTS ?? [],
    shutdownTimeoutSeconds: values.TIDELINE_SHUTDOWN_TIMEOUT,
    configFile: context.configFile,
    childEnv: pickChildEnv(context.env),
    audit,
    secrets: [...new Set(secrets)],
  };
}

/**
 * Reads the server settings from `env` (default `process.env`) and the YAML file TIDELINE_CONFIG
 * names. The environment wins over the file. Returns the settings, or every problem found.
 */
export function readEnv(env: NodeJS.ProcessEnv = process.env, opts: ReadEnvOptions = {}): ReadEnvResult {
  const cwd = path.resolve(opts.cwd ?? process.cwd());
  const readFile = opts.readFile ?? ((file: string): string => readFileSync(file, 'utf8'));
  const fromEnv = rawFromEnv(env, cwd);
  const fromFile = readFileValues(fromEnv, readFile, opts.checkConfigFile);
  const raw: RawValues = { ...fromFile.values, ...fromEnv };

  const checked: ConfigProblem[] = [];
  const parsed = ServerSettingsSchema.safeParse(schemaInput(raw));
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      const name = String(issue.path[0] ?? '');
      checked.push({ variable: raw[name as VariableName]?.origin ?? name, message: issue.message });
    }
  }
  const auth = checkGitHubAuth(raw, readFile);
  const signing = readSigningKey(raw, readFile);
  checked.push(...checkDataDir(raw, cwd, opts.checkDataDir ?? dataDirProblem), ...auth.problems, ...checkWebLogin(raw), ...signing.problems, ...checkWebhookPair(raw, 'TIDELINE_AUDIT_WEBHOOK_URL', 'TIDELINE_AUDIT_WEBHOOK_SECRET', 'audit records'), ...checkWebhookPair(raw, 'TIDELINE_DRIFT_WEBHOOK_URL', 'TIDELINE_DRIFT_WEBHOOK_SECRET', 'drift alerts'), ...checkTools(raw, env['PATH'], opts.checkCommand ?? commandProblem));

  // A setting the file gave in an unusable form is reported there, not again as missing.
  const reported = new Set<string>(fromFile.rejected.filter((name) => raw[name] === undefined));
  const problems = [...fromFile.problems, ...checked.filter((problem) => !reported.has(problem.variable))];
  if (!parsed.success || auth.auth === null || problems.length > 0) {
    return { ok: false, problems };
  }
  return { ok: true, settings: buildSettings(parsed.data, raw, auth.auth, { env, cwd, configFile: fromFile.file, signingKey: signing.key }) };
}

/**
 * The settings of the `tideline` command line, from `env` and the TIDELINE_CONFIG file like
 * `readEnv`, but only what the CLI needs: TIDELINE_DATA_DIR and TIDELINE_AUDIT_SIGNING_KEY_FILE.
 * The server's required settings (webhook secret, GitHub auth, allow-list) are not asked for.
 */
export function readCliEnv(env: NodeJS.ProcessEnv = process.env, opts: ReadEnvOptions = {}): ReadCliEnvResult {
  const cwd = path.resolve(opts.cwd ?? process.cwd());
  const readFile = opts.readFile ?? ((file: string): string => readFileSync(file, 'utf8'));
  const fromEnv = rawFromEnv(env, cwd);
  const fromFile = readFileValues(fromEnv, readFile);
  const raw: RawValues = { ...fromFile.values, ...fromEnv };
  const signing = readSigningKey(raw, readFile);
  const problems = [...fromFile.problems, ...signing.problems];
  if (problems.length > 0) {
    return { ok: false, problems };
  }
  const dataDir = ServerSettingsSchema.shape.TIDELINE_DATA_DIR.parse(raw.TIDELINE_DATA_DIR?.value);
  return {
    ok: true,
    settings: {
      dataDir: path.resolve(raw.TIDELINE_DATA_DIR?.baseDir ?? cwd, dataDir),
      configFile: fromFile.file,
      audit: { signingKeyFile: signing.key?.file ?? null, signingKeyPem: signing.key?.pem ?? null },
    },
  };
}

/** One line per problem, e.g. `TIDELINE_PORT must be a whole number from 1 to 65535, got "x": …`. */
export function formatProblems(problems: ConfigProblem[]): string {
  return problems.map((problem) => `${problem.variable} ${problem.message}`).join('\n');
}
