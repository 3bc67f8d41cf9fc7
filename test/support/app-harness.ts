// The server in GitHub App mode against a double that plays the App: the double made with an App
// of `appId`, its private key written where TIDELINE_GITHUB_APP_PRIVATE_KEY_FILE points, and no
// token. The caller installs the App on the repositories it creates.

import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startGitHubDouble, type StartedGitHubDouble } from '../../sandbox/github/index.js';
import { startHarness, WEBHOOK_SECRET, type Harness } from './harness.js';

export async function startAppHarness(dir: string, appId: number, env: Record<string, string> = {}): Promise<{ double: StartedGitHubDouble; h: Harness }> {
  const double = await startGitHubDouble({ webhookSecret: WEBHOOK_SECRET, rootDir: join(dir, 'github'), app: { id: appId, slug: 'tideline-e2e' } });
  if (double.app === null) throw new Error('the double has no App');
  const keyFile = join(dir, 'app.pem');
  writeFileSync(keyFile, double.app.privateKey, { mode: 0o600 });
  const h = await startHarness({
    dir,
    double,
    env: { TIDELINE_GITHUB_TOKEN: '', TIDELINE_GITHUB_APP_ID: String(double.app.id), TIDELINE_GITHUB_APP_PRIVATE_KEY_FILE: keyFile, ...env },
  });
  return { double, h };
}
