// Issue 5 end to end: Terraform and Kubernetes projects in one repository, the real kubectl
// against the Kubernetes double, one reply covering both kinds, prune, validation before any
// lock, a kustomize overlay, and Secret values that never show.

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startKubernetesDouble, type KubernetesDouble } from '../../sandbox/kubernetes/index.js';
import { startHarness, terraformProject, type Harness } from '../support/harness.js';

const REPO = 'acme/platform';
const SECRET_VALUE = 'k8s-canary-5e1d0c9a';

const REPO_CONFIG = `version: 3
projects:
  - name: network
    dir: network
  - name: apps
    dir: k8s/apps
    kind: kubernetes
    cluster: dev
    namespace: apps
  - name: web-prod
    dir: k8s/overlays/prod
    kind: kubernetes
    cluster: dev
`;

function appsManifests(replicas: number, withService: boolean): Record<string, string> {
  const files: Record<string, string> = {
    'k8s/apps/namespace.yaml': 'apiVersion: v1\nkind: Namespace\nmetadata:\n  name: apps\n',
    'k8s/apps/web.yaml': `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: ${replicas}
  selector:
    matchLabels: { app: web }
  template:
    metadata:
      labels: { app: web }
    spec:
      containers:
        - name: web
          image: nginx:1.27
`,
    'k8s/apps/secret.yaml': `apiVersion: v1\nkind: Secret\nmetadata:\n  name: creds\nstringData:\n  password: ${SECRET_VALUE}\n`,
    'k8s/apps/config.yaml': 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: web-config\ndata:\n  greeting: hello\n',
  };
  if (withService) {
    files['k8s/apps/service.yaml'] = 'apiVersion: v1\nkind: Service\nmetadata:\n  name: web\nspec:\n  selector: { app: web }\n  ports:\n    - port: 80\n';
  }
  return files;
}

const KUSTOMIZE: Record<string, string> = {
  'k8s/base/kustomization.yaml': 'resources:\n  - config.yaml\n',
  'k8s/base/config.yaml': 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\ndata:\n  mode: base\n',
  'k8s/overlays/prod/kustomization.yaml': 'namespace: default\nnamePrefix: prod-\nresources:\n  - ../../base\n',
};

describe('kubernetes projects beside terraform', () => {
  let h: Harness;
  let kube: KubernetesDouble;
  const dir = mkdtempSync(join(tmpdir(), 'tideline-k8s-'));

  beforeAll(async () => {
    kube = await startKubernetesDouble({ token: 'kube-token-3f9a' });
    kube.kubeconfig(join(dir, 'dev.kubeconfig'));
    writeFileSync(join(dir, 'server.yaml'), `kubernetes:\n  clusters:\n    dev: { kubeconfig: ${join(dir, 'dev.kubeconfig')} }\n`);
    // The Secret's value is no secret the server knows: the runner itself must keep it out.
    h = await startHarness({ env: { TIDELINE_CONFIG: join(dir, 'server.yaml') } });
    await h.double.createRepo(REPO, { 'tideline.yaml': REPO_CONFIG, 'network/main.tf': terraformProject(join(h.stateDir, 'network.tfstate')), 'README.md': 'x\n' });
  });
  afterAll(async () => {
    await h?.close();
    await kube?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  function mine(pull: number): string[] {
    return h.double.comments(REPO, pull).filter((c) => c.user === h.double.botLogin).map((c) => c.body);
  }

  it('plans a terraform and a kubernetes project of one PR in one reply, a new namespace included', async () => {
    const pr = await h.double.openPull(REPO, {
      branch: 'platform',
      author: 'alice',
      files: { 'network/main.tf': terraformProject(join(h.stateDir, 'network.tfstate'), 'two'), ...appsManifests(2, true), ...KUSTOMIZE },
    });
    await h.double.sendPullRequestEvent(REPO, pr.number, 'opened');
    await h.server.pool.idle();
    const plan = mine(pr.number).find((b) => b.includes('Ran Plan')) ?? '';
    expect(plan).toContain('3 projects, 3 with changes, 0 with no changes, 0 failed');
    expect(plan).toContain('project: `network`');
    expect(plan).toContain('project: `apps`');
    for (const created of [/\+ .*Namespace.*apps/, /\+ .*Deployment.*web/, /\+ .*Service.*web/, /\+ .*ConfigMap.*web-config/]) expect(plan).toMatch(created);
    expect(plan).toContain('Plan: 5 to add, 0 to change, 0 to destroy.');
    expect(plan).toContain('prod-settings');
    expect(plan).not.toContain(SECRET_VALUE);
    expect(JSON.stringify(h.server.db.prepare('SELECT * FROM audit').all())).not.toContain(SECRET_VALUE);
    const locks = (h.server.db.prepare('SELECT project FROM locks ORDER BY project').all() as { project: string }[]).map((l) => l.project);
    expect(locks).toEqual(['apps', 'network', 'web-prod']);
  });

  it('applies the stored bundle server-side, and the cluster holds the objects', async () => {
    h.double.setReview(REPO, 1, 'bob', 'APPROVED');
    await h.double.sendComment(REPO, 1, 'tideline apply', { user: 'alice' });
    await h.server.pool.idle();
    const applied = mine(1).at(-1) ?? '';
    expect(applied).toContain('Ran Apply');
    expect(applied).not.toContain('Apply Error');
    expect(kube.get({ apiVersion: 'apps/v1', kind: 'Deployment', namespace: 'apps', name: 'web' })?.['spec']).toMatchObject({ replicas: 2 });
    expect(kube.get({ apiVersion: 'v1', kind: 'Service', namespace: 'apps', name: 'web' })).not.toBeNull();
    expect(kube.get({ apiVersion: 'v1', kind: 'ConfigMap', namespace: 'default', name: 'prod-settings' })).not.toBeNull();
    await h.double.mergePull(REPO, 1);
    await h.double.sendPullRequestEvent(REPO, 1, 'closed');
    await h.server.pool.idle();
  });

  it('shows a removed object as a prune in the plan, and deletes it on apply', async () => {
    const files = appsManifests(3, false);
    const pr = await h.double.openPull(REPO, { branch: 'drop-service', author: 'alice', files: { ...files, 'k8s/apps/service.yaml': null } });
    await h.double.sendPullRequestEvent(REPO, pr.number, 'opened');
    await h.server.pool.idle();
    const plan = mine(pr.number).find((b) => b.includes('Ran Plan')) ?? '';
    expect(plan).toMatch(/- .*Service.*web/);
    expect(plan).toMatch(/~ .*Deployment.*web/);
    expect(plan).toMatch(/^-\s+replicas: 2$/m);
    expect(plan).toMatch(/^\+\s+replicas: 3$/m);
    await h.double.sendComment(REPO, pr.number, 'tideline apply -p apps', { user: 'alice' });
    await h.server.pool.idle();
    expect(kube.get({ apiVersion: 'v1', kind: 'Service', namespace: 'apps', name: 'web' })).toBeNull();
    expect(kube.get({ apiVersion: 'apps/v1', kind: 'Deployment', namespace: 'apps', name: 'web' })?.['spec']).toMatchObject({ replicas: 3 });
  });

  it('answers malformed YAML with file and line, and locks nothing', async () => {
    const pr = await h.double.openPull(REPO, { branch: 'broken', author: 'alice', files: { 'k8s/apps/web.yaml': 'apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: [web\n' } });
    await h.double.sendComment(REPO, pr.number, 'tideline plan -p apps', { user: 'alice' });
    await h.server.pool.idle();
    const reply = mine(pr.number).at(-1) ?? '';
    expect(reply).toMatch(/web\.yaml:\d+/);
    expect(h.server.db.prepare('SELECT COUNT(*) AS n FROM locks WHERE pull = ?').get(pr.number)).toEqual({ n: 0 });
    expect(h.double.violations).toEqual([]);
  });
});
