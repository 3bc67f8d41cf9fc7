// The `drift:` section of the TIDELINE_CONFIG file: which drift alerts are sent, terraform's
// state-lock timeout during a sweep, and whether drift is re-applied by default. Per-repository
// settings (`enabled`, `schedule`, `remediate`) live in `repos[].drift` (server-repos.ts).
//
//   drift:
//     alerts: { issues: true, pr_comment: true, webhook: true, commit_status: true }
//     lock_timeout: 60s
//     remediate: false
//
// The schedule itself is TIDELINE_DRIFT_SCHEDULE; the webhook's URL and secret are
// TIDELINE_DRIFT_WEBHOOK_URL and TIDELINE_DRIFT_WEBHOOK_SECRET (secrets stay out of this file).

import { z } from 'zod';
import { booleanError, expected, formatKeyPath, issuesToProblems, readYaml, type YamlProblem } from './server-repos-yaml.js';
import type { ConfigProblem } from './settings.js';

export interface DriftAlertSwitches {
  /** (a) one GitHub issue per drifted project, updated in place, closed when resolved. */
  issues: boolean;
  /** (b) a comment on the pull request that last applied the project. */
  prComment: boolean;
  /** (c) the signed outgoing webhook (needs TIDELINE_DRIFT_WEBHOOK_URL). */
  webhook: boolean;
  /** (d) the `tideline/drift` commit status on the default-branch head. */
  commitStatus: boolean;
}

export interface DriftServerSettings {
  alerts: DriftAlertSwitches;
  /** Terraform duration for `-lock-timeout`, e.g. `60s`. */
  lockTimeout: string;
  /** Re-apply drifted projects unless a `repos[].drift.remediate` (or an allowed repo config) says otherwise. */
  remediate: boolean;
}

export const DEFAULT_DRIFT_SETTINGS: Readonly<DriftServerSettings> = {
  alerts: { issues: true, prComment: true, webhook: true, commitStatus: true },
  lockTimeout: '60s',
  remediate: false,
};

const BOOLEAN = { error: booleanError };

/** Terraform's `-lock-timeout` takes a Go duration; whole numbers with one unit keep it plain. */
export const LockTimeoutSchema = z
  .string({ error: expected('a duration in quotes', '"60s"') })
  .regex(/^\d{1,6}(ms|s|m|h)$/, 'is not a duration terraform accepts here: write a whole number and a unit, e.g. "60s" or "5m"');

export const DriftSectionSchema = z.strictObject(
  {
    alerts: z
      .strictObject(
        {
          issues: z.boolean(BOOLEAN).default(true),
          pr_comment: z.boolean(BOOLEAN).default(true),
          webhook: z.boolean(BOOLEAN).default(true),
          commit_status: z.boolean(BOOLEAN).default(true),
        },
        { error: expected('a mapping of switches', '`alerts: { issues: true, webhook: false }`') },
      )
      .default({ issues: true, pr_comment: true, webhook: true, commit_status: true }),
    lock_timeout: LockTimeoutSchema.default('60s'),
    remediate: z.boolean(BOOLEAN).default(false),
  },
  { error: expected('a mapping', '`drift: { lock_timeout: 60s }`') },
);

const FileSchema = z.looseObject({ drift: DriftSectionSchema.optional() });

export type ParseDriftSettingsResult = { ok: true; settings: DriftServerSettings } | { ok: false; problems: ConfigProblem[] };

/** Reads `drift:` from the server config file's text (`file` names it in messages); defaults when absent. */
export function parseDriftSettings(yamlText: string, file: string): ParseDriftSettingsResult {
  const read = readYaml(yamlText, { stringKeys: new Set(['lock_timeout']), stringListKeys: new Set() });
  if (!read.ok) {
    const message = read.kind === 'aliases' ? 'expands its YAML anchors and aliases too many times: write the repeated parts out' : `is not valid YAML (${read.reason}): fix the YAML on that line`;
    return { ok: false, problems: [{ variable: read.kind === 'aliases' ? file : `${file} line ${read.line}`, message }] };
  }
  if (read.data === undefined || read.data === null) return { ok: true, settings: defaults() };
  if (typeof read.data !== 'object' || Array.isArray(read.data)) {
    return { ok: false, problems: [{ variable: file, message: 'must be a YAML mapping: write it like `drift: { lock_timeout: 60s }`' }] };
  }
  const parsed = FileSchema.safeParse(read.data);
  if (!parsed.success) {
    const where = (problem: YamlProblem): string => `${formatKeyPath(problem.path)} in ${file}${problem.line === null ? '' : ` line ${problem.line}`}`;
    const problems = issuesToProblems(FileSchema, parsed.error.issues, read.lineOf, { drift: 'the `drift` section' });
    return { ok: false, problems: problems.map((problem) => ({ variable: where(problem), message: problem.message })) };
  }
  const section = parsed.data.drift;
  if (section === undefined) return { ok: true, settings: defaults() };
  return {
    ok: true,
    settings: {
      alerts: {
        issues: section.alerts.issues,
        prComment: section.alerts.pr_comment,
        webhook: section.alerts.webhook,
        commitStatus: section.alerts.commit_status,
      },
      lockTimeout: section.lock_timeout,
      remediate: section.remediate,
    },
  };
}

function defaults(): DriftServerSettings {
  return { ...DEFAULT_DRIFT_SETTINGS, alerts: { ...DEFAULT_DRIFT_SETTINGS.alerts } };
}
