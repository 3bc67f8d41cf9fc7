// KubernetesRunner edge cases against the Kubernetes double: namespaces, drift and field-manager
// conflicts, forcing, kubectl errors, kustomize, the default kubeconfig, refused arguments, the
// abort signal and apply without a plan.
// The shared set-up, and why the tests drive `kubectl` on PATH, is in ../support/kube-runner-fixture.ts.

import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { startKubernetesDouble } from '../../sandbox/kubernetes/index.js';
import { useKubeRunnerFixture } from '../support/kube-runner-fixture.js';

const kube = useKubeRunnerFixture();
const { runner, ctx, project, plan, deployment, SERVICE, configMap, WEB, SETTINGS, actions, spec, exists } = kube;

describe('KubernetesRunner plan and apply', () => {
  it('plans a new Namespace and the objects in it as creates, not as a namespace-not-found error', async () => {
    await project({
      'namespace.yaml': 'apiVersion: v1\nkind: Namespace\nmetadata: {name: shop}\n',
      'app.yaml': `${deployment(2)}---\n${SERVICE}---\n${configMap('a')}`,
      'secret.yaml': 'apiVersion: v1\nkind: Secret\nmetadata: {name: creds}\nstringData: {password: ns-secret-value}\n',
    });
    const r = runner();
    const outcome = await plan(r, ctx(), 'shop');
    expect(outcome.result).toBe('changes');
    expect(actions(outcome)).toEqual([
      '+ Namespace /shop', '+ ConfigMap shop/settings', '+ Secret shop/creds', '+ Service shop/web', '+ Deployment shop/web',
    ]);
    expect(outcome.summary).toEqual({ add: 5, change: 0, destroy: 0 });
    expect(outcome.output).toContain('(namespace shop is created by this change)');
    expect(outcome.output).not.toContain('ns-secret-value');
    expect(outcome.diff).toMatch(/^\+  replicas: 2$/m);
    // A real server answers a dry run in a namespace that does not exist with 404: none was sent.
    expect(kube.double.requests.filter((r) => r.path.includes('/namespaces/shop/') && r.method === 'PATCH')).toEqual([]);

    const applied = await r.apply(ctx(), kube.planFile);
    expect(applied.result).toBe('applied');
    expect(kube.double.get({ ...WEB, namespace: 'shop' })).not.toBeNull();
    expect(kube.double.list('Secret').map((s) => (s['metadata'] as { namespace: string }).namespace)).toEqual(['shop']);
  });

  it('lets the server decide when the identity may not read namespaces', async () => {
    await kube.double.close();
    kube.double = await startKubernetesDouble({ token: kube.TOKEN, deny: (r) => r.method === 'GET' && r.path.startsWith('/api/v1/namespaces/') && r.path.split('/').length === 5 });
    kube.double.kubeconfig(kube.kubeconfig);
    await project({ 'app.yaml': configMap('a') });
    const outcome = await plan(runner());
    expect(kube.double.requests.some((r) => r.status === 403)).toBe(true);
    expect(outcome.result).toBe('changes');
    expect(actions(outcome)).toEqual(['+ ConfigMap default/settings']);
  });

  it('warns when objects sit in a namespace that neither exists nor is created', async () => {
    await project({ 'app.yaml': configMap('a') });
    const outcome = await plan(runner(), ctx(), 'nowhere');
    expect(actions(outcome)).toEqual(['+ ConfigMap nowhere/settings']);
    expect(outcome.warnings).toEqual([expect.stringContaining('namespace "nowhere" does not exist and this change does not create it')]);
  });

  it('shows an out-of-band edit as ~ drift, and reports its field-manager conflict without forcing it', async () => {
    await project({ 'app.yaml': `${deployment(2)}---\n${configMap('a')}` });
    const r = runner();
    await plan(r);
    const first = await r.apply(ctx(), kube.planFile);
    kube.double.editOutOfBand(WEB, (o) => {
      (o['spec'] as Record<string, unknown>)['replicas'] = 5;
    });
    await project({ 'app.yaml': `${deployment(2)}---\n${configMap('b')}` });

    const outcome = await plan(r, ctx({ previouslyApplied: first.remember ?? [] }));
    expect(outcome).toMatchObject({ result: 'changes', summary: { add: 0, change: 2, destroy: 0 } });
    expect(outcome.objects).toEqual([
      { ref: SETTINGS, action: '~' },
      { ref: WEB, action: '~', conflict: 'Apply failed with 1 conflict: conflict with "kubectl-edit" using apps/v1: .spec.replicas' },
    ]);
    expect(outcome.diff).toMatch(/^-  replicas: 5$/m);
    expect(outcome.diff).toMatch(/^\+  replicas: 2$/m);
    expect(outcome.diff).toMatch(/^\+  mode: b$/m);
    expect(outcome.warnings?.[0]).toContain('--force-conflicts');

    const applied = await r.apply(ctx(), kube.planFile);
    expect(applied.result).toBe('error');
    expect(applied.output).toContain('Apply failed with 1 conflict: conflict with "kubectl-edit" using apps/v1: .spec.replicas');
    expect(applied.output).toContain('Field-manager conflict: not forced.');
    expect(spec(WEB)).toMatchObject({ replicas: 5 });
  });

  it('takes a kind the cluster serves as cluster-scoped out of the project namespace, so no change of it prunes the object', async () => {
    kube.double.registerGroup({ group: 'cert-manager.io', version: 'v1', resources: [{ kind: 'ClusterIssuer', plural: 'clusterissuers', namespaced: false }] });
    const issuer = (email: string): string => `apiVersion: cert-manager.io/v1\nkind: ClusterIssuer\nmetadata:\n  name: letsencrypt\nspec:\n  acme:\n    email: ${email}\n`;
    const ref = { apiVersion: 'cert-manager.io/v1', kind: 'ClusterIssuer', namespace: null, name: 'letsencrypt' };
    await project({ 'issuer.yaml': issuer('old@example.com') });
    const r = runner();
    // The project namespace does not exist: nothing in this bundle lives in it, so no warning.
    const first = await plan(r, ctx(), 'platform');
    expect(actions(first)).toEqual(['+ ClusterIssuer /letsencrypt']);
    expect(first.warnings).toEqual([]);
    const applied = await r.apply(ctx(), kube.planFile);
    expect(applied).toMatchObject({ result: 'applied', remember: [ref] });
    expect(kube.double.get(ref)).not.toBeNull();

    // The project namespace changes; the object is the same one, changed, and nothing is pruned.
    await project({ 'issuer.yaml': issuer('new@example.com') });
    const next = await plan(r, ctx({ previouslyApplied: [{ ...ref, namespace: 'platform' }] }), 'infra');
    expect(actions(next)).toEqual(['~ ClusterIssuer /letsencrypt']);
    expect(next.diff).toMatch(/^\+\s+email: new@example.com$/m);
    const again = await r.apply(ctx({ previouslyApplied: [{ ...ref, namespace: 'platform' }] }), kube.planFile);
    expect(again).toMatchObject({ result: 'applied', pruned: [] });
    expect((kube.double.get(ref)?.['spec'] as { acme: { email: string } }).acme.email).toBe('new@example.com');
  });

  it('still plans a custom kind when one API group\'s discovery fails, as kubectl itself would', async () => {
    await kube.double.close();
    kube.double = await startKubernetesDouble({ token: kube.TOKEN, deny: (r) => r.path.startsWith('/apis/metrics.k8s.io') });
    kube.double.kubeconfig(kube.kubeconfig);
    kube.double.registerGroup({ group: 'metrics.k8s.io', version: 'v1beta1', resources: [{ kind: 'NodeMetrics', plural: 'nodes', namespaced: false }] });
    kube.double.registerGroup({ group: 'example.com', version: 'v1', resources: [{ kind: 'Widget', plural: 'widgets', namespaced: true }] });
    await project({ 'widget.yaml': 'apiVersion: example.com/v1\nkind: Widget\nmetadata:\n  name: w1\nspec:\n  size: 1\n' });
    const outcome = await plan(runner(), ctx(), 'default');
    expect(outcome.result).toBe('changes');
    expect(actions(outcome)).toEqual(['+ Widget default/w1']);
  });

  it('plans and applies a timestamp-like value exactly as written in Git', async () => {
    await project({ 'cm.yaml': 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: stamps\ndata:\n  at: 2001-12-14t21:59:43.10-05:00\n' });
    const r = runner();
    const outcome = await plan(r);
    expect(outcome.diff).toMatch(/^\+\s+at: "?2001-12-14t21:59:43\.10-05:00"?$/m);
    expect(outcome.diff).not.toContain('{}');
    expect((await r.apply(ctx(), kube.planFile)).result).toBe('applied');
    const live = kube.double.get({ apiVersion: 'v1', kind: 'ConfigMap', namespace: 'default', name: 'stamps' });
    expect(live?.['data']).toEqual({ at: '2001-12-14t21:59:43.10-05:00' });
  });

  it('shows drift in a field nobody else took over as a plain ~', async () => {
    await project({ 'app.yaml': deployment(2) });
    const r = runner();
    await plan(r);
    await r.apply(ctx(), kube.planFile);
    kube.double.editOutOfBand(WEB, (o) => {
      delete (o['metadata'] as Record<string, unknown>)['labels'];
    });
    const outcome = await plan(r);
    expect(outcome.objects).toEqual([{ ref: WEB, action: '~' }]);
    expect(outcome.warnings).toEqual([]);
    expect(outcome.diff).toMatch(/^\+  labels:$/m);
  });

  it('forces a conflict only when the server allows it and the commenter asks', async () => {
    await project({ 'app.yaml': deployment(2) });
    const r = runner();
    await plan(r);
    await r.apply(ctx(), kube.planFile);
    kube.double.editOutOfBand(WEB, (o) => {
      (o['spec'] as Record<string, unknown>)['replicas'] = 5;
    });
    const asked = ctx({ extraArgs: ['--force-conflicts'] });
    const refused = await r.apply(asked, kube.planFile);
    expect(refused).toMatchObject({ result: 'error', exitCode: -1 });
    expect(refused.output).toContain('--force-conflicts is not allowed');
    expect((await plan(r, asked)).result).toBe('error');

    const allowed = ctx({ extraArgs: ['--force-conflicts'], allowForceConflicts: true });
    const forcedPlan = await plan(r, allowed);
    expect(forcedPlan.objects).toEqual([{ ref: WEB, action: '~' }]);
    expect((await r.apply(allowed, kube.planFile)).result).toBe('applied');
    expect(spec(WEB)).toMatchObject({ replicas: 2 });
  });

  it('reports a kubectl error (an unknown kind) as an error with kubectl\'s message', async () => {
    await project({ 'widget.yaml': 'apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w}\nspec: {size: 1}\n' });
    await mkdir(path.dirname(kube.planFile), { recursive: true });
    await writeFile(kube.planFile, 'an old plan that must not survive');
    const outcome = await plan(runner());
    expect(outcome).toMatchObject({ result: 'error', summary: null, exitCode: 2 });
    expect(outcome.output).toMatch(/^kubectl diff failed with exit code 2:/);
    expect(outcome.output).toContain('no matches for kind "Widget" in version "example.com/v1"');
    expect(outcome.planFile).toBeUndefined();
    expect(await exists(kube.planFile)).toBe(false);

    kube.double.registerGroup({ group: 'example.com', version: 'v1', resources: [{ kind: 'Widget', plural: 'widgets', namespaced: true }] });
    expect(actions(await plan(runner()))).toEqual(['+ Widget default/w']);
  });

  it('plans and applies a kustomize overlay', async () => {
    await project({
      'base/kustomization.yaml': 'resources: [app.yaml]\n',
      'base/app.yaml': `${deployment(1, 'nginx:1.25')}---\n${SERVICE}`,
    }, path.join(kube.tmp, 'repo'));
    await project({ 'kustomization.yaml': 'resources: [../base]\nnamePrefix: prod-\nimages:\n  - name: nginx\n    newTag: "1.27"\n' });
    const r = runner();
    const outcome = await plan(r);
    expect(actions(outcome)).toEqual(['+ Service default/prod-web', '+ Deployment default/prod-web']);
    expect(outcome.diff).toContain('image: nginx:1.27');
    expect((await r.apply(ctx(), kube.planFile)).result).toBe('applied');
    const live = kube.double.get({ ...WEB, name: 'prod-web' });
    expect(JSON.stringify(live?.['spec'])).toContain('"image":"nginx:1.27"');
  });

  it('uses kubectl\'s default kubeconfig (KUBECONFIG of the base env) when the project names none', async () => {
    await project({ 'app.yaml': configMap('a') });
    const outcome = await plan(runner({ KUBECONFIG: kube.kubeconfig }), ctx({ kubeconfig: null }));
    expect(actions(outcome)).toEqual(['+ ConfigMap default/settings']);
  });

  it.each([['--kubeconfig=/tmp/other'], ['--server=https://example.com'], ['--context=prod'], ['-n'], ['--prune'], ['--field-manager=me']])(
    'refuses the extra argument %s before running kubectl',
    async (arg) => {
      await project({ 'app.yaml': configMap('a') });
      const outcome = await plan(runner(), ctx({ extraArgs: [arg] }));
      expect(outcome).toMatchObject({ result: 'error', exitCode: -1 });
      expect(outcome.output).toContain('is not allowed for kubernetes projects');
      expect(kube.double.requests).toEqual([]);
    },
  );

  it('stops kubectl when the server shuts down (the run\'s signal is aborted)', async () => {
    await project({ 'app.yaml': configMap('a') });
    const controller = new AbortController();
    controller.abort();
    const outcome = await plan(runner(), ctx({ signal: controller.signal }));
    expect(outcome.result).toBe('error');
    expect(outcome.output).toContain('was stopped: the server is shutting down');
  });

  it('refuses to apply without a plan', async () => {
    const applied = await runner().apply(ctx(), kube.planFile);
    expect(applied).toMatchObject({ result: 'error', exitCode: -1 });
    expect(applied.output).toContain('not found: run plan first');
  });
});
