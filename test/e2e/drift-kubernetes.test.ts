// Kubernetes drift through the running server: a Deployment applied from a merged PR is
// scaled by hand in the cluster (the double's out-of-band edit); a sweep raises drift, and with
// remediation on it applies the default branch's bundle so the declared replicas are back.

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startKubernetesDouble, type KubernetesDouble } from '../../sandbox/kubernetes/index.js';
import { startHarness, type Harness } from '../support/harness.js';

const REPO = 'acme/cluster';
const API = 'k8s-drift-api-1';
const WEB = { apiVersion: 'apps/v1', kind: 'Deployment', namespace: 'default', name: 'web' } as const;

const DEPLOYMENT = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: default
spec:
  replicas: 2
  selector:
    matchLabels: { app: web }
  template:
    metadata:
      labels: { app: web }
    spec:
      containers:
        - name: web
          image: nginx:1.27
`;

describe('kubernetes drift', () => {
  let h: Harness;
  let kube: KubernetesDouble;
  const dir = mkdtempSync(join(tmpdir(), 'tideline-k8s-drift-'));

  beforeAll(async () => {
    kube = await startKubernetesDouble();
    kube.kubeconfig(join(dir, 'dev.kubeconfig'));
    writeFileSync(
      join(dir, 'server.yaml'),
      `kubernetes:\n  clusters:\n    dev: { kubeconfig: ${join(dir, 'dev.kubeconfig')} }\nrepos:\n  - id: ${REPO}\n    drift: { remediate: true }\n`,
    );
    h = await startHarness({ env: { TIDELINE_CONFIG: join(dir, 'server.yaml'), TIDELINE_API_SECRET: API, TIDELINE_DRIFT_SCHEDULE: 'off' } });
  });
  afterAll(async () => {
    await h?.close();
    await kube?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  async function sweep(): Promise<void> {
    const res = await fetch(`${h.server.url}/api/drift/run`, { method: 'POST', headers: { authorization: `Bearer ${API}` } });
    expect(res.status).toBe(202);
    await h.server.pool.idle();
  }

  it('raises drift for a hand-scaled Deployment and remediates it back to the declared replicas', async () => {
    const config = 'version: 3\nprojects:\n  - name: web\n    dir: k8s\n    kind: kubernetes\n    cluster: dev\n';
    await h.double.createRepo(REPO, { 'tideline.yaml': config, 'README.md': 'x\n' });
    const pr = await h.double.openPull(REPO, { branch: 'web', author: 'alice', files: { 'k8s/web.yaml': DEPLOYMENT } });
    await h.double.sendPullRequestEvent(REPO, pr.number, 'opened');
    await h.server.pool.idle();
    await h.double.sendComment(REPO, pr.number, 'tideline apply', { user: 'alice' });
    await h.server.pool.idle();
    expect(kube.get(WEB)?.['spec']).toMatchObject({ replicas: 2 });
    await h.double.mergePull(REPO, pr.number);
    await h.double.sendPullRequestEvent(REPO, pr.number, 'closed');
    await h.server.pool.idle();

    // A clean cluster is not drift.
    await sweep();
    expect(h.double.issues(REPO)).toEqual([]);

    kube.editOutOfBand(WEB, (object) => {
      (object['spec'] as { replicas: number }).replicas = 5;
    });
    await sweep();

    const issue = h.double.issues(REPO)[0];
    expect(issue?.title).toBe('Drift detected: web (acme/cluster)');
    expect(issue?.body).toContain('replicas');
    expect(kube.get(WEB)?.['spec']).toMatchObject({ replicas: 2 });
    const remediation = h.server.db.prepare("SELECT fields FROM audit WHERE type = 'drift.remediation'").get() as { fields: string } | undefined;
    expect(JSON.parse(remediation?.fields ?? '{}')).toMatchObject({ result: 'applied' });
    expect(h.double.violations).toEqual([]);
  });
});
