// The environment child processes (terraform, kubectl, git, custom steps) may see: an allow-list,
// never the server's whole environment and never a TIDELINE_* value.

import { resolve } from 'node:path';

export const CHILD_ENV_NAMES = [
  'PATH',
  'HOME',
  'LANG',
  'LC_ALL',
  'TZ',
  'TMPDIR',
  'SSL_CERT_FILE',
  'SSL_CERT_DIR',
  'HTTP_PROXY',
  'HTTPS_PROXY',
  'NO_PROXY',
  'http_proxy',
  'https_proxy',
  'no_proxy',
  'TF_CLI_CONFIG_FILE',
  'TF_PLUGIN_CACHE_DIR',
  'KUBECONFIG',
] as const;

/** The allow-listed variables present in `env`, copied. */
export function pickChildEnv(env: NodeJS.ProcessEnv): Record<string, string> {
  const picked: Record<string, string> = {};
  for (const name of CHILD_ENV_NAMES) {
    const value = env[name];
    if (value !== undefined) {
      picked[name] = value;
    }
  }
  return picked;
}

/**
 * Terraform's shared provider plugin cache, as Atlantis keeps one: the operator's
 * `TF_PLUGIN_CACHE_DIR` when set (made absolute: terraform runs in each project's dir), none
 * when it is set empty, else `<dataDir>/plugin-cache`.
 */
export function terraformPluginCacheDir(childEnv: Readonly<Record<string, string>>, dataDir: string): string | null {
  const chosen = childEnv['TF_PLUGIN_CACHE_DIR'];
  if (chosen === undefined) return resolve(dataDir, 'plugin-cache');
  return chosen === '' ? null : resolve(chosen);
}
