// Which kinds are cluster-scoped, as the cluster says. Rendering knows the built-in kinds and
// those whose CustomResourceDefinition is in the same bundle; any other kind (a ClusterIssuer,
// a ClusterPolicy, installed by someone else) was given the project namespace like a namespaced
// one. That namespace is then part of its identity: a changed project namespace makes the same
// object look like a new one plus a prune of the "old" one, which deletes it; and a missing
// namespace is reported for an object that lives in none. Before a plan or an apply, kinds of
// groups beyond the built-in ones are looked up (`kubectl api-resources --namespaced=false`),
// and objects of cluster-scoped kinds lose their namespace everywhere: bundle, prune lists, claims.

import { kubectl, type KubectlCall } from './kubernetes-kubectl.js';
import { bundleOf, groupOf, type RenderedBundle } from './manifests.js';
import type { ObjectRef } from './types.js';

/** API groups of Kubernetes itself: CLUSTER_SCOPED_KINDS already says which of their kinds are cluster-scoped. */
const BUILTIN_GROUPS: ReadonlySet<string> = new Set([
  '', 'apps', 'batch', 'autoscaling', 'policy', 'networking.k8s.io', 'rbac.authorization.k8s.io', 'storage.k8s.io',
  'scheduling.k8s.io', 'coordination.k8s.io', 'discovery.k8s.io', 'admissionregistration.k8s.io', 'apiextensions.k8s.io',
  'certificates.k8s.io', 'node.k8s.io', 'flowcontrol.apiserver.k8s.io', 'events.k8s.io', 'apiregistration.k8s.io',
  'resource.k8s.io', 'storagemigration.k8s.io', 'internal.apiserver.k8s.io', 'authentication.k8s.io', 'authorization.k8s.io',
]);

function groupKind(ref: Pick<ObjectRef, 'apiVersion' | 'kind'>): string {
  return `${groupOf(ref.apiVersion)}/${ref.kind}`;
}

/** `group/Kind` of every cluster-scoped kind the cluster serves, from `kubectl api-resources`. */
export function parseApiResources(stdout: string): Set<string> {
  const kinds = new Set<string>();
  for (const line of stdout.split('\n')) {
    // NAME [SHORTNAMES] APIVERSION NAMESPACED KIND
    const words = line.trim().split(/\s+/);
    if (words.length < 4 || words[words.length - 2] !== 'false') continue;
    kinds.add(groupKind({ apiVersion: words[words.length - 3] as string, kind: words[words.length - 1] as string }));
  }
  return kinds;
}

/**
 * Null when every ref is of a built-in group (nothing to ask the cluster), or when the cluster
 * listed nothing: then objects keep the scope the render gave them, as before this lookup.
 * kubectl exits 1 when one API group's discovery fails (an aggregated API such as
 * metrics.k8s.io that is down) yet prints every other group: that partial list is used.
 */
export async function clusterScopedKinds(call: KubectlCall, refs: readonly ObjectRef[], timeoutMs: number): Promise<Set<string> | null> {
  if (refs.every((ref) => BUILTIN_GROUPS.has(groupOf(ref.apiVersion)))) return null;
  const listed = await kubectl(call, ['api-resources', '--namespaced=false', '--no-headers'], { timeoutMs });
  const kinds = parseApiResources(listed.stdout);
  return kinds.size === 0 ? null : kinds;
}

export function rescopeRef(ref: ObjectRef, clusterKinds: ReadonlySet<string> | null): ObjectRef {
  if (clusterKinds === null || ref.namespace === null || !clusterKinds.has(groupKind(ref))) return ref;
  return { ...ref, namespace: null };
}

export function rescopeRefs(refs: readonly ObjectRef[], clusterKinds: ReadonlySet<string> | null): ObjectRef[] {
  return refs.map((ref) => rescopeRef(ref, clusterKinds));
}

/** The bundle with cluster-scoped objects out of any namespace (the same bundle when none moved). */
export function rescopeBundle(bundle: RenderedBundle, clusterKinds: ReadonlySet<string> | null): RenderedBundle {
  if (clusterKinds === null) return bundle;
  let moved = false;
  const objects = bundle.objects.map((o) => {
    const ref = rescopeRef(o.ref, clusterKinds);
    if (ref === o.ref) return o;
    moved = true;
    const metadata = { ...(o.object['metadata'] as Record<string, unknown>) };
    delete metadata['namespace'];
    return { ...o, ref, object: { ...o.object, metadata } };
  });
  return moved ? bundleOf(objects) : bundle;
}
