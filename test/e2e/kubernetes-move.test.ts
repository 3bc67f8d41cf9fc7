// An object moved from one kubernetes project to another is not deleted by the project it left:
// prune leaves alone what another project declares, whichever of the two applies first.

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startKubernetesDouble, type KubernetesDouble } from '../../sandbox/kubernetes/index.js';
import { startHarness, type Harness } from '../support/harness.js';

const REPO = 'acme/k8s-move';
const CONFIG = `version: 3
projects:
  - name: a
    dir: k8s/a
    kind: kubernetes
    cluster: dev
    namespace: default
  - name: b
    dir: k8s/b
    kind: kubernetes
    cluster: dev
    namespace: default
`;
const cm = (name: string): string => `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ${name}\ndata:\n  k: v\n`;
const shared = { apiVersion: 'v1', kind: 'ConfigMap', namespace: 'default', name: 'shared' };

describe('an object moved between kubernetes projects', () => {
  let h: Harness;
  let kube: KubernetesDouble;
  const dir = mkdtempSync(join(tmpdir(), 'tideline-k8s-move-'));

  beforeAll(async () => {
    kube = await startKubernetesDouble({ token: 'kube-token-move' });
    kube.kubeconfig(join(dir, 'dev.kubeconfig'));
    writeFileSync(join(dir, 'server.yaml'), `kubernetes:\n  clusters:\n    dev: { kubeconfig: ${join(dir, 'dev.kubeconfig')} }\n`);
    h = await startHarness({ env: { TIDELINE_CONFIG: join(dir, 'server.yaml') } });
    await h.double.createRepo(REPO, { 'tideline.yaml': CONFIG, 'k8s/a/a-only.yaml': cm('a-only'), 'k8s/b/b-only.yaml': cm('b-only'), 'k8s/a/shared.yaml': cm('shared') });
  });
  afterAll(async () => {
    await h?.close();
    await kube?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const bot = (pull: number): string[] => h.double.comments(REPO, pull).filter((c) => c.user === h.double.botLogin).map((c) => c.body);

  it('is kept when the project it left applies first', async () => {
    // Project a applies shared and a-only (b has b-only), and the change is merged.
    const first = await h.double.openPull(REPO, { branch: 'first', files: { 'k8s/a/a-only.yaml': `${cm('a-only')}  k2: v2\n`, 'k8s/b/b-only.yaml': `${cm('b-only')}  k2: v2\n` } });
    await h.double.sendComment(REPO, first.number, 'tideline plan');
    await h.server.pool.idle();
    await h.double.sendComment(REPO, first.number, 'tideline apply');
    await h.server.pool.idle();
    expect(bot(first.number).at(-1)).toContain('Ran Apply');
    expect(kube.get(shared)).not.toBeNull();
    await h.double.mergePull(REPO, first.number);
    await h.double.sendPullRequestEvent(REPO, first.number, 'closed');
    await h.server.pool.idle();

    // The move: shared leaves a for b, in one pull request; a bare apply applies a first.
    const move = await h.double.openPull(REPO, { branch: 'move', files: { 'k8s/a/shared.yaml': null, 'k8s/b/shared.yaml': cm('shared') } });
    await h.double.sendComment(REPO, move.number, 'tideline plan');
    await h.server.pool.idle();
    const plan = bot(move.number).find((b) => b.includes('Ran Plan')) ?? '';
    expect(plan).toContain('not pruned: v1 ConfigMap default/shared is no longer in this project but another project declares it now');
    expect(plan).not.toMatch(/^- .*ConfigMap default\/shared/m);
    await h.double.sendComment(REPO, move.number, 'tideline apply');
    await h.server.pool.idle();
    const applied = bot(move.number).at(-1) ?? '';
    expect(applied).toContain('Ran Apply');
    expect(applied).not.toContain('Apply Error');
    expect(kube.get(shared)).not.toBeNull();

    // a applied while b's plan was only a plan, so it still remembers the object; once b has
    // applied it, a's next apply leaves it alone again and forgets it.
    await h.double.mergePull(REPO, move.number);
    await h.double.sendPullRequestEvent(REPO, move.number, 'closed');
    await h.server.pool.idle();
    const remembered = (): string => (h.server.db.prepare("SELECT objects FROM kube_applied WHERE project_key LIKE '%k8s/a%'").get() as { objects: string }).objects;
    expect(remembered()).toContain('"shared"');
    const later = await h.double.openPull(REPO, { branch: 'later', files: { 'k8s/a/a-only.yaml': `${cm('a-only')}  k3: v3\n` } });
    await h.double.sendComment(REPO, later.number, 'tideline plan -p a');
    await h.server.pool.idle();
    const laterPlan = bot(later.number).find((b) => b.includes('Ran Plan')) ?? '';
    expect(laterPlan).toContain('not pruned: v1 ConfigMap default/shared');
    expect(laterPlan).not.toMatch(/^- .*ConfigMap default\/shared/m);
    await h.double.sendComment(REPO, later.number, 'tideline apply -p a');
    await h.server.pool.idle();
    expect(kube.get(shared)).not.toBeNull();
    expect(remembered()).not.toContain('"shared"');
  });
});
