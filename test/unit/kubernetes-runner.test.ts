// KubernetesRunner with the real kubectl against the Kubernetes double.
//
// `kubectl` on PATH here is the Google Cloud SDK's dispatcher (/usr/bin/kubectl →
// /usr/lib/google-cloud-sdk/bin/kubectl): it asks the server's GET /version (without
// credentials) and runs the matching build; the double answers 1.32, so every request after
// that comes from kubectl 1.32 (the dispatcher's own 1.32.4; the versioned builds
// kubectl.1.27 … kubectl.1.33 sit beside it). That is what production runs by default
// (TIDELINE_KUBECTL_BIN=kubectl), so the tests drive it too, and check it picked 1.32.
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { KubernetesRunner, renderBundle, type KubeRunContext, type RenderedBundle } from '../../runners/kubernetes.js';
import { SecretMasker } from '../../runners/secrets.js';
import type { ObjectRef, PlanOutcome } from '../../runners/types.js';
import { startKubernetesDouble, type KubernetesDouble } from '../../sandbox/kubernetes/index.js';

const KUBECTL = 'kubectl';
const TOKEN = 'k8s-double-token-4711';

let tmp = '';
let projectDir = '';
let kubeconfig = '';
let planFile = '';
let double: KubernetesDouble;

beforeEach(async () => {
  tmp = await mkdtemp(path.join(tmpdir(), 'tideline-k8s-'));
  projectDir = path.join(tmp, 'repo', 'k8s');
  await mkdir(projectDir, { recursive: true });
  double = await startKubernetesDouble({ token: TOKEN });
  kubeconfig = path.join(tmp, 'kubeconfig');
  double.kubeconfig(kubeconfig);
  planFile = path.join(tmp, 'plans', 'k8s.yaml');
});

afterEach(async () => {
  await double.close();
  await rm(tmp, { recursive: true, force: true });
});

function runner(extraEnv: Record<string, string> = {}): KubernetesRunner {
  const masker = new SecretMasker();
  masker.add(TOKEN);
  return new KubernetesRunner({
    bin: KUBECTL,
    exec: { baseEnv: { PATH: process.env.PATH ?? '', HOME: path.join(tmp, 'home'), ...extraEnv }, masker },
    cacheRoot: path.join(tmp, 'cache'),
  });
}

function ctx(extra: Partial<KubeRunContext> = {}): KubeRunContext {
  return {
    projectDir,
    workspace: 'default',
    extraArgs: [],
    kubeconfig,
    fieldManager: 'tideline',
    prune: true,
    previouslyApplied: [],
    allowForceConflicts: false,
    ...extra,
  };
}

/** Writes (string) or deletes (null) project files. */
async function project(files: Record<string, string | null>, dir = projectDir): Promise<void> {
  for (const [name, text] of Object.entries(files)) {
    const file = path.join(dir, name);
    if (text === null) {
      await rm(file, { force: true });
      continue;
    }
    await mkdir(path.dirname(file), { recursive: true });
    await writeFile(file, text);
  }
}

async function bundle(namespace: string | undefined = 'default'): Promise<RenderedBundle> {
  const exec = { baseEnv: { PATH: process.env.PATH ?? '', HOME: path.join(tmp, 'home') }, masker: new SecretMasker() };
  const result = await renderBundle(exec, KUBECTL, projectDir, namespace === undefined ? {} : { namespace });
  if (!result.ok) throw new Error(JSON.stringify(result.problems));
  return result.bundle;
}

async function plan(r: KubernetesRunner, c: KubeRunContext = ctx(), namespace?: string): Promise<PlanOutcome> {
  return r.plan(c, planFile, await bundle(namespace));
}

function deployment(replicas: number, image = 'nginx:1.27'): string {
  return [
    'apiVersion: apps/v1', 'kind: Deployment', 'metadata:', '  name: web', '  labels: {app: web}', 'spec:',
    `  replicas: ${replicas}`, '  selector:', '    matchLabels: {app: web}', '  template:', '    metadata:',
    '      labels: {app: web}', '    spec:', '      containers:', '        - name: web', `          image: ${image}`,
    '          ports: [{containerPort: 80}]', '',
  ].join('\n');
}

const SERVICE = 'apiVersion: v1\nkind: Service\nmetadata:\n  name: web\nspec:\n  selector: {app: web}\n  ports: [{port: 80, targetPort: 80}]\n';
const configMap = (value: string): string => `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\ndata:\n  mode: "${value}"\n`;

const WEB: ObjectRef = { apiVersion: 'apps/v1', kind: 'Deployment', namespace: 'default', name: 'web' };
const SETTINGS: ObjectRef = { apiVersion: 'v1', kind: 'ConfigMap', namespace: 'default', name: 'settings' };

function actions(outcome: PlanOutcome): string[] {
  return (outcome.objects ?? []).map((o) => `${o.action} ${o.ref.kind} ${o.ref.namespace ?? ''}/${o.ref.name}`);
}

function spec(ref: ObjectRef): Record<string, unknown> {
  return (double.get(ref)?.['spec'] ?? {}) as Record<string, unknown>;
}

async function exists(file: string): Promise<boolean> {
  return stat(file).then(() => true, () => false);
}

describe('KubernetesRunner plan and apply', () => {
  it('runs kubectl 1.32 chosen by the /version answer, with legacy discovery and a fresh cache dir per run', async () => {
    await project({ 'app.yaml': deployment(2) });
    const outcome = await plan(runner());
    expect(outcome.result).toBe('changes');

    const agents = new Set(double.requests.map((r) => r.userAgent ?? ''));
    expect(double.requests[0]).toMatchObject({ method: 'GET', path: '/version' });
    for (const agent of agents) expect(agent).toMatch(/^kubectl(-dispatcher)?\/v1\.(0|32\.\d+) /);
    const paths = new Set(double.requests.map((r) => r.path));
    for (const p of ['/api', '/apis', '/api/v1', '/apis/apps/v1']) expect(paths).toContain(p);
    expect([...paths].some((p) => p.startsWith('/openapi'))).toBe(false);
    // Every run's cache dir is gone after it; nothing was cached under HOME.
    expect(await readdir(path.join(tmp, 'cache'))).toEqual([]);
    expect(await exists(path.join(tmp, 'home', '.kube'))).toBe(false);
  });

  it('plans a new Deployment and Service as two creates, applies exactly them, then plans no changes', async () => {
    await project({ 'app.yaml': `${deployment(2)}---\n${SERVICE}` });
    const r = runner();
    const rendered = await bundle();
    const first = await r.plan(ctx(), planFile, rendered);
    expect(first).toMatchObject({ result: 'changes', summary: { add: 2, change: 0, destroy: 0 }, exitCode: 1, planFile });
    expect(actions(first)).toEqual(['+ Service default/web', '+ Deployment default/web']);
    expect(first.output).toContain('Plan: 2 to add, 0 to change, 0 to destroy.');
    expect(first.diff).toContain('+++ merged/apps.v1.Deployment.default.web');
    expect(first.diff).toContain('+  replicas: 2');
    expect(await readFile(planFile, 'utf8')).toBe(rendered.yaml);
    expect(first.bundleSha256).toBe(rendered.sha256);
    expect(double.list('Deployment')).toEqual([]);

    const applied = await r.apply(ctx(), planFile);
    expect(applied).toMatchObject({ result: 'applied', exitCode: 0, bundleSha256: rendered.sha256 });
    expect(applied.output).toContain('deployment.apps/web serverside-applied');
    expect(applied.applied?.map((ref) => ref.kind)).toEqual(['Service', 'Deployment']);
    expect(applied.remember).toEqual(applied.applied);
    const live = double.get(WEB);
    expect(live?.['spec']).toMatchObject({ replicas: 2 });
    const managers = (live?.['metadata'] as { managedFields: { manager: string }[] }).managedFields;
    expect(managers.map((m) => m.manager)).toEqual(['tideline']);
    const rv = (live?.['metadata'] as { resourceVersion: string }).resourceVersion;

    const again = await r.plan(ctx({ previouslyApplied: applied.remember ?? [] }), planFile, rendered);
    expect(again).toMatchObject({ result: 'no-changes', summary: { add: 0, change: 0, destroy: 0 }, exitCode: 0, diff: '' });
    expect(actions(again)).toEqual(['= Service default/web', '= Deployment default/web']);
    expect(again.output).toContain('No changes.');
    expect((double.get(WEB)?.['metadata'] as { resourceVersion: string }).resourceVersion).toBe(rv);
  });

  it('shows a changed replica count as ~ with a unified diff, and applies it', async () => {
    await project({ 'app.yaml': `${deployment(2)}---\n${SERVICE}` });
    const r = runner();
    await plan(r);
    const first = await r.apply(ctx(), planFile);

    await project({ 'app.yaml': `${deployment(3)}---\n${SERVICE}` });
    const outcome = await plan(r, ctx({ previouslyApplied: first.remember ?? [] }));
    expect(outcome).toMatchObject({ result: 'changes', summary: { add: 0, change: 1, destroy: 0 } });
    expect(actions(outcome)).toEqual(['= Service default/web', '~ Deployment default/web']);
    expect(outcome.diff).toContain('--- live/apps.v1.Deployment.default.web\n+++ merged/apps.v1.Deployment.default.web\n@@ ');
    expect(outcome.diff).toMatch(/^-  replicas: 2$/m);
    expect(outcome.diff).toMatch(/^\+  replicas: 3$/m);
    expect(outcome.diff).not.toContain('resourceVersion');
    expect(outcome.diff).not.toContain('managedFields');
    expect(outcome.output).toContain(outcome.diff);

    expect((await r.apply(ctx(), planFile)).result).toBe('applied');
    expect(spec(WEB)).toMatchObject({ replicas: 3 });
  });

  it('applies the planned bundle, not the manifests as they are at apply time', async () => {
    await project({ 'app.yaml': deployment(2) });
    const r = runner();
    await plan(r);
    await project({ 'app.yaml': deployment(9) });
    expect((await r.apply(ctx(), planFile)).result).toBe('applied');
    expect(spec(WEB)).toMatchObject({ replicas: 2 });
  });

  it('shows an object removed from the manifests as a prune, and deletes it on apply', async () => {
    await project({ 'app.yaml': deployment(2), 'settings.yaml': configMap('a') });
    const r = runner();
    await plan(r);
    const first = await r.apply(ctx(), planFile);
    expect(first.remember).toContainEqual(SETTINGS);

    await project({ 'settings.yaml': null });
    const outcome = await plan(r, ctx({ previouslyApplied: first.remember ?? [] }));
    expect(outcome).toMatchObject({ result: 'changes', summary: { add: 0, change: 0, destroy: 1 } });
    expect(actions(outcome)).toEqual(['= Deployment default/web', '- ConfigMap default/settings']);
    expect(outcome.output).toContain('- v1 ConfigMap default/settings  (prune: no longer in Git)');
    expect(outcome.diff).toContain('--- live/v1.ConfigMap.default.settings');
    expect(outcome.diff).toMatch(/^-  mode: a$/m);
    expect(double.get(SETTINGS)).not.toBeNull();

    const applied = await r.apply(ctx({ previouslyApplied: first.remember ?? [] }), planFile);
    expect(applied.result).toBe('applied');
    expect(applied.output).toContain('configmap "settings" deleted');
    expect(applied.pruned).toEqual([SETTINGS]);
    expect(applied.remember).toEqual([WEB]);
    expect(double.get(SETTINGS)).toBeNull();
    expect(double.get(WEB)).not.toBeNull();
  });

  it('leaves removed objects alone when prune is off, and keeps remembering them', async () => {
    await project({ 'app.yaml': deployment(2), 'settings.yaml': configMap('a') });
    const r = runner();
    await plan(r);
    const first = await r.apply(ctx(), planFile);
    await project({ 'settings.yaml': null });
    const noPrune = ctx({ prune: false, previouslyApplied: first.remember ?? [] });
    const outcome = await plan(r, noPrune);
    expect(outcome.result).toBe('no-changes');
    expect(outcome.warnings).toEqual([expect.stringContaining('not pruned (prune is off): v1 ConfigMap default/settings')]);
    const applied = await r.apply(noPrune, planFile);
    expect(applied.pruned).toEqual([]);
    expect(applied.remember).toContainEqual(SETTINGS);
    expect(double.get(SETTINGS)).not.toBeNull();
  });

  it('does not prune an object that another field manager has taken over', async () => {
    await project({ 'app.yaml': deployment(2), 'settings.yaml': configMap('a') });
    const r = runner();
    await plan(r);
    const first = await r.apply(ctx(), planFile);
    double.apply({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'settings', namespace: 'default' }, data: { mode: 'theirs' } }, {
      fieldManager: 'other-team', force: true,
    });
    await project({ 'settings.yaml': null });
    const outcome = await plan(r, ctx({ previouslyApplied: first.remember ?? [] }));
    expect(actions(outcome)).toEqual(['= Deployment default/web']);
    expect(outcome.warnings).toEqual(['v1 ConfigMap default/settings is no longer managed by field manager "tideline": not pruned']);
    const applied = await r.apply(ctx({ previouslyApplied: first.remember ?? [] }), planFile);
    expect(applied.pruned).toEqual([]);
    expect(applied.remember).toEqual([WEB]);
    expect(double.get(SETTINGS)).not.toBeNull();
  });

  it('never shows the values of a Secret, created or changed', async () => {
    const secret = (password: string): string =>
      [
        'apiVersion: v1', 'kind: Secret', 'metadata: {name: creds}', 'type: Opaque',
        `data: {token: ${Buffer.from(`${password}-token`).toString('base64')}}`, `stringData: {password: ${password}}`, '',
      ].join('\n');
    const values = (password: string): string[] => [
      password, Buffer.from(password).toString('base64'), `${password}-token`, Buffer.from(`${password}-token`).toString('base64'),
    ];
    await project({ 'secret.yaml': secret('hunter2-first-value') });
    const r = runner();
    const created = await plan(r);
    expect(actions(created)).toEqual(['+ Secret default/creds']);
    for (const value of values('hunter2-first-value')) {
      expect(created.output).not.toContain(value);
      expect(created.diff).not.toContain(value);
    }
    expect(created.diff).toContain('+  password: "***"');
    const applied = await r.apply(ctx(), planFile);
    expect(applied.output).not.toContain('hunter2-first-value');

    await project({ 'secret.yaml': secret('hunter2-second-value') });
    const changed = await plan(r, ctx({ previouslyApplied: applied.remember ?? [] }));
    expect(actions(changed)).toEqual(['~ Secret default/creds']);
    for (const value of [...values('hunter2-first-value'), ...values('hunter2-second-value')]) {
      expect(changed.output).not.toContain(value);
    }
    expect(changed.diff).toContain('-  password: "*** (before)"');
    expect(changed.diff).toContain('+  password: "*** (after)"');
  });

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
    expect(double.requests.filter((r) => r.path.includes('/namespaces/shop/') && r.method === 'PATCH')).toEqual([]);

    const applied = await r.apply(ctx(), planFile);
    expect(applied.result).toBe('applied');
    expect(double.get({ ...WEB, namespace: 'shop' })).not.toBeNull();
    expect(double.list('Secret').map((s) => (s['metadata'] as { namespace: string }).namespace)).toEqual(['shop']);
  });

  it('lets the server decide when the identity may not read namespaces', async () => {
    await double.close();
    double = await startKubernetesDouble({ token: TOKEN, deny: (r) => r.method === 'GET' && r.path.startsWith('/api/v1/namespaces/') && r.path.split('/').length === 5 });
    double.kubeconfig(kubeconfig);
    await project({ 'app.yaml': configMap('a') });
    const outcome = await plan(runner());
    expect(double.requests.some((r) => r.status === 403)).toBe(true);
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
    const first = await r.apply(ctx(), planFile);
    double.editOutOfBand(WEB, (o) => {
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

    const applied = await r.apply(ctx(), planFile);
    expect(applied.result).toBe('error');
    expect(applied.output).toContain('Apply failed with 1 conflict: conflict with "kubectl-edit" using apps/v1: .spec.replicas');
    expect(applied.output).toContain('Field-manager conflict: not forced.');
    expect(spec(WEB)).toMatchObject({ replicas: 5 });
  });

  it('shows drift in a field nobody else took over as a plain ~', async () => {
    await project({ 'app.yaml': deployment(2) });
    const r = runner();
    await plan(r);
    await r.apply(ctx(), planFile);
    double.editOutOfBand(WEB, (o) => {
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
    await r.apply(ctx(), planFile);
    double.editOutOfBand(WEB, (o) => {
      (o['spec'] as Record<string, unknown>)['replicas'] = 5;
    });
    const asked = ctx({ extraArgs: ['--force-conflicts'] });
    const refused = await r.apply(asked, planFile);
    expect(refused).toMatchObject({ result: 'error', exitCode: -1 });
    expect(refused.output).toContain('--force-conflicts is not allowed');
    expect((await plan(r, asked)).result).toBe('error');

    const allowed = ctx({ extraArgs: ['--force-conflicts'], allowForceConflicts: true });
    const forcedPlan = await plan(r, allowed);
    expect(forcedPlan.objects).toEqual([{ ref: WEB, action: '~' }]);
    expect((await r.apply(allowed, planFile)).result).toBe('applied');
    expect(spec(WEB)).toMatchObject({ replicas: 2 });
  });

  it('reports a kubectl error (an unknown kind) as an error with kubectl\'s message', async () => {
    await project({ 'widget.yaml': 'apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w}\nspec: {size: 1}\n' });
    await mkdir(path.dirname(planFile), { recursive: true });
    await writeFile(planFile, 'an old plan that must not survive');
    const outcome = await plan(runner());
    expect(outcome).toMatchObject({ result: 'error', summary: null, exitCode: 2 });
    expect(outcome.output).toMatch(/^kubectl diff failed with exit code 2:/);
    expect(outcome.output).toContain('no matches for kind "Widget" in version "example.com/v1"');
    expect(outcome.planFile).toBeUndefined();
    expect(await exists(planFile)).toBe(false);

    double.registerGroup({ group: 'example.com', version: 'v1', resources: [{ kind: 'Widget', plural: 'widgets', namespaced: true }] });
    expect(actions(await plan(runner()))).toEqual(['+ Widget default/w']);
  });

  it('plans and applies a kustomize overlay', async () => {
    await project({
      'base/kustomization.yaml': 'resources: [app.yaml]\n',
      'base/app.yaml': `${deployment(1, 'nginx:1.25')}---\n${SERVICE}`,
    }, path.join(tmp, 'repo'));
    await project({ 'kustomization.yaml': 'resources: [../base]\nnamePrefix: prod-\nimages:\n  - name: nginx\n    newTag: "1.27"\n' });
    const r = runner();
    const outcome = await plan(r);
    expect(actions(outcome)).toEqual(['+ Service default/prod-web', '+ Deployment default/prod-web']);
    expect(outcome.diff).toContain('image: nginx:1.27');
    expect((await r.apply(ctx(), planFile)).result).toBe('applied');
    const live = double.get({ ...WEB, name: 'prod-web' });
    expect(JSON.stringify(live?.['spec'])).toContain('"image":"nginx:1.27"');
  });

  it('uses kubectl\'s default kubeconfig (KUBECONFIG of the base env) when the project names none', async () => {
    await project({ 'app.yaml': configMap('a') });
    const outcome = await plan(runner({ KUBECONFIG: kubeconfig }), ctx({ kubeconfig: null }));
    expect(actions(outcome)).toEqual(['+ ConfigMap default/settings']);
  });

  it.each([['--kubeconfig=/tmp/other'], ['--server=https://example.com'], ['--context=prod'], ['-n'], ['--prune'], ['--field-manager=me']])(
    'refuses the extra argument %s before running kubectl',
    async (arg) => {
      await project({ 'app.yaml': configMap('a') });
      const outcome = await plan(runner(), ctx({ extraArgs: [arg] }));
      expect(outcome).toMatchObject({ result: 'error', exitCode: -1 });
      expect(outcome.output).toContain('is not allowed for kubernetes projects');
      expect(double.requests).toEqual([]);
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
    const applied = await runner().apply(ctx(), planFile);
    expect(applied).toMatchObject({ result: 'error', exitCode: -1 });
    expect(applied.output).toContain('not found: run plan first');
  });
});
