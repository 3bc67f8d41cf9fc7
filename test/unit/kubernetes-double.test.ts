// The Kubernetes double speaks the API server's protocol: checked here over HTTPS, request by
// request, the way kubectl talks to it (the runner tests drive it with the real kubectl).
import { X509Certificate } from 'node:crypto';
import { request } from 'node:https';
import { createSecureContext } from 'node:tls';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startKubernetesDouble, type KubernetesDouble } from '../../sandbox/kubernetes/index.js';
import { selfSignedCertificate } from '../../sandbox/kubernetes/tls.js';

const TOKEN = 'double-token-0123456789';
let double: KubernetesDouble;

beforeEach(async () => {
  double = await startKubernetesDouble({ token: TOKEN });
});

afterEach(async () => {
  await double.close();
});

interface Answer {
  status: number;
  body: Record<string, unknown>;
}

function call(
  method: string,
  path: string,
  opts: { body?: unknown; contentType?: string; token?: string | null } = {},
): Promise<Answer> {
  const body = opts.body === undefined ? undefined : JSON.stringify(opts.body);
  const token = opts.token === undefined ? TOKEN : opts.token;
  return new Promise((resolve, reject) => {
    const req = request(
      `${double.url}${path}`,
      {
        method,
        ca: double.ca,
        headers: {
          Accept: 'application/json',
          ...(token === null ? {} : { Authorization: `Bearer ${token}` }),
          ...(body === undefined ? {} : { 'Content-Type': opts.contentType ?? 'application/apply-patch+yaml' }),
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let parsed: Record<string, unknown>;
          try {
            parsed = JSON.parse(text) as Record<string, unknown>;
          } catch {
            parsed = { text };
          }
          resolve({ status: res.statusCode ?? 0, body: parsed });
        });
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

const DEPLOYMENT_URL = '/apis/apps/v1/namespaces/default/deployments/web';

function deployment(replicas: number, image = 'nginx:1.27'): Record<string, unknown> {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'web', labels: { app: 'web' } },
    spec: {
      replicas,
      selector: { matchLabels: { app: 'web' } },
      template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'web', image }] } },
    },
  };
}

function apply(url: string, body: unknown, query = 'fieldManager=tideline'): Promise<Answer> {
  return call('PATCH', `${url}?${query}`, { body });
}

function meta(answer: Answer): Record<string, unknown> {
  return answer.body['metadata'] as Record<string, unknown>;
}

describe('Kubernetes double: TLS', () => {
  it('makes a valid self-signed certificate for 127.0.0.1 every time (DER integers stay minimal)', () => {
    for (let i = 0; i < 1_000; i += 1) {
      const { cert, key } = selfSignedCertificate('tideline-kubernetes-double');
      const x509 = new X509Certificate(cert);
      expect(x509.ca).toBe(true);
      expect(x509.checkIP('127.0.0.1')).toBe('127.0.0.1');
      expect(x509.verify(x509.publicKey)).toBe(true);
      expect(() => createSecureContext({ cert, key })).not.toThrow();
    }
  });
});

describe('Kubernetes double: discovery and auth', () => {
  it('answers /version with 1.32 without a token, and everything else only with it', async () => {
    const version = await call('GET', '/version', { token: null });
    expect(version).toMatchObject({ status: 200, body: { major: '1', minor: '32' } });
    expect(await call('GET', '/api', { token: null })).toMatchObject({ status: 401, body: { kind: 'Status', reason: 'Unauthorized' } });
    expect((await call('GET', '/api', { token: 'wrong-token' })).status).toBe(401);
    expect(await call('GET', '/api')).toMatchObject({ status: 200, body: { kind: 'APIVersions', versions: ['v1'] } });
  });

  it('serves legacy discovery for v1, apps/v1, networking.k8s.io/v1, batch/v1 and registered groups', async () => {
    const groups = (await call('GET', '/apis')).body['groups'] as { name: string; preferredVersion: { groupVersion: string } }[];
    expect(groups.map((g) => g.preferredVersion.groupVersion)).toEqual(['apps/v1', 'networking.k8s.io/v1', 'batch/v1']);
    const core = (await call('GET', '/api/v1')).body;
    expect(core['kind']).toBe('APIResourceList');
    const resources = core['resources'] as { name: string; kind: string; namespaced: boolean }[];
    expect(resources).toContainEqual(expect.objectContaining({ name: 'namespaces', kind: 'Namespace', namespaced: false }));
    expect(resources).toContainEqual(expect.objectContaining({ name: 'secrets', kind: 'Secret', namespaced: true }));
    expect((await call('GET', '/apis/batch/v1')).body['groupVersion']).toBe('batch/v1');
    expect((await call('GET', '/apis/example.com/v1')).status).toBe(404);

    double.registerGroup({ group: 'example.com', version: 'v1', resources: [{ kind: 'Widget', plural: 'widgets', namespaced: true }] });
    expect((await call('GET', '/apis')).body['groups']).toContainEqual(expect.objectContaining({ name: 'example.com' }));
    const widgets = await call('GET', '/apis/example.com/v1');
    expect(widgets.body['resources']).toEqual([expect.objectContaining({ name: 'widgets', kind: 'Widget', singularName: 'widget' })]);
    const created = await apply('/apis/example.com/v1/namespaces/default/widgets/w1', {
      apiVersion: 'example.com/v1', kind: 'Widget', metadata: { name: 'w1' }, spec: { size: 3 },
    });
    expect(created.status).toBe(201);
  });

  it('has no OpenAPI documents, like a server kubectl must not validate against', async () => {
    expect((await call('GET', '/openapi/v3')).status).toBe(404);
    expect((await call('GET', '/openapi/v2')).status).toBe(404);
  });
});

describe('Kubernetes double: server-side apply', () => {
  it('creates with 201, keeps resourceVersion on a no-op, changes it on a real change', async () => {
    const created = await apply(DEPLOYMENT_URL, deployment(2));
    expect(created.status).toBe(201);
    const rv = meta(created)['resourceVersion'];
    expect(typeof rv).toBe('string');
    expect(meta(created)['managedFields']).toEqual([expect.objectContaining({ manager: 'tideline', operation: 'Apply' })]);

    const again = await apply(DEPLOYMENT_URL, deployment(2));
    expect(again.status).toBe(200);
    expect(meta(again)['resourceVersion']).toBe(rv);

    const changed = await apply(DEPLOYMENT_URL, deployment(3));
    expect(meta(changed)['resourceVersion']).not.toBe(rv);
    expect(meta(changed)['generation']).toBe(2);
    expect((await call('GET', DEPLOYMENT_URL)).body['spec']).toMatchObject({ replicas: 3 });
  });

  it('answers a dry run with the merged object and stores nothing', async () => {
    const dry = await apply(DEPLOYMENT_URL, deployment(2), 'fieldManager=tideline&dryRun=All&force=false');
    expect(dry.status).toBe(201);
    expect(dry.body['spec']).toMatchObject({ replicas: 2 });
    expect((await call('GET', DEPLOYMENT_URL)).status).toBe(404);

    const rv = meta(await apply(DEPLOYMENT_URL, deployment(2)))['resourceVersion'];
    const dryChange = await apply(DEPLOYMENT_URL, deployment(5), 'fieldManager=tideline&dryRun=All');
    expect(dryChange.body['spec']).toMatchObject({ replicas: 5 });
    expect(meta(dryChange)['resourceVersion']).toBe(rv);
    expect((await call('GET', DEPLOYMENT_URL)).body['spec']).toMatchObject({ replicas: 2 });
  });

  it('refuses a namespaced object whose namespace does not exist, also in a dry run', async () => {
    const url = '/api/v1/namespaces/shop/configmaps/settings';
    const body = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'settings' }, data: { a: '1' } };
    for (const query of ['fieldManager=tideline', 'fieldManager=tideline&dryRun=All']) {
      const answer = await apply(url, body, query);
      expect(answer).toMatchObject({
        status: 404,
        body: { kind: 'Status', reason: 'NotFound', message: 'namespaces "shop" not found', details: { name: 'shop', kind: 'namespaces' } },
      });
    }
    await apply('/api/v1/namespaces/shop', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'shop' } });
    expect((await apply(url, body)).status).toBe(201);
  });

  it('reports a field-manager conflict as a 409 Status with causes unless forced', async () => {
    await apply(DEPLOYMENT_URL, deployment(2));
    const edited = double.editOutOfBand({ apiVersion: 'apps/v1', kind: 'Deployment', namespace: 'default', name: 'web' }, (o) => {
      (o['spec'] as Record<string, unknown>)['replicas'] = 5;
    });
    const managers = (edited['metadata'] as { managedFields: { manager: string; operation: string }[] }).managedFields;
    expect(managers.map((m) => `${m.manager}/${m.operation}`)).toEqual(['tideline/Apply', 'kubectl-edit/Update']);

    const refused = await apply(DEPLOYMENT_URL, deployment(2), 'fieldManager=tideline&force=false');
    expect(refused).toMatchObject({
      status: 409,
      body: {
        kind: 'Status',
        reason: 'Conflict',
        message: 'Apply failed with 1 conflict: conflict with "kubectl-edit" using apps/v1: .spec.replicas',
        details: { causes: [{ reason: 'FieldManagerConflict', message: 'conflict with "kubectl-edit" using apps/v1', field: '.spec.replicas' }] },
      },
    });
    expect((await call('GET', DEPLOYMENT_URL)).body['spec']).toMatchObject({ replicas: 5 });

    // Applying the live value co-owns it: no conflict.
    expect((await apply(DEPLOYMENT_URL, deployment(5))).status).toBe(200);
    const forced = await apply(DEPLOYMENT_URL, deployment(2), 'fieldManager=tideline&force=true');
    expect(forced.status).toBe(200);
    expect(forced.body['spec']).toMatchObject({ replicas: 2 });
  });

  it('names list items by key in conflicts', async () => {
    await apply(DEPLOYMENT_URL, deployment(2));
    double.apply({ ...deployment(2, 'nginx:1.28') }, { fieldManager: 'rollout-bot', force: true });
    const refused = await apply(DEPLOYMENT_URL, deployment(2, 'nginx:1.29'));
    expect(refused.status).toBe(409);
    expect(refused.body['message']).toBe(
      'Apply failed with 1 conflict: conflict with "rollout-bot": .spec.template.spec.containers[name="web"].image',
    );
  });

  it('removes fields its manager stopped applying, but not fields another manager owns', async () => {
    const withLabels = deployment(2);
    (withLabels['metadata'] as Record<string, unknown>)['labels'] = { app: 'web', team: 'shop' };
    await apply(DEPLOYMENT_URL, withLabels);
    double.apply(
      { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web', namespace: 'default', labels: { team: 'shop' } } },
      { fieldManager: 'labeller' },
    );
    const without = deployment(2);
    (without['metadata'] as Record<string, unknown>)['labels'] = {};
    (without['spec'] as Record<string, unknown>)['replicas'] = undefined;
    const answer = await apply(DEPLOYMENT_URL, JSON.parse(JSON.stringify(without)));
    expect(meta(answer)['labels']).toEqual({ team: 'shop' });
    expect(answer.body['spec']).not.toHaveProperty('replicas');
  });

  it('merges keyed lists item by item: a container dropped from the config goes, an empty map stays owned', async () => {
    const pod = (containers: string[]): Record<string, unknown> => {
      const d = deployment(1);
      const template = (d['spec'] as { template: { spec: Record<string, unknown> } }).template;
      template.spec = {
        containers: containers.map((name) => ({ name, image: `${name}:1`, volumeMounts: [{ name: 'cache', mountPath: '/cache' }] })),
        volumes: [{ name: 'cache', emptyDir: {} }],
      };
      return d;
    };
    await apply(DEPLOYMENT_URL, pod(['web', 'sidecar']));
    const answer = await apply(DEPLOYMENT_URL, pod(['web']));
    const podSpec = (answer.body['spec'] as { template: { spec: { containers: { name: string }[]; volumes: unknown[] } } }).template.spec;
    expect(podSpec.containers.map((c) => c.name)).toEqual(['web']);
    expect(podSpec.volumes).toEqual([{ name: 'cache', emptyDir: {} }]);
    const fields = JSON.stringify((meta(answer)['managedFields'] as { fieldsV1: unknown }[])[0]?.fieldsV1);
    expect(fields).toContain('"k:{\\"name\\":\\"cache\\"}":{".":{},"f:emptyDir":{},"f:name":{}}');
    expect(fields).not.toContain('sidecar');
  });

  it('turns a Secret\'s stringData into base64 data, as the real server does', async () => {
    const answer = await apply('/api/v1/namespaces/default/secrets/creds', {
      apiVersion: 'v1', kind: 'Secret', metadata: { name: 'creds' }, stringData: { password: 'hunter2' },
    });
    expect(answer.body).toMatchObject({ type: 'Opaque', data: { password: Buffer.from('hunter2').toString('base64') } });
    expect(answer.body).not.toHaveProperty('stringData');
  });

  it.each([
    ['no field manager', DEPLOYMENT_URL, deployment(1), '', 422, /fieldManager: Required value/],
    ['another name', DEPLOYMENT_URL, { ...deployment(1), metadata: { name: 'other' } }, 'fieldManager=t', 400, /does not match the name on the URL/],
    ['another kind', DEPLOYMENT_URL, { ...deployment(1), kind: 'StatefulSet' }, 'fieldManager=t', 400, /kind in the data/],
    ['an unknown resource', '/apis/apps/v1/namespaces/default/widgets/w', deployment(1), 'fieldManager=t', 404, /could not find the requested resource/],
  ])('refuses an apply with %s', async (_what, url, body, query, status, message) => {
    const answer = await apply(url, body, query);
    expect(answer.status).toBe(status);
    expect(answer.body['message']).toMatch(message);
  });
});

describe('Kubernetes double: get, list, delete', () => {
  it('lists by namespace and label, deletes, and deleting a namespace deletes what is in it', async () => {
    await apply('/api/v1/namespaces/shop', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'shop' } });
    const cm = (name: string, tier: string): Record<string, unknown> => ({
      apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, labels: { tier } }, data: { a: '1' },
    });
    await apply('/api/v1/namespaces/shop/configmaps/a', cm('a', 'web'));
    await apply('/api/v1/namespaces/shop/configmaps/b', cm('b', 'db'));
    await apply('/api/v1/namespaces/default/configmaps/c', cm('c', 'web'));

    const names = (answer: Answer): string[] =>
      (answer.body['items'] as { metadata: { name: string } }[]).map((i) => i.metadata.name);
    expect(names(await call('GET', '/api/v1/configmaps'))).toEqual(['c', 'a', 'b']);
    expect(names(await call('GET', '/api/v1/namespaces/shop/configmaps'))).toEqual(['a', 'b']);
    expect(names(await call('GET', '/api/v1/configmaps?labelSelector=tier%3Dweb'))).toEqual(['c', 'a']);
    expect((await call('GET', '/api/v1/namespaces/shop/configmaps')).body['kind']).toBe('ConfigMapList');

    const deleted = await call('DELETE', '/api/v1/namespaces/default/configmaps/c');
    expect(deleted).toMatchObject({ status: 200, body: { kind: 'Status', status: 'Success' } });
    expect((await call('GET', '/api/v1/namespaces/default/configmaps/c')).body).toMatchObject({
      reason: 'NotFound', message: 'configmaps "c" not found',
    });
    expect((await call('DELETE', '/api/v1/namespaces/default/configmaps/c')).status).toBe(404);

    await call('DELETE', '/api/v1/namespaces/shop');
    expect(double.list('ConfigMap')).toEqual([]);
    expect(double.get({ apiVersion: 'v1', kind: 'Namespace', namespace: null, name: 'shop' })).toBeNull();
    expect(double.list('Namespace').map((n) => (n['metadata'] as { name: string }).name)).toEqual([
      'default', 'kube-node-lease', 'kube-public', 'kube-system',
    ]);
  });

  it('records every request it answered', async () => {
    await call('GET', '/version', { token: null });
    await apply(DEPLOYMENT_URL, deployment(1), 'fieldManager=tideline&dryRun=All');
    expect(double.requests.map((r) => `${r.method} ${r.path} ${r.status}`)).toEqual([
      'GET /version 200',
      `PATCH ${DEPLOYMENT_URL} 201`,
    ]);
    expect(double.requests[1]).toMatchObject({ query: { dryRun: 'All', fieldManager: 'tideline' }, contentType: 'application/apply-patch+yaml' });
  });
});
