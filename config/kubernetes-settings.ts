// The `kubernetes:` section of the TIDELINE_CONFIG file: which kubeconfig each cluster name of
// a repo config maps to (credentials never come from the repository), and whether a commenter
// may pass `--force-conflicts`.
//
//   kubernetes:
//     allow_force_conflicts: false
//     clusters:
//       prod-eu: { kubeconfig: /etc/tideline/kube/prod-eu.yaml }
//
// A project without `cluster` uses kubectl's default (KUBECONFIG, else ~/.kube/config).

import { existsSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { z } from 'zod';
import { booleanError, expected, formatKeyPath, issuesToProblems, readYaml, type YamlProblem } from './server-repos-yaml.js';
import type { ConfigProblem } from './settings.js';

export interface KubernetesServerSettings {
  allowForceConflicts: boolean;
  /** Cluster name → absolute kubeconfig path. */
  clusters: Record<string, string>;
}

const ClusterSchema = z.strictObject(
  { kubeconfig: z.string({ error: expected('a path', '`kubeconfig: /etc/tideline/kube/prod.yaml`') }).min(1) },
  { error: expected('a mapping', '`prod-eu: { kubeconfig: /etc/tideline/kube/prod-eu.yaml }`') },
);

export const KubernetesSectionSchema = z.strictObject(
  {
    allow_force_conflicts: z.boolean({ error: booleanError }).default(false),
    clusters: z.record(z.string().regex(/^[a-z0-9]([a-z0-9._-]{0,62})$/, 'is not a cluster name: use lowercase letters, digits, `.`, `_` and `-`'), ClusterSchema).default({}),
  },
  { error: expected('a mapping', '`kubernetes: { clusters: { prod: { kubeconfig: /path } } }`') },
);

const FileSchema = z.looseObject({ kubernetes: KubernetesSectionSchema.optional() });

export type ParseKubernetesSettingsResult = { ok: true; settings: KubernetesServerSettings } | { ok: false; problems: ConfigProblem[] };

/** Reads `kubernetes:` from the server config file's text; relative kubeconfig paths are taken from the file's directory. */
export function parseKubernetesSettings(yamlText: string, file: string): ParseKubernetesSettingsResult {
  const read = readYaml(yamlText, { stringKeys: new Set(['kubeconfig']), stringListKeys: new Set() });
  if (!read.ok) {
    const message = read.kind === 'aliases' ? 'expands its YAML anchors and aliases too many times: write the repeated parts out' : `is not valid YAML (${read.reason}): fix the YAML on that line`;
    return { ok: false, problems: [{ variable: read.kind === 'aliases' ? file : `${file} line ${read.line}`, message }] };
  }
  if (read.data === undefined || read.data === null || typeof read.data !== 'object' || Array.isArray(read.data)) {
    return { ok: true, settings: { allowForceConflicts: false, clusters: {} } };
  }
  const parsed = FileSchema.safeParse(read.data);
  if (!parsed.success) {
    const where = (problem: YamlProblem): string => `${formatKeyPath(problem.path)} in ${file}${problem.line === null ? '' : ` line ${problem.line}`}`;
    const problems = issuesToProblems(FileSchema, parsed.error.issues, read.lineOf, { kubernetes: 'the `kubernetes` section' });
    return { ok: false, problems: problems.map((problem) => ({ variable: where(problem), message: problem.message })) };
  }
  const section = parsed.data.kubernetes;
  if (section === undefined) return { ok: true, settings: { allowForceConflicts: false, clusters: {} } };
  const clusters: Record<string, string> = {};
  const problems: ConfigProblem[] = [];
  for (const [name, cluster] of Object.entries(section.clusters)) {
    const path = isAbsolute(cluster.kubeconfig) ? cluster.kubeconfig : resolve(dirname(file), cluster.kubeconfig);
    if (!existsSync(path)) {
      problems.push({ variable: `kubernetes.clusters.${name}.kubeconfig in ${file}`, message: `names ${path}, which does not exist: mount the cluster's kubeconfig there or fix the path` });
      continue;
    }
    clusters[name] = path;
  }
  if (problems.length > 0) return { ok: false, problems };
  return { ok: true, settings: { allowForceConflicts: section.allow_force_conflicts, clusters } };
}
