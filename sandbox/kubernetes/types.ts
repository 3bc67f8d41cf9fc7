// Public contract of the Kubernetes double. Tests, the demo and benchmarks depend on these names.

/** A JSON object as the API server stores and serves it. */
export type KubeObject = Record<string, unknown>;

/** Which object: `apiVersion` picks the group (its version is not part of the identity). */
export interface ObjectRef {
  apiVersion: string;
  kind: string;
  /** null for cluster-scoped objects. */
  namespace: string | null;
  name: string;
}

/** One resource type of an API group, as legacy discovery lists it. */
export interface ResourceDefinition {
  kind: string;
  /** e.g. `deployments`: the URL segment. */
  plural: string;
  namespaced: boolean;
  /** Default: kind in lower case. */
  singular?: string;
  shortNames?: string[];
}

/** An API group version to serve, e.g. a CRD's `example.com/v1`. */
export interface GroupDefinition {
  /** `''` is the core group (`/api/v1`); a group name otherwise (`/apis/<group>/<version>`). */
  group: string;
  version: string;
  resources: ResourceDefinition[];
}

/** One request the double answered, in arrival order. */
export interface RecordedRequest {
  method: string;
  /** Path without the query string. */
  path: string;
  query: Record<string, string>;
  contentType: string | null;
  userAgent: string | null;
  status: number;
}

export interface KubernetesDoubleOptions {
  /** Bearer token every request but `/version` and health checks must carry; none when unset. */
  token?: string;
  /** RBAC stand-in: requests it returns true for are answered 403 Forbidden. */
  deny?: (request: { method: string; path: string }) => boolean;
}

export interface KubeconfigOptions {
  /** Default namespace of the kubeconfig's context. */
  namespace?: string;
}

export interface ApplyOptions {
  fieldManager: string;
  force?: boolean;
}

export interface KubernetesDouble {
  /** `https://127.0.0.1:<port>`. */
  readonly url: string;
  /** PEM of the double's self-signed certificate (its own CA), for clients other than kubectl. */
  readonly ca: string;
  readonly token: string | null;
  /** Every request answered so far (a live array). */
  readonly requests: readonly RecordedRequest[];
  /** Writes a kubeconfig (mode 0600) whose current context points at the double. */
  kubeconfig(path: string, opts?: KubeconfigOptions): void;
  /** A copy of the stored object, managedFields included; null when absent. */
  get(ref: ObjectRef): KubeObject | null;
  /** Copies of all stored objects (of one kind when given), by namespace then name. */
  list(kind?: string): KubeObject[];
  /**
   * Changes an object as `kubectl edit` would: an Update by field manager `kubectl-edit`, so
   * the fields it changes move to that manager; a new resourceVersion when something changed.
   * Throws when the object does not exist or `mutate` changes its identity.
   */
  editOutOfBand(ref: ObjectRef, mutate: (object: KubeObject) => void): KubeObject;
  /** Server-side apply from the test's side (e.g. another controller owning a field). */
  apply(object: KubeObject, opts: ApplyOptions): KubeObject;
  /** Serves another group version (a CRD's), in discovery and on its object URLs. */
  registerGroup(definition: GroupDefinition): void;
  close(): Promise<void>;
}
