// KubernetesRunner plan and apply against the Kubernetes double: the kubectl version and discovery
// it uses, creates, changes, the planned bundle, pruning (on, off, taken over) and Secret masking.
// The shared set-up, and why the tests drive `kubectl` on PATH, is in ../support/kube-runner-fixture.ts.

import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { useKubeRunnerFixture } from '../support/kube-runner-fixture.js';

const kube = useKubeRunnerFixture();
const { runner, ctx, project, bundle, plan, deployment, SERVICE, configMap, WEB, SETTINGS, actions, spec, exists } = kube;

describe('KubernetesRunner plan and apply', () => {
  it('runs kubectl 1.32 chosen by the /version answer, with legacy discovery and a fresh cache dir per run', async () => {
    await project({ 'app.yaml': deployment(2) });
    const outcome = await plan(runner());
    expect(outcome.result).toBe('changes');

    const agents = new Set(kube.double.requests.map((r) => r.userAgent ?? ''));
    expect(kube.double.requests[0]).toMatchObject({ method: 'GET', path: '/version' });
    for (const agent of agents) expect(agent).toMatch(/^kubectl(-dispatcher)?\/v1\.(0|32\.\d+) /);
    const paths = new Set(kube.double.requests.map((r) => r.path));
    for (const p of ['/api', '/apis', '/api/v1', '/apis/apps/v1']) expect(paths).toContain(p);
    expect([...paths].some((p) => p.startsWith('/openapi'))).toBe(false);
    // Every run's cache dir is gone after it; nothing was cached under HOME.
    expect(await readdir(path.join(kube.tmp, 'cache'))).toEqual([]);
    expect(await exists(path.join(kube.tmp, 'home', '.kube'))).toBe(false);
  });

  it('plans a new Deployment and Service as two creates, applies exactly them, then plans no changes', async () => {
    await project({ 'app.yaml': `${deployment(2)}---\n${SERVICE}` });
    const r = runner();
    const rendered = await bundle();
    const first = await r.plan(ctx(), kube.planFile, rendered);
    expect(first).toMatchObject({ result: 'changes', summary: { add: 2, change: 0, destroy: 0 }, exitCode: 1, planFile: kube.planFile });
    expect(actions(first)).toEqual(['+ Service default/web', '+ Deployment default/web']);
    expect(first.output).toContain('Plan: 2 to add, 0 to change, 0 to destroy.');
    expect(first.diff).toContain('+++ merged/apps.v1.Deployment.default.web');
    expect(first.diff).toContain('+  replicas: 2');
    expect(await readFile(kube.planFile, 'utf8')).toBe(rendered.yaml);
    expect(first.bundleSha256).toBe(rendered.sha256);
    expect(kube.double.list('Deployment')).toEqual([]);

    const applied = await r.apply(ctx(), kube.planFile);
    expect(applied).toMatchObject({ result: 'applied', exitCode: 0, bundleSha256: rendered.sha256 });
    expect(applied.output).toContain('deployment.apps/web serverside-applied');
    expect(applied.applied?.map((ref) => ref.kind)).toEqual(['Service', 'Deployment']);
    expect(applied.remember).toEqual(applied.applied);
    const live = kube.double.get(WEB);
    expect(live?.['spec']).toMatchObject({ replicas: 2 });
    const managers = (live?.['metadata'] as { managedFields: { manager: string }[] }).managedFields;
    expect(managers.map((m) => m.manager)).toEqual(['tideline']);
    const rv = (live?.['metadata'] as { resourceVersion: string }).resourceVersion;

    const again = await r.plan(ctx({ previouslyApplied: applied.remember ?? [] }), kube.planFile, rendered);
    expect(again).toMatchObject({ result: 'no-changes', summary: { add: 0, change: 0, destroy: 0 }, exitCode: 0, diff: '' });
    expect(actions(again)).toEqual(['= Service default/web', '= Deployment default/web']);
    expect(again.output).toContain('No changes.');
    expect((kube.double.get(WEB)?.['metadata'] as { resourceVersion: string }).resourceVersion).toBe(rv);
  });

  it('shows a changed replica count as ~ with a unified diff, and applies it', async () => {
    await project({ 'app.yaml': `${deployment(2)}---\n${SERVICE}` });
    const r = runner();
    await plan(r);
    const first = await r.apply(ctx(), kube.planFile);

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

    expect((await r.apply(ctx(), kube.planFile)).result).toBe('applied');
    expect(spec(WEB)).toMatchObject({ replicas: 3 });
  });

  it('applies the planned bundle, not the manifests as they are at apply time', async () => {
    await project({ 'app.yaml': deployment(2) });
    const r = runner();
    await plan(r);
    await project({ 'app.yaml': deployment(9) });
    expect((await r.apply(ctx(), kube.planFile)).result).toBe('applied');
    expect(spec(WEB)).toMatchObject({ replicas: 2 });
  });

  it('shows an object removed from the manifests as a prune, and deletes it on apply', async () => {
    await project({ 'app.yaml': deployment(2), 'settings.yaml': configMap('a') });
    const r = runner();
    await plan(r);
    const first = await r.apply(ctx(), kube.planFile);
    expect(first.remember).toContainEqual(SETTINGS);

    await project({ 'settings.yaml': null });
    const outcome = await plan(r, ctx({ previouslyApplied: first.remember ?? [] }));
    expect(outcome).toMatchObject({ result: 'changes', summary: { add: 0, change: 0, destroy: 1 } });
    expect(actions(outcome)).toEqual(['= Deployment default/web', '- ConfigMap default/settings']);
    expect(outcome.output).toContain('- v1 ConfigMap default/settings  (prune: no longer in Git)');
    expect(outcome.diff).toContain('--- live/v1.ConfigMap.default.settings');
    expect(outcome.diff).toMatch(/^-  mode: a$/m);
    expect(kube.double.get(SETTINGS)).not.toBeNull();

    const applied = await r.apply(ctx({ previouslyApplied: first.remember ?? [] }), kube.planFile);
    expect(applied.result).toBe('applied');
    expect(applied.output).toContain('configmap "settings" deleted');
    expect(applied.pruned).toEqual([SETTINGS]);
    expect(applied.remember).toEqual([WEB]);
    expect(kube.double.get(SETTINGS)).toBeNull();
    expect(kube.double.get(WEB)).not.toBeNull();
  });

  it('leaves removed objects alone when prune is off, and keeps remembering them', async () => {
    await project({ 'app.yaml': deployment(2), 'settings.yaml': configMap('a') });
    const r = runner();
    await plan(r);
    const first = await r.apply(ctx(), kube.planFile);
    await project({ 'settings.yaml': null });
    const noPrune = ctx({ prune: false, previouslyApplied: first.remember ?? [] });
    const outcome = await plan(r, noPrune);
    expect(outcome.result).toBe('no-changes');
    expect(outcome.warnings).toEqual([expect.stringContaining('not pruned (prune is off): v1 ConfigMap default/settings')]);
    const applied = await r.apply(noPrune, kube.planFile);
    expect(applied.pruned).toEqual([]);
    expect(applied.remember).toContainEqual(SETTINGS);
    expect(kube.double.get(SETTINGS)).not.toBeNull();
  });

  it('does not prune an object that another field manager has taken over', async () => {
    await project({ 'app.yaml': deployment(2), 'settings.yaml': configMap('a') });
    const r = runner();
    await plan(r);
    const first = await r.apply(ctx(), kube.planFile);
    kube.double.apply({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'settings', namespace: 'default' }, data: { mode: 'theirs' } }, {
      fieldManager: 'other-team', force: true,
    });
    await project({ 'settings.yaml': null });
    const outcome = await plan(r, ctx({ previouslyApplied: first.remember ?? [] }));
    expect(actions(outcome)).toEqual(['= Deployment default/web']);
    expect(outcome.warnings).toEqual(['v1 ConfigMap default/settings is no longer managed by field manager "tideline": not pruned']);
    const applied = await r.apply(ctx({ previouslyApplied: first.remember ?? [] }), kube.planFile);
    expect(applied.pruned).toEqual([]);
    expect(applied.remember).toEqual([WEB]);
    expect(kube.double.get(SETTINGS)).not.toBeNull();
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
    const applied = await r.apply(ctx(), kube.planFile);
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
});
