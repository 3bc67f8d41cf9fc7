// The double's API groups: the built-in ones kubectl needs for everyday manifests, plus whatever
// a test registers (a CRD's group). Answers legacy discovery (`/api`, `/apis`, `/api/v1`,
// `/apis/<g>/<v>`) and resolves object URLs and apiVersion/kind pairs to a resource.

import type { GroupDefinition, ResourceDefinition } from './types.js';

export interface ResolvedResource {
  group: string;
  version: string;
  kind: string;
  plural: string;
  namespaced: boolean;
  /** Built-in group: lists like `containers` merge by key; registered groups' lists are atomic. */
  builtIn: boolean;
}

export interface ResourceRegistry {
  /** group → version → resources. Insertion order is discovery order. */
  groups: Map<string, Map<string, ResourceDefinition[]>>;
  builtInGroups: Set<string>;
}

function ns(kind: string, plural: string, shortNames?: string[]): ResourceDefinition {
  return { kind, plural, namespaced: true, ...(shortNames === undefined ? {} : { shortNames }) };
}

function cluster(kind: string, plural: string, shortNames?: string[]): ResourceDefinition {
  return { kind, plural, namespaced: false, ...(shortNames === undefined ? {} : { shortNames }) };
}

const BUILT_IN: readonly GroupDefinition[] = [
  {
    group: '',
    version: 'v1',
    resources: [
      cluster('Namespace', 'namespaces', ['ns']),
      ns('ConfigMap', 'configmaps', ['cm']),
      ns('Secret', 'secrets'),
      ns('Service', 'services', ['svc']),
      ns('ServiceAccount', 'serviceaccounts', ['sa']),
      ns('Pod', 'pods', ['po']),
      ns('PersistentVolumeClaim', 'persistentvolumeclaims', ['pvc']),
      cluster('PersistentVolume', 'persistentvolumes', ['pv']),
      ns('ResourceQuota', 'resourcequotas', ['quota']),
      ns('LimitRange', 'limitranges', ['limits']),
      ns('Endpoints', 'endpoints', ['ep']),
      cluster('Node', 'nodes', ['no']),
    ],
  },
  {
    group: 'apps',
    version: 'v1',
    resources: [
      ns('Deployment', 'deployments', ['deploy']),
      ns('StatefulSet', 'statefulsets', ['sts']),
      ns('DaemonSet', 'daemonsets', ['ds']),
      ns('ReplicaSet', 'replicasets', ['rs']),
    ],
  },
  {
    group: 'networking.k8s.io',
    version: 'v1',
    resources: [
      ns('Ingress', 'ingresses', ['ing']),
      ns('NetworkPolicy', 'networkpolicies', ['netpol']),
      cluster('IngressClass', 'ingressclasses'),
    ],
  },
  {
    group: 'batch',
    version: 'v1',
    resources: [ns('Job', 'jobs'), ns('CronJob', 'cronjobs', ['cj'])],
  },
];

export function createRegistry(): ResourceRegistry {
  const registry: ResourceRegistry = { groups: new Map(), builtInGroups: new Set() };
  for (const definition of BUILT_IN) {
    registerGroup(registry, definition);
    registry.builtInGroups.add(definition.group);
  }
  return registry;
}

export function registerGroup(registry: ResourceRegistry, definition: GroupDefinition): void {
  if (!/^[a-z0-9]([a-z0-9.-]*[a-z0-9])?$/.test(definition.group) && definition.group !== '') {
    throw new Error(`registerGroup: invalid group name ${JSON.stringify(definition.group)}`);
  }
  if (!/^v[0-9]+((alpha|beta)[0-9]+)?$/.test(definition.version)) {
    throw new Error(`registerGroup: invalid version ${JSON.stringify(definition.version)}`);
  }
  const versions = registry.groups.get(definition.group) ?? new Map<string, ResourceDefinition[]>();
  const resources = versions.get(definition.version) ?? [];
  for (const resource of definition.resources) {
    const at = resources.findIndex((r) => r.plural === resource.plural);
    if (at >= 0) resources[at] = { ...resource };
    else resources.push({ ...resource });
  }
  versions.set(definition.version, resources);
  registry.groups.set(definition.group, versions);
}

function resolved(registry: ResourceRegistry, group: string, version: string, r: ResourceDefinition): ResolvedResource {
  return {
    group,
    version,
    kind: r.kind,
    plural: r.plural,
    namespaced: r.namespaced,
    builtIn: registry.builtInGroups.has(group),
  };
}

export function resourceByPlural(
  registry: ResourceRegistry,
  group: string,
  version: string,
  plural: string,
): ResolvedResource | null {
  const r = registry.groups.get(group)?.get(version)?.find((x) => x.plural === plural);
  return r === undefined ? null : resolved(registry, group, version, r);
}

/** `apps/v1` → { group: 'apps', version: 'v1' }; `v1` → core. */
export function splitApiVersion(apiVersion: string): { group: string; version: string } {
  const slash = apiVersion.indexOf('/');
  if (slash < 0) return { group: '', version: apiVersion };
  return { group: apiVersion.slice(0, slash), version: apiVersion.slice(slash + 1) };
}

export function resourceByKind(registry: ResourceRegistry, apiVersion: string, kind: string): ResolvedResource | null {
  const { group, version } = splitApiVersion(apiVersion);
  const r = registry.groups.get(group)?.get(version)?.find((x) => x.kind === kind);
  return r === undefined ? null : resolved(registry, group, version, r);
}

/** Any version of `group` that serves `kind` (objects are stored once per group, kind). */
export function resourceByGroupKind(registry: ResourceRegistry, group: string, kind: string): ResolvedResource | null {
  for (const [version, resources] of registry.groups.get(group) ?? []) {
    const r = resources.find((x) => x.kind === kind);
    if (r !== undefined) return resolved(registry, group, version, r);
  }
  return null;
}

export function groupVersion(group: string, version: string): string {
  return group === '' ? version : `${group}/${version}`;
}

const VERBS = ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'];

/** `GET /api` */
export function apiVersions(serverAddress: string): Record<string, unknown> {
  return {
    kind: 'APIVersions',
    versions: ['v1'],
    serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress }],
  };
}

function apiGroup(group: string, versions: Map<string, ResourceDefinition[]>): Record<string, unknown> {
  const list = [...versions.keys()].map((v) => ({ groupVersion: `${group}/${v}`, version: v }));
  return { kind: 'APIGroup', apiVersion: 'v1', name: group, versions: list, preferredVersion: list[0] };
}

/** `GET /apis` */
export function apiGroupList(registry: ResourceRegistry): Record<string, unknown> {
  const groups = [...registry.groups].filter(([group]) => group !== '').map(([group, versions]) => {
    const { kind: _kind, apiVersion: _apiVersion, ...rest } = apiGroup(group, versions);
    return rest;
  });
  return { kind: 'APIGroupList', apiVersion: 'v1', groups };
}

/** `GET /apis/<group>` */
export function apiGroupDocument(registry: ResourceRegistry, group: string): Record<string, unknown> | null {
  const versions = registry.groups.get(group);
  return group === '' || versions === undefined ? null : apiGroup(group, versions);
}

/** `GET /api/v1`, `GET /apis/<group>/<version>` */
export function apiResourceList(registry: ResourceRegistry, group: string, version: string): Record<string, unknown> | null {
  const resources = registry.groups.get(group)?.get(version);
  if (resources === undefined) return null;
  return {
    kind: 'APIResourceList',
    apiVersion: 'v1',
    groupVersion: groupVersion(group, version),
    resources: resources.map((r) => ({
      name: r.plural,
      singularName: r.singular ?? r.kind.toLowerCase(),
      namespaced: r.namespaced,
      kind: r.kind,
      verbs: VERBS,
      ...(r.shortNames === undefined ? {} : { shortNames: r.shortNames }),
    })),
  };
}
