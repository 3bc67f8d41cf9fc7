// The versions the `version` reply names come from the programs themselves, through exec; a
// missing or odd program is named as such rather than failing the start.

import { execFileSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { SecretMasker } from '../../runners/secrets.js';
import { probeToolVersions } from '../../runners/tool-versions.js';

const dir = mkdtempSync(join(tmpdir(), 'tideline-tool-versions-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const ctx = { baseEnv: { PATH: process.env['PATH'] ?? '', HOME: dir }, masker: new SecretMasker() };

function script(name: string, body: string): string {
  const path = join(dir, name);
  writeFileSync(path, `#!/bin/sh\n${body}\n`);
  chmodSync(path, 0o755);
  return path;
}

describe('probeToolVersions', () => {
  it('reads the versions of the terraform and kubectl on this machine', async () => {
    const terraform = (JSON.parse(execFileSync('terraform', ['version', '-json'], { encoding: 'utf8' })) as { terraform_version: string }).terraform_version;
    const { versions, missing, terraformDistribution } = await probeToolVersions(ctx, { terraform: 'terraform', kubectl: 'kubectl' });
    expect(missing).toEqual([]);
    expect(versions.terraform).toBe(terraform);
    expect(terraformDistribution).toBe('terraform');
    expect(versions.kubectl).toMatch(/^v\d+\.\d+\.\d+\S* \(kustomize v\d+\.\d+\.\d+\)$/);
  });

  it('names a program that is missing, prints no JSON, or fails', async () => {
    const { versions, missing } = await probeToolVersions(ctx, {
      terraform: join(dir, 'no-such-terraform'),
      kubectl: script('kubectl-text', 'echo "Client Version: v1.2.3"'),
    });
    // Only a program that does not exist is missing: one that runs, however oddly, may still plan.
    expect(missing).toEqual(['terraform']);
    expect(versions.terraform).toBe(`not found (${join(dir, 'no-such-terraform')})`);
    expect(versions.kubectl).toMatch(/^unknown: `.*kubectl-text version --client -o json` printed something other than JSON$/);
    const { versions: failing } = await probeToolVersions(ctx, { terraform: script('terraform-fails', 'echo boom >&2; exit 4'), kubectl: script('kubectl-empty', 'echo "{}"') });
    expect(failing.terraform).toMatch(/^unknown: .*terraform-fails version failed with exit code 4:$/);
    expect(failing.kubectl).toMatch(/printed no version$/);
  });

  it('tells OpenTofu from Terraform by the version line of `version`, and asks HashiCorp nothing', async () => {
    const tofu = script('tofu', 'echo "OpenTofu v1.8.3"; echo "on linux_amd64"; echo "checkpoint=$CHECKPOINT_DISABLE" > "$HOME/tofu-env"');
    const probed = await probeToolVersions(ctx, { terraform: tofu, kubectl: 'kubectl' });
    expect(probed.versions.terraform).toBe('1.8.3 (OpenTofu)');
    expect(probed.terraformDistribution).toBe('opentofu');
    expect(readFileSync(join(dir, 'tofu-env'), 'utf8')).toBe('checkpoint=1\n');
    // Out of date: terraform says so after the version; a wrapper may print a line before it.
    const dated = script('terraform-dated', 'printf "Terraform v1.11.4\\non linux_amd64\\n\\nYour version of Terraform is out of date! The latest version\\nis 1.12.2.\\n"');
    expect(await probeToolVersions(ctx, { terraform: dated, kubectl: 'kubectl' })).toMatchObject({ versions: { terraform: '1.11.4' }, terraformDistribution: 'terraform' });
    const wrapped = script('tofu-wrapped', 'printf "Warning: TF_LOG_PATH is not writable\\n\\nOpenTofu v1.8.3\\non linux_amd64\\n"');
    expect(await probeToolVersions(ctx, { terraform: wrapped, kubectl: 'kubectl' })).toMatchObject({ versions: { terraform: '1.8.3 (OpenTofu)' }, terraformDistribution: 'opentofu' });
    const odd = await probeToolVersions(ctx, { terraform: script('terraform-odd', 'echo "v1.2.3"'), kubectl: 'kubectl' });
    expect(odd.terraformDistribution).toBeNull();
    expect(odd.versions.terraform).toMatch(/printed no version$/);
  });
});
