// Directory names are the pull request's to choose. One named like a team (`@acme/everyone`,
// a directory `@acme` holding `everyone/main.tf`) is named in a code span in the reply that
// refuses its apply, so GitHub never turns it into a mention of that team.

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startHarness, terraformProject, type Harness } from '../support/harness.js';

const REPO = 'acme/mentions';

function outsideCode(body: string): string {
  return body.replace(/^(`{3,})[^\n]*\n[\s\S]*?\n\1$/gm, '').replace(/(`+)(?!`)[^\n]*?(?<!`)\1(?!`)/g, '');
}

describe('an apply refused by apply_requirements', () => {
  const configDir = mkdtempSync(join(tmpdir(), 'tideline-mentions-'));
  let h: Harness | undefined;
  afterAll(async () => {
    await h?.close();
    rmSync(configDir, { recursive: true, force: true });
  });

  it('names a directory called like a team in a code span', async () => {
    const config = join(configDir, 'server.yaml');
    writeFileSync(config, 'repos:\n  - id: /.*/\n    apply_requirements: [approved]\n');
    h = await startHarness({ env: { TIDELINE_CONFIG: config } });
    const d = h.double;
    await d.createRepo(REPO, { 'README.md': 'hi\n' });
    const pr = await d.openPull(REPO, { branch: 'team', files: { '@acme/everyone/main.tf': terraformProject(join(h.stateDir, 'team.tfstate')) } });
    await d.sendComment(REPO, pr.number, 'tideline plan');
    await d.waitFor('plan reply', () => d.comments(REPO, pr.number).find((c) => c.body.includes('tideline:plan')), 60_000);
    await d.sendComment(REPO, pr.number, 'tideline apply');
    const refused = await d.waitFor('apply refusal', () => d.comments(REPO, pr.number).find((c) => c.body.includes('**Apply Failed**')), 60_000);
    expect(refused.body).toContain('approv');
    expect(outsideCode(refused.body)).not.toContain('@acme/everyone');
    expect(d.violations).toEqual([]);
  });
});
