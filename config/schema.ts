// zod schemas for the raw setting values (strings from the environment or the YAML file, keyed by
// environment variable). Defaults are applied here; every message reads on from the variable's
// name and ends with the fix. Rules that span variables (GitHub auth, web login, the audit
// webhook pair) and reading key files live in `credentials.ts` and `read-env.ts`.

import { availableParallelism } from 'node:os';
import { z } from 'zod';
import { parseCron } from './cron.js';
import { repoGlobProblem } from './repo-glob.js';
import { LOG_LEVELS } from './settings.js';
import type { LogLevel } from './settings.js';
import { normalWebHost, webHostProblem } from './web-host.js';

type Checked<T> = { ok: true; value: T } | { ok: false; message: string };

/** `text` quoted for a message, shortened when long. */
function shown(text: string): string {
  return JSON.stringify(text.length > 60 ? `${text.slice(0, 57)}...` : text);
}

/** A string schema whose value `check` converts, or reports on with one issue. */
function checkedText<T>(check: (text: string) => Checked<T>): z.ZodType<T, string> {
  return z.string().transform((text, ctx) => {
    const result = check(text);
    if (!result.ok) {
      ctx.issues.push({ code: 'custom', message: result.message, input: text });
      return z.NEVER;
    }
    return result.value;
  });
}

function wholeNumber(min: number, max: number, fix: string): z.ZodType<number, string> {
  const range = max === Number.MAX_SAFE_INTEGER ? `of at least ${min}` : `from ${min} to ${max}`;
  return checkedText((text) => {
    const value = /^\d+$/.test(text) ? Number(text) : Number.NaN;
    return Number.isSafeInteger(value) && value >= min && value <= max
      ? { ok: true, value }
      : { ok: false, message: `must be a whole number ${range}, got ${shown(text)}: ${fix}` };
  });
}

function httpUrl(fix: string): z.ZodType<string, string> {
  return checkedText((text) => {
    const url = URL.canParse(text) ? new URL(text) : null;
    if (url === null || (url.protocol !== 'http:' && url.protocol !== 'https:')) {
      return { ok: false, message: `must be an http:// or https:// URL, got ${shown(text)}: ${fix}` };
    }
    return { ok: true, value: text.replace(/\/+$/, '') };
  });
}

function required(fix: string): z.ZodString {
  return z.string({ error: `is required: ${fix}` });
}

export const PortSchema = z.string().default('4141').pipe(wholeNumber(1, 65535, 'set it to the TCP port to listen on, e.g. 4141'));

export const GitHubAppIdSchema = checkedText((text) =>
  /^\d+$/.test(text)
    ? { ok: true, value: text }
    : { ok: false, message: `must be the App's numeric ID, got ${shown(text)}: copy "App ID" from the App's settings page` },
);

export const GitHubApiUrlSchema = z
  .string()
  .default('https://api.github.com')
  .pipe(httpUrl('set it to the REST API base, e.g. https://api.github.com or https://ghe.example.com/api/v3'));

/**
 * The non-blank entries of a comma-separated value; an issue for a list with none (`empty`) and
 * one for each entry `problemOf` finds fault with ("has entry <problem>").
 */
function commaList(text: string, ctx: z.RefinementCtx, empty: string, problemOf: (entry: string) => string | null): string[] {
  const entries = text
    .split(',')
    .map((entry) => entry.trim())
    .filter((entry) => entry !== '');
  if (entries.length === 0) ctx.issues.push({ code: 'custom', message: empty, input: text });
  for (const entry of entries) {
    const problem = problemOf(entry);
    if (problem !== null) ctx.issues.push({ code: 'custom', message: `has entry ${problem}`, input: text });
  }
  return entries;
}

export const RepoAllowlistSchema = required(
  'set it to comma-separated owner/repo globs of the repositories to serve, e.g. acme/infra,acme/platform-*',
).transform((text, ctx) => commaList(text, ctx, 'lists no repositories: give at least one owner/repo glob, e.g. acme/*', repoGlobProblem));

export const CommandPrefixSchema = z
  .string()
  .default('tideline')
  .pipe(
    checkedText((text) =>
      /^[a-z0-9][a-z0-9-]*$/.test(text)
        ? { ok: true, value: text }
        : { ok: false, message: `must be one lowercase word of a-z, 0-9 and -, got ${shown(text)}: e.g. tideline, or atlantis for Atlantis users` },
    ),
  );

export const DriftScheduleSchema = z
  .string()
  .default('0 */6 * * *')
  .pipe(
    checkedText((text) => {
      if (text.toLowerCase() === 'off') {
        return { ok: true, value: 'off' };
      }
      const cron = parseCron(text);
      return cron.ok
        ? { ok: true, value: text.split(/\s+/).join(' ') }
        : { ok: false, message: `is not a valid cron expression (${shown(text)}: ${cron.message}): write 5 fields like "0 */6 * * *" (6 with seconds first), or off` };
    }),
  );

export const ParallelismSchema = z
  .string()
  .default(() => String(availableParallelism()))
  .pipe(wholeNumber(1, Number.MAX_SAFE_INTEGER, 'set it to how many jobs may run at once, or unset it to use the CPU count'));

export const LogLevelSchema = z
  .string()
  .default('info')
  .pipe(
    checkedText((text): Checked<LogLevel> => {
      const level = LOG_LEVELS.find((known) => known === text.toLowerCase());
      return level !== undefined ? { ok: true, value: level } : { ok: false, message: `must be one of ${LOG_LEVELS.join(', ')}, got ${shown(text)}: e.g. info` };
    }),
  );

/** `true` or `false` (any case); unset is `false`. `use` says what setting it to true does. */
function booleanFlag(use: string) {
  return z
    .string()
    .default('false')
    .pipe(
      checkedText((text) => {
        const lower = text.toLowerCase();
        return lower === 'true' || lower === 'false'
          ? { ok: true, value: lower === 'true' }
          : { ok: false, message: `must be true or false, got ${shown(text)}: set it to true to ${use}, or unset it` };
      }),
    );
}

export const AllowForkPullsSchema = booleanFlag('plan and apply pull requests from forks');

/** As Atlantis's `--fail-on-pre-workflow-hook-error`. */
export const FailOnPreWorkflowHookErrorSchema = booleanFlag('stop a command when one of its pre workflow hooks fails');

const PUBLIC_URL_FIX = 'set it to the URL people reach Tideline at, e.g. https://tideline.example.com, or unset it to post no links';

/**
 * Where people reach the server. Links are built by appending a path (`/locks/…`, `/jobs/…`) to
 * it and posted in PR comments and commit statuses, which anyone who reads the repository sees:
 * a query or fragment would swallow the appended path, and credentials would go out in every link.
 */
export const PublicUrlSchema = httpUrl(PUBLIC_URL_FIX).pipe(
  checkedText((text) => {
    const url = new URL(text);
    if (url.username !== '' || url.password !== '' || /^[a-z]+:\/\/[^/?#]*@/i.test(text)) {
      // The value is not echoed: it holds a password, and this line goes to the start-up log.
      return { ok: false, message: `holds credentials (user:password@), which every link posted to pull requests would publish: remove them; ${PUBLIC_URL_FIX}` };
    }
    const query = /\?[^#]*/.exec(text)?.[0];
    if (query !== undefined) {
      return { ok: false, message: `has a query (${shown(query).slice(1, -1)}), which would swallow the path of every link built on it: remove it; ${PUBLIC_URL_FIX}` };
    }
    const fragment = /#.*/.exec(text)?.[0];
    if (fragment !== undefined) {
      return { ok: false, message: `has a fragment (${shown(fragment).slice(1, -1)}), which would swallow the path of every link built on it (browsers never send a fragment): remove it; ${PUBLIC_URL_FIX}` };
    }
    return { ok: true, value: text };
  }),
);

/** Host names the web UI answers to besides IP addresses, localhost and TIDELINE_URL's host. */
export const WebHostsSchema = z.string().transform((text, ctx) => {
  const entries = commaList(text, ctx, 'lists no host names: give the names the web UI is reached by, e.g. tideline.internal, or unset it', webHostProblem);
  return [...new Set(entries.map(normalWebHost))];
});

export const DriftWebhookUrlSchema = httpUrl('set it to the URL drift alerts are POSTed to, or unset it');

/**
 * The drain waits with one `setTimeout`, which Node fires after 1 ms for any delay above
 * 2^31-1 ms (about 24.8 days): a longer timeout would stop running applies at once.
 */
export const MAX_SHUTDOWN_TIMEOUT_SECONDS = Math.floor((2 ** 31 - 1) / 1000);

export const ShutdownTimeoutSchema = z
  .string()
  .default('120')
  .pipe(wholeNumber(0, MAX_SHUTDOWN_TIMEOUT_SECONDS, 'set it to the seconds a SIGTERM waits for running applies, e.g. 120'));

export const AuditWebhookUrlSchema = httpUrl('set it to the URL each audit record is POSTed to (a SIEM collector), or unset it');

/** Capped at a century so the cutoff stays a representable date. */
export const AuditRetentionDaysSchema = wholeNumber(1, 36_500, 'set it to how many days audit records are kept, e.g. 365, or unset it to keep them all');

/** The server settings as raw strings keyed by environment variable, validated and defaulted. */
export const ServerSettingsSchema = z.object({
  TIDELINE_PORT: PortSchema,
  TIDELINE_URL: PublicUrlSchema.optional(),
  TIDELINE_DATA_DIR: z.string().default('./data'),
  TIDELINE_WEBHOOK_SECRET: required('set it to the webhook secret configured on the GitHub App or repository webhook'),
  TIDELINE_GITHUB_TOKEN: z.string().optional(),
  TIDELINE_GITHUB_APP_ID: GitHubAppIdSchema.optional(),
  TIDELINE_GITHUB_APP_PRIVATE_KEY_FILE: z.string().optional(),
  TIDELINE_GITHUB_API_URL: GitHubApiUrlSchema,
  TIDELINE_REPO_ALLOWLIST: RepoAllowlistSchema,
  TIDELINE_ALLOW_FORK_PRS: AllowForkPullsSchema,
  TIDELINE_FAIL_ON_PRE_WORKFLOW_HOOK_ERROR: FailOnPreWorkflowHookErrorSchema,
  TIDELINE_COMMAND_PREFIX: CommandPrefixSchema,
  TIDELINE_TERRAFORM_BIN: z.string().default('terraform'),
  TIDELINE_KUBECTL_BIN: z.string().default('kubectl'),
  TIDELINE_DRIFT_SCHEDULE: DriftScheduleSchema,
  TIDELINE_PARALLELISM: ParallelismSchema,
  TIDELINE_LOG_LEVEL: LogLevelSchema,
  TIDELINE_CONFIG: z.string().optional(),
  TIDELINE_API_SECRET: z.string().optional(),
  TIDELINE_DRIFT_WEBHOOK_URL: DriftWebhookUrlSchema.optional(),
  TIDELINE_DRIFT_WEBHOOK_SECRET: z.string().optional(),
  TIDELINE_WEB_USERNAME: z.string().optional(),
  TIDELINE_WEB_PASSWORD: z.string().optional(),
  TIDELINE_WEB_HOSTS: WebHostsSchema.optional(),
  TIDELINE_SHUTDOWN_TIMEOUT: ShutdownTimeoutSchema,
  TIDELINE_AUDIT_SIGNING_KEY_FILE: z.string().optional(),
  TIDELINE_AUDIT_WEBHOOK_URL: AuditWebhookUrlSchema.optional(),
  TIDELINE_AUDIT_WEBHOOK_SECRET: z.string().optional(),
  TIDELINE_AUDIT_RETENTION_DAYS: AuditRetentionDaysSchema.optional(),
});

export type ServerSettingsInput = z.input<typeof ServerSettingsSchema>;
export type ServerSettingsValues = z.output<typeof ServerSettingsSchema>;
