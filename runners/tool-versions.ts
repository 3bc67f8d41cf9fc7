// The versions of the programs a plan runs, asked once at start-up: `<prefix> version` answers
// with them (Atlantis's `version` prints `terraform version`), and the start-up log line names
// them, so "which terraform planned this?" has an answer without a shell on the server.

import { exec, ExecError, type ExecContext } from './exec.js';

const PROBE_TIMEOUT_MS = 30_000;
const PROBE_MAX_OUTPUT_BYTES = 256 * 1024;

export interface ToolVersions {
  /** e.g. `1.11.4`, or why there is none: `not found (terraform)`. */
  terraform: string;
  /** e.g. `v1.32.4`, with kustomize's when kubectl says it: `v1.32.4 (kustomize v5.5.0)`. */
  kubectl: string;
}

export type ToolName = keyof ToolVersions;

/** Which program TIDELINE_TERRAFORM_BIN is: Atlantis's `terraform_distribution` values. */
export type TerraformDistribution = 'terraform' | 'opentofu';

export interface ToolProbe {
  versions: ToolVersions;
  /** What `<terraform> version` says it is; null when it could not be told (missing, odd output). */
  terraformDistribution: TerraformDistribution | null;
  /** The tools whose program does not exist: every run of their projects would fail. */
  missing: ToolName[];
}

/** Asks each program its version; a missing one is named in `missing`, not thrown. */
export async function probeToolVersions(ctx: ExecContext, bins: Record<ToolName, string>): Promise<ToolProbe> {
  let terraformDistribution: TerraformDistribution | null = null;
  const [terraform, kubectl] = await Promise.all([
    // The text form, not -json: its version line names the program ("Terraform v1.11.4",
    // "OpenTofu v1.8.3"), which -json's `terraform_version` does not. CHECKPOINT_DISABLE keeps
    // it from asking HashiCorp whether a newer version exists, as -json does not either.
    probe({ ...ctx, baseEnv: { ...ctx.baseEnv, CHECKPOINT_DISABLE: '1' } }, bins.terraform, ['version'], (out) => {
      // The first line that names it, not the first line: a wrapper (tfenv, a shell script
      // that warns) may print before it, and the out-of-date notice comes after it.
      const first = /^(Terraform|OpenTofu) v(\d\S*)/m.exec(out);
      if (first === null) return null;
      terraformDistribution = first[1] === 'OpenTofu' ? 'opentofu' : 'terraform';
      return terraformDistribution === 'opentofu' ? `${first[2]} (OpenTofu)` : (first[2] ?? null);
    }),
    probe(ctx, bins.kubectl, ['version', '--client', '-o', 'json'], (out) => {
      const parsed = JSON.parse(out) as { clientVersion?: { gitVersion?: unknown }; kustomizeVersion?: unknown };
      const version = parsed.clientVersion?.gitVersion;
      if (typeof version !== 'string') return null;
      return typeof parsed.kustomizeVersion === 'string' ? `${version} (kustomize ${parsed.kustomizeVersion})` : version;
    }),
  ]);
  return {
    versions: { terraform: terraform.version, kubectl: kubectl.version },
    terraformDistribution,
    missing: [...(terraform.missing ? ['terraform' as const] : []), ...(kubectl.missing ? ['kubectl' as const] : [])],
  };
}

/** The version `read` finds in the program's output, or a short reason in its place. */
async function probe(ctx: ExecContext, bin: string, args: string[], read: (stdout: string) => string | null): Promise<{ version: string; missing: boolean }> {
  const found = (version: string): { version: string; missing: boolean } => ({ version, missing: false });
  let stdout: string;
  try {
    ({ stdout } = await exec(ctx, { file: bin, args, cwd: '/', timeoutMs: PROBE_TIMEOUT_MS, maxOutputBytes: PROBE_MAX_OUTPUT_BYTES }));
  } catch (err: unknown) {
    if (err instanceof ExecError && err.missingExecutable) return { version: `not found (${ctx.masker.mask(bin)})`, missing: true };
    const first = (err instanceof ExecError ? err.message : String(err)).split('\n')[0] ?? '';
    return found(`unknown: ${first.slice(0, 200)}`);
  }
  try {
    return found(read(stdout) ?? `unknown: \`${ctx.masker.mask(bin)} ${args.join(' ')}\` printed no version`);
  } catch {
    return found(`unknown: \`${ctx.masker.mask(bin)} ${args.join(' ')}\` printed something other than JSON`);
  }
}
