// Composition of the Kubernetes double: a self-signed certificate, the object store, the HTTPS
// server, and the test-facing API (kubeconfig, get, list, editOutOfBand, apply, registerGroup).

import { writeFileSync } from 'node:fs';
import { stringify } from 'yaml';
import { clone, isObject, type JsonObject } from './fields.js';
import { createRegistry, registerGroup, resourceByKind } from './resources.js';
import { startServer } from './server.js';
import { ApiError } from './status.js';
import { applyObject, createStore, editObject, findByRef, render, sortedObjects } from './store.js';
import { selfSignedCertificate } from './tls.js';
import type { KubeObject, KubernetesDouble, KubernetesDoubleOptions, RecordedRequest } from './types.js';

const NAME = 'tideline-kubernetes-double';

export async function startKubernetesDouble(opts: KubernetesDoubleOptions = {}): Promise<KubernetesDouble> {
  const tls = selfSignedCertificate(NAME);
  const state = createStore(createRegistry());
  const requests: RecordedRequest[] = [];
  const token = opts.token ?? null;
  const server = await startServer({ state, token, deny: opts.deny ?? null, requests, tls });

  return {
    url: server.url,
    ca: tls.cert,
    token,
    requests,

    kubeconfig(path, options) {
      const context: JsonObject = { cluster: NAME, user: NAME };
      if (options?.namespace !== undefined) context['namespace'] = options.namespace;
      const config = {
        apiVersion: 'v1',
        kind: 'Config',
        clusters: [
          {
            name: NAME,
            cluster: { server: server.url, 'certificate-authority-data': Buffer.from(tls.cert).toString('base64') },
          },
        ],
        // A user with no credentials at all makes kubectl prompt for a username on stdin, which
        // in automation is an immediate `error: EOF`; without a required token any token does.
        users: [{ name: NAME, user: { token: token ?? 'anonymous' } }],
        contexts: [{ name: NAME, context }],
        'current-context': NAME,
        preferences: {},
      };
      writeFileSync(path, stringify(config), { mode: 0o600 });
    },

    get(ref) {
      const stored = findByRef(state, ref);
      return stored === null ? null : render(stored);
    },

    list(kind) {
      return sortedObjects(state)
        .filter((s) => kind === undefined || s.resource.kind === kind)
        .map(render);
    },

    editOutOfBand(ref, mutate) {
      return editObject(state, ref, (object) => mutate(object as KubeObject));
    },

    apply(object, options) {
      const apiVersion = object['apiVersion'];
      const kind = object['kind'];
      const metadata = isObject(object['metadata']) ? object['metadata'] : {};
      if (typeof apiVersion !== 'string' || typeof kind !== 'string' || typeof metadata['name'] !== 'string') {
        throw new Error('apply: the object needs apiVersion, kind and metadata.name');
      }
      const resource = resourceByKind(state.registry, apiVersion, kind);
      if (resource === null) throw new Error(`apply: no resource serves ${apiVersion} ${kind}`);
      const namespace = resource.namespaced ? String(metadata['namespace'] ?? 'default') : null;
      try {
        const result = applyObject(state, { resource, namespace, name: metadata['name'] }, clone(object), {
          fieldManager: options.fieldManager,
          force: options.force ?? false,
          dryRun: false,
        });
        return result.object;
      } catch (error: unknown) {
        if (error instanceof ApiError) throw new Error(`apply: ${error.code} ${error.reason}: ${error.message}`);
        throw error;
      }
    },

    registerGroup(definition) {
      registerGroup(state.registry, definition);
    },

    close: () => server.close(),
  };
}
