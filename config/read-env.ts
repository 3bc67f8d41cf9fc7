// The one place that reads the server's environment (Probot `read-env-options.ts`, made strict):
// raw values from the environment and the TIDELINE_CONFIG file → validated by the schemas →
// normalised into `Settings`. Every problem is collected; none is thrown.

import { readFileSync } from 'node:fs';
import path from 'node:path';
import { pickChildEnv } from './child-env.js';
import { readConfigFile } from './config-file.js';
import { checkGitHubAuth, checkWebLogin } from './credentials.js';
import { ServerSettingsSchema } from './schema.js';
import type { ServerSettingsValues } from './schema.js';
import type { ConfigProblem, GitHubAuth, ReadEnvOptions, ReadEnvResult, Settings } from './settings.js';
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

function readFileValues(raw: RawValues, readFile: (file: string) => string): FileValues {
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
  return { file, ...readConfigFile(file, text) };
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

/** A command given as a path (`./bin/terraform`) resolves now; a bare name is looked up on PATH. */
function resolveCommand(command: string, baseDir: string): string {
  return command.includes('/') ? path.resolve(baseDir, command) : command;
}

function buildSettings(
  values: ServerSettingsValues,
  raw: RawValues,
  auth: GitHubAuth,
  context: { env: NodeJS.ProcessEnv; cwd: string; configFile: string | null },
): Settings {
  function baseDir(name: VariableName): string {
    return raw[name]?.baseDir ?? context.cwd;
  }
  const web =
    values.TIDELINE_WEB_USERNAME !== undefined && values.TIDELINE_WEB_PASSWORD !== undefined
      ? { username: values.TIDELINE_WEB_USERNAME, password: values.TIDELINE_WEB_PASSWORD }
      : null;
  const secrets = [
    values.TIDELINE_WEBHOOK_SECRET,
    auth.kind === 'token' ? auth.token : auth.privateKey,
    values.TIDELINE_API_SECRET,
    web?.password,
  ].filter((secret): secret is string => secret !== undefined);
  return {
    port: values.TIDELINE_PORT,
    dataDir: path.resolve(baseDir('TIDELINE_DATA_DIR'), values.TIDELINE_DATA_DIR),
    webhookSecret: values.TIDELINE_WEBHOOK_SECRET,
    github: { apiUrl: values.TIDELINE_GITHUB_API_URL, auth },
    repoAllowlist: values.TIDELINE_REPO_ALLOWLIST,
    commandPrefix: values.TIDELINE_COMMAND_PREFIX,
    terraformBin: resolveCommand(values.TIDELINE_TERRAFORM_BIN, baseDir('TIDELINE_TERRAFORM_BIN')),
    kubectlBin: resolveCommand(values.TIDELINE_KUBECTL_BIN, baseDir('TIDELINE_KUBECTL_BIN')),
    driftSchedule: values.TIDELINE_DRIFT_SCHEDULE,
    parallelism: values.TIDELINE_PARALLELISM,
    logLevel: values.TIDELINE_LOG_LEVEL,
    apiSecret: values.TIDELINE_API_SECRET ?? null,
    driftWebhookUrl: values.TIDELINE_DRIFT_WEBHOOK_URL ?? null,
    web,
    shutdownTimeoutSeconds: values.TIDELINE_SHUTDOWN_TIMEOUT,
    configFile: context.configFile,
    childEnv: pickChildEnv(context.env),
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
  const fromFile = readFileValues(fromEnv, readFile);
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
  checked.push(...auth.problems, ...checkWebLogin(raw));

  // A setting the file gave in an unusable form is reported there, not again as missing.
  const reported = new Set<string>(fromFile.rejected.filter((name) => raw[name] === undefined));
  const problems = [...fromFile.problems, ...checked.filter((problem) => !reported.has(problem.variable))];
  if (!parsed.success || auth.auth === null || problems.length > 0) {
    return { ok: false, problems };
  }
  return { ok: true, settings: buildSettings(parsed.data, raw, auth.auth, { env, cwd, configFile: fromFile.file }) };
}

/** One line per problem, e.g. `TIDELINE_PORT must be a whole number from 1 to 65535, got "x": …`. */
export function formatProblems(problems: ConfigProblem[]): string {
  return problems.map((problem) => `${problem.variable} ${problem.message}`).join('\n');
}
