// Every setting the server reads, with its environment variable and its key in the TIDELINE_CONFIG
// YAML file (snake_case, no prefix). The environment wins over the file.

/**
 * How a raw value is treated before validation:
 * - `text`: trimmed;
 * - `path`: trimmed; relative paths resolve against the working directory (environment) or the
 *   directory of the YAML file (file);
 * - `secret`: kept exactly as given and never echoed in a problem;
 * - `list`: comma-separated in the environment; a comma-separated string or a YAML sequence in
 *   the file.
 */
export type ValueKind = 'text' | 'path' | 'secret' | 'list';

export interface SettingVariable {
  env: string;
  /** Key in the YAML file; null for variables only the environment may set. */
  key: string | null;
  kind: ValueKind;
  /** For a `list`: what its items are and a YAML sequence of them, for the problem a bad item gets. */
  items?: string;
  example?: string;
}

export const SETTING_VARIABLES = [
  { env: 'TIDELINE_PORT', key: 'port', kind: 'text' },
  { env: 'TIDELINE_URL', key: 'url', kind: 'text' },
  { env: 'TIDELINE_DATA_DIR', key: 'data_dir', kind: 'path' },
  { env: 'TIDELINE_WEBHOOK_SECRET', key: 'webhook_secret', kind: 'secret' },
  { env: 'TIDELINE_GITHUB_TOKEN', key: 'github_token', kind: 'secret' },
  { env: 'TIDELINE_GITHUB_APP_ID', key: 'github_app_id', kind: 'text' },
  { env: 'TIDELINE_GITHUB_APP_PRIVATE_KEY_FILE', key: 'github_app_private_key_file', kind: 'path' },
  { env: 'TIDELINE_GITHUB_API_URL', key: 'github_api_url', kind: 'text' },
  { env: 'TIDELINE_REPO_ALLOWLIST', key: 'repo_allowlist', kind: 'list', items: 'owner/repo globs', example: '[acme/*, other/infra]' },
  { env: 'TIDELINE_ALLOW_FORK_PRS', key: 'allow_fork_prs', kind: 'text' },
  { env: 'TIDELINE_FAIL_ON_PRE_WORKFLOW_HOOK_ERROR', key: 'fail_on_pre_workflow_hook_error', kind: 'text' },
  { env: 'TIDELINE_COMMAND_PREFIX', key: 'command_prefix', kind: 'text' },
  { env: 'TIDELINE_TERRAFORM_BIN', key: 'terraform_bin', kind: 'text' },
  { env: 'TIDELINE_KUBECTL_BIN', key: 'kubectl_bin', kind: 'text' },
  { env: 'TIDELINE_DRIFT_SCHEDULE', key: 'drift_schedule', kind: 'text' },
  { env: 'TIDELINE_PARALLELISM', key: 'parallelism', kind: 'text' },
  { env: 'TIDELINE_LOG_LEVEL', key: 'log_level', kind: 'text' },
  { env: 'TIDELINE_CONFIG', key: null, kind: 'path' },
  { env: 'TIDELINE_API_SECRET', key: 'api_secret', kind: 'secret' },
  { env: 'TIDELINE_DRIFT_WEBHOOK_URL', key: 'drift_webhook_url', kind: 'text' },
  { env: 'TIDELINE_DRIFT_WEBHOOK_SECRET', key: 'drift_webhook_secret', kind: 'secret' },
  { env: 'TIDELINE_WEB_USERNAME', key: 'web_username', kind: 'text' },
  { env: 'TIDELINE_WEB_PASSWORD', key: 'web_password', kind: 'secret' },
  { env: 'TIDELINE_WEB_HOSTS', key: 'web_hosts', kind: 'list', items: 'host names', example: '[tideline.internal, tideline-upstream]' },
  { env: 'TIDELINE_SHUTDOWN_TIMEOUT', key: 'shutdown_timeout', kind: 'text' },
  { env: 'TIDELINE_AUDIT_SIGNING_KEY_FILE', key: 'audit_signing_key_file', kind: 'path' },
  { env: 'TIDELINE_AUDIT_WEBHOOK_URL', key: 'audit_webhook_url', kind: 'text' },
  { env: 'TIDELINE_AUDIT_WEBHOOK_SECRET', key: 'audit_webhook_secret', kind: 'secret' },
  { env: 'TIDELINE_AUDIT_RETENTION_DAYS', key: 'audit_retention_days', kind: 'text' },
] as const satisfies readonly SettingVariable[];

export type VariableName = (typeof SETTING_VARIABLES)[number]['env'];

/** Where a raw value came from, and how to name that place in a problem. */
export interface RawValue {
  value: string;
  /** `TIDELINE_PORT`, or `port in /etc/tideline.yaml line 3`. */
  origin: string;
  /** Directory relative paths in this value resolve against. */
  baseDir: string;
}

export type RawValues = Partial<Record<VariableName, RawValue>>;

export function variableForKey(key: string): (typeof SETTING_VARIABLES)[number] | undefined {
  return SETTING_VARIABLES.find((variable) => variable.key === key);
}

export function variableForEnv(env: string): (typeof SETTING_VARIABLES)[number] | undefined {
  return SETTING_VARIABLES.find((variable) => variable.env === env);
}
