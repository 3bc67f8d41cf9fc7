// The sections of the TIDELINE_CONFIG YAML file that other modules own: `repos:`/`workflows:`
// (repo rules), `kubernetes:` (clusters) and `drift:` (alerts, lock timeout, remediation).
// The environment-style keys of the same file are read by config/read-env.ts. Every problem of every section is reported together.

import { readFileSync } from 'node:fs';
import { DEFAULT_DRIFT_SETTINGS, parseDriftSettings, type DriftServerSettings } from '../config/drift-settings.js';
import { parseKubernetesSettings, type KubernetesServerSettings } from '../config/kubernetes-settings.js';
import { formatProblems } from '../config/read-env.js';
import type { ConfigProblem } from '../config/settings.js';
import { parseServerRepoConfig, type ServerRepoConfig } from './projects/index.js';

export interface ServerFileConfig {
  repoRules: ServerRepoConfig;
  kube: KubernetesServerSettings;
  drift: DriftServerSettings;
}

/** The server config file is wrong: one line per problem, each naming key, file and line. */
export class ServerConfigError extends Error {
  override readonly name = 'ServerConfigError';
}

export type ParseServerFileConfigResult = { ok: true; config: ServerFileConfig } | { ok: false; problems: ConfigProblem[] };

/** The sections of the file's text, or every problem of every section. */
export function parseServerFileConfig(text: string, configFile: string): ParseServerFileConfigResult {
  const repos = parseServerRepoConfig(text, configFile);
  const kube = parseKubernetesSettings(text, configFile);
  const drift = parseDriftSettings(text, configFile);
  if (!repos.ok || !kube.ok || !drift.ok) {
    return { ok: false, problems: [...(repos.ok ? [] : repos.problems), ...(kube.ok ? [] : kube.problems), ...(drift.ok ? [] : drift.problems)] };
  }
  return { ok: true, config: { repoRules: repos.config, kube: kube.settings, drift: drift.settings } };
}

/** For readEnv's `checkConfigFile`: these sections' problems go out with every other setting's. */
export function serverFileConfigProblems(configFile: string, text: string): ConfigProblem[] {
  const parsed = parseServerFileConfig(text, configFile);
  return parsed.ok ? [] : parsed.problems;
}

export function loadServerFileConfig(configFile: string | null): ServerFileConfig {
  if (configFile === null) {
    return { repoRules: { rules: [], workflows: {}, warnings: [] }, kube: { allowForceConflicts: false, clusters: {} }, drift: { ...DEFAULT_DRIFT_SETTINGS, alerts: { ...DEFAULT_DRIFT_SETTINGS.alerts } } };
  }
  const parsed = parseServerFileConfig(readFileSync(configFile, 'utf8'), configFile);
  if (!parsed.ok) throw new ServerConfigError(formatProblems(parsed.problems));
  return parsed.config;
}

