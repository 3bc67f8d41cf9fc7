// The server's settings once read, validated and normalised (Atlantis `config/valid`). Built by
// `readEnv` in `read-env.ts` from the environment and the optional TIDELINE_CONFIG YAML file.

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export type GitHubAuth =
  | { kind: 'token'; token: string }
  | { kind: 'app'; appId: string; privateKeyFile: string; privateKey: string };

export interface Settings {
  port: number;
  /**
   * Where people reach the server (Atlantis's `--atlantis-url`), without a trailing slash: PR
   * comments link each lock's page and commit statuses link their job's page. Null: no links.
   */
  publicUrl: string | null;
  /** Absolute. */
  dataDir: string;
  webhookSecret: string;
  github: { apiUrl: string; auth: GitHubAuth };
  /** `owner/repo` globs; see `allowlisted`. */
  repoAllowlist: string[];
  /**
   * Plan and apply pull requests whose head is in another repository (a fork), as Atlantis's
   * `--allow-fork-prs`. Off by default: anyone who can fork a repository could run code on the server.
   */
  allowForkPulls: boolean;
  /**
   * A failing pre workflow hook stops its command (no plan, apply or unlock; the command's status
   * fails and the PR is told why), as Atlantis's `--fail-on-pre-workflow-hook-error`. Off by
   * default, as there: a hook is then only reported, and the command runs anyway.
   */
  failOnPreWorkflowHookError: boolean;
  commandPrefix: string;
  terraformBin: string;
  kubectlBin: string;
  /** A 5- or 6-field cron expression (6 = leading seconds field), or `off`. */
  driftSchedule: string | 'off';
  parallelism: number;
  logLevel: LogLevel;
  apiSecret: string | null;
  driftWebhookUrl: string | null;
  /** HMAC secret of the drift webhook; set exactly when `driftWebhookUrl` is. */
  driftWebhookSecret: string | null;
  web: { username: string; password: string } | null;
  /**
   * TIDELINE_WEB_HOSTS: host names (lowercase, no trailing dot) the web UI answers to besides IP
   * addresses, localhost and `publicUrl`'s host, for a proxy that rewrites Host. Empty when unset.
   */
  webHosts: string[];
  shutdownTimeoutSeconds: number;
  /** Absolute path of the TIDELINE_CONFIG file, or null when none was given. */
  configFile: string | null;
  /**
   * Allow-listed environment for child processes (PATH, HOME, LANG, LC_ALL, TZ, TMPDIR,
   * SSL_CERT_FILE, SSL_CERT_DIR, HTTP_PROXY, HTTPS_PROXY, NO_PROXY and lowercase forms,
   * TF_CLI_CONFIG_FILE, TF_PLUGIN_CACHE_DIR, KUBECONFIG) — only those present; never the
   * TIDELINE_* values.
   */
  childEnv: Record<string, string>;
  audit: AuditSettings;
  /**
   * Every secret value to register with the masker: webhook secret, token, private key, api
   * secret, web password, audit webhook secret, audit signing key.
   */
  secrets: string[];
}

export interface AuditSettings {
  /** Absolute path of the Ed25519 private key that signs audit checkpoints, or null. */
  signingKeyFile: string | null;
  /** That key's PEM text (a secret), or null. */
  signingKeyPem: string | null;
  /** Where each audit record is POSTed, signed with HMAC-SHA256 of `secret`; null sends none. */
  webhook: { url: string; secret: string } | null;
  /** Days audit records are kept; null keeps them all. */
  retentionDays: number | null;
}

/** What the `tideline` command line needs: the data directory and the checkpoint signing key. */
export interface CliSettings {
  /** Absolute. */
  dataDir: string;
  configFile: string | null;
  audit: Pick<AuditSettings, 'signingKeyFile' | 'signingKeyPem'>;
}

export type ReadCliEnvResult = { ok: true; settings: CliSettings } | { ok: false; problems: ConfigProblem[] };

/**
 * One thing wrong with the configuration. `variable` names where to fix it: an environment
 * variable (`TIDELINE_PORT`) or a key of the YAML file (`port in /etc/tideline.yaml line 3`).
 * `message` reads on from the variable and names the fix.
 */
export interface ConfigProblem {
  variable: string;
  message: string;
}

export type ReadEnvResult = { ok: true; settings: Settings } | { ok: false; problems: ConfigProblem[] };

export interface ReadEnvOptions {
  /** Base for relative paths given in the environment; default `process.cwd()`. */
  cwd?: string;
  /** Reads a file as UTF-8 text; default `fs.readFileSync(path, 'utf8')`. Throws when unreadable. */
  readFile?: (path: string) => string;
  /**
   * What is wrong with the data directory (absolute) as the server would use it, reading on from
   * "names <dir>, ", or null; default `dataDirProblem` (config/data-dir.ts) on the real filesystem.
   */
  checkDataDir?: (dir: string) => string | null;
  /**
   * What keeps an explicitly set TIDELINE_TERRAFORM_BIN / TIDELINE_KUBECTL_BIN (a resolved path,
   * or a bare name looked up on `searchPath`) from running, reading on from "names <command>, ",
   * or null; default `commandProblem` (config/tool-bin.ts) on the real filesystem.
   */
  checkCommand?: (command: string, searchPath: string | undefined) => string | null;
  /**
   * Problems in the TIDELINE_CONFIG file's other sections (repo rules, clusters, drift), which
   * server/ parses; given, they are reported with every other problem. Called with the file's
   * absolute path and its text, when it could be read.
   */
  checkConfigFile?: (file: string, text: string) => ConfigProblem[];
}
