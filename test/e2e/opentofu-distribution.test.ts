// `terraform_distribution` against the binary the server runs: a server whose
// TIDELINE_TERRAFORM_BIN says it is OpenTofu plans a project that asks for `opentofu`, and
// refuses one that asks for `terraform`. The "tofu" here is a wrapper that answers `version`
// as OpenTofu does and runs the real terraform for everything else.

import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHarness, terraformProject, type Harness } from '../support/harness.js';

const REPO = 'acme/tofu';

describe('a server whose terraform binary is OpenTofu', () => {
  let h: Harness;
  let dir: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tideline-tofu-'));
    const tofu = join(dir, 'tofu');
    writeFileSync(tofu, '#!/bin/sh\nif [ "$1" = version ]; then echo "OpenTofu v1.8.3"; echo "on linux_amd64"; exit 0; fi\nexec terraform "$@"\n');
    chmodSync(tofu, 0o755);
    h = await startHarness({ env: { TIDELINE_TERRAFORM_BIN: tofu, TIDELINE_DRIFT_SCHEDULE: 'off' } });
    await h.double.createRepo(REPO, { 'README.md': 'x\n' });
  });
  afterAll(async () => {
    await h?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  async function planWith(branch: string, distribution: string): Promise<string> {
    const pr = await h.double.openPull(REPO, {
      branch,
      files: {
        'atlantis.yaml': `version: 3\nprojects:\n  - dir: ${branch}\n    terraform_distribution: ${distribution}\n`,
        [`${branch}/main.tf`]: terraformProject(join(h.stateDir, `${branch}.tfstate`), 'one'),
      },
    });
    await h.double.sendComment(REPO, pr.number, 'tideline plan');
    await h.server.pool.idle();
    return h.double.comments(REPO, pr.number).filter((c) => c.user === h.double.botLogin).at(-1)?.body ?? '';
  }

  it('plans a project that asks for opentofu', async () => {
    const reply = await planWith('asks-tofu', 'opentofu');
    expect(reply).toContain('Ran Plan');
    expect(reply).toContain('1 to add');
    expect(reply).not.toContain('terraform_distribution');
  });

  it('refuses a project that asks for terraform, naming the key and the fix', async () => {
    const reply = await planWith('asks-terraform', 'terraform');
    expect(reply).not.toContain('Ran Plan');
    expect(reply).toContain('terraform_distribution');
    expect(reply).toContain("this server's TIDELINE_TERRAFORM_BIN is OpenTofu");
  });
});
