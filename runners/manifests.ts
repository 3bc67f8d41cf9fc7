// Kubernetes manifests as text → validated objects → the rendered bundle. Pure: no files, no
// processes. YAML is read as kubectl reads it (YAML 1.1: `yes` is a boolean) and written back so
// that kubectl reads the same values (YAML 1.1 quoting), multi-document, one object per document.

import { createHash } from 'node:crypto';
import { LineCounter, parseAllDocuments, stringify, type Tags } from 'yaml';
import type { ObjectRef } from './types.js';

export type { ObjectRef } from './types.js';

/** Something wrong with the manifests, found before anything touches a cluster. */
export interface ManifestProblem {
  /** Path relative to the project dir (`/`-separated). */
  file: string;
  /** 1-based line, when known. */
  line?: number;
  /** 0-based index of the YAML document in the file. */
  documentIndex?: number;
  message: string;
}

export interface ManifestObject {
  ref: ObjectRef;
  file: string;
  documentIndex: number;
  object: Record<string, unknown>;
}

export interface RenderedBundle {
  /** Every object, one YAML document each: what `kubectl apply -f` gets. */
  yaml: string;
  /** sha256 (hex) of `yaml`. */
  sha256: string;
  objects: ManifestObject[];
}

/** A document as read, before validation. */
export interface ParsedDocument {
  file: string;
  documentIndex: number;
  /** 1-based line where the document starts. */
  line: number;
  value: Record<string, unknown>;
}

/** Built-in cluster-scoped kinds, as `group/Kind` (`/Namespace` for the core group). */
export const CLUSTER_SCOPED_KINDS: ReadonlySet<string> = new Set([
  '/Namespace', '/Node', '/PersistentVolume', '/ComponentStatus',
  'rbac.authorization.k8s.io/ClusterRole', 'rbac.authorization.k8s.io/ClusterRoleBinding',
  'apiextensions.k8s.io/CustomResourceDefinition',
  'apiregistration.k8s.io/APIService',
  'storage.k8s.io/StorageClass', 'storage.k8s.io/CSIDriver', 'storage.k8s.io/CSINode',
  'storage.k8s.io/VolumeAttachment', 'storage.k8s.io/VolumeAttributesClass',
  'scheduling.k8s.io/PriorityClass',
  'networking.k8s.io/IngressClass', 'networking.k8s.io/IPAddress', 'networking.k8s.io/ServiceCIDR',
  'node.k8s.io/RuntimeClass',
  'admissionregistration.k8s.io/MutatingWebhookConfiguration',
  'admissionregistration.k8s.io/ValidatingWebhookConfiguration',
  'admissionregistration.k8s.io/ValidatingAdmissionPolicy',
  'admissionregistration.k8s.io/ValidatingAdmissionPolicyBinding',
  'admissionregistration.k8s.io/MutatingAdmissionPolicy',
  'admissionregistration.k8s.io/MutatingAdmissionPolicyBinding',
  'certificates.k8s.io/CertificateSigningRequest', 'certificates.k8s.io/ClusterTrustBundle',
  'flowcontrol.apiserver.k8s.io/FlowSchema', 'flowcontrol.apiserver.k8s.io/PriorityLevelConfiguration',
  'policy/PodSecurityPolicy',
  'resource.k8s.io/DeviceClass', 'resource.k8s.io/ResourceSlice',
]);

/** Apply order (kustomize's legacy order): what others depend on goes first. */
const FIRST_KINDS = [
  'Namespace', 'ResourceQuota', 'StorageClass', 'CustomResourceDefinition', 'ServiceAccount',
  'PodSecurityPolicy', 'Role', 'ClusterRole', 'RoleBinding', 'ClusterRoleBinding', 'ConfigMap',
  'Secret', 'Endpoints', 'Service', 'LimitRange', 'PriorityClass', 'PersistentVolume',
  'PersistentVolumeClaim', 'Deployment', 'StatefulSet', 'CronJob', 'PodDisruptionBudget',
];
const LAST_KINDS = ['MutatingWebhookConfiguration', 'ValidatingWebhookConfiguration'];

const YAML_VERSION = '1.1';

/**
 * How manifests and kubectl's diff files are read: YAML 1.1 as kubectl reads it, except that a
 * timestamp-like scalar stays the string it is (kubectl's YAML-to-JSON keeps it verbatim; the
 * 1.1 timestamp tag would turn it into a Date, shown as `{}` and applied reformatted).
 */
export const READ_YAML = {
  version: YAML_VERSION,
  customTags: (tags: Tags): Tags => tags.filter((tag) => typeof tag === 'string' || tag.tag !== 'tag:yaml.org,2002:timestamp'),
} as const;
/** A namespace name (an RFC 1123 label), as the API server requires it. */
const NAMESPACE_NAME = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;

export function isNamespaceName(name: string): boolean {
  return NAMESPACE_NAME.test(name);
}

function namespaceProblem(name: string): string {
  return `${JSON.stringify(name)} is not a valid namespace name: use at most 63 lower-case letters, digits and "-", starting and ending with a letter or digit`;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** `apps/v1` → `apps`; `v1` → `` (core). */
export function groupOf(apiVersion: string): string {
  const slash = apiVersion.indexOf('/');
  return slash < 0 ? '' : apiVersion.slice(0, slash);
}

/** Identity of an object: group, kind, namespace, name (the version is not part of it). */
export function refKey(ref: ObjectRef): string {
  return [groupOf(ref.apiVersion), ref.kind, ref.namespace ?? '', ref.name].join('/');
}

/** `apps/v1 Deployment shop/web`, `v1 Namespace shop` */
export function formatRef(ref: ObjectRef): string {
  const where = ref.namespace === null ? ref.name : `${ref.namespace}/${ref.name}`;
  return `${ref.apiVersion} ${ref.kind} ${where}`;
}

/** `deploy/app.yaml:12 (document 2): message`; document numbers are 1-based for people. */
export function formatManifestProblem(problem: ManifestProblem): string {
  const line = problem.line === undefined ? '' : `:${problem.line}`;
  const doc = problem.documentIndex === undefined ? '' : ` (document ${problem.documentIndex + 1})`;
  return `${problem.file}${line}${doc}: ${problem.message}`;
}

/** The message of a yaml error without its position suffix and source excerpt (which may
 * quote a secret); the position is reported separately. */
function yamlMessage(message: string): string {
  const first = message.split('\n')[0] ?? message;
  return first.replace(/ at line \d+, column \d+:?$/, '');
}

/**
 * Every document of one file. Empty documents (only comments, or a trailing `---`) are skipped;
 * a `kind: List` document is expanded into its items. Syntax errors name file and line.
 */
export function parseManifestText(file: string, text: string): { documents: ParsedDocument[]; problems: ManifestProblem[] } {
  const lineCounter = new LineCounter();
  const documents: ParsedDocument[] = [];
  const problems: ManifestProblem[] = [];
  // An empty stream is an empty array too.
  const parsed = parseAllDocuments(text, { ...READ_YAML, lineCounter, prettyErrors: true });
  for (const [documentIndex, doc] of parsed.entries()) {
    // The first line of content (not the `---` before it).
    const line = lineCounter.linePos(doc.contents?.range[0] ?? doc.range[0]).line;
    if (doc.errors.length > 0) {
      for (const error of doc.errors) {
        const at = error.linePos?.[0];
        problems.push({
          file,
          ...(at === undefined ? {} : { line: at.line }),
          documentIndex,
          message: `invalid YAML: ${yamlMessage(error.message)}${at === undefined ? '' : ` (column ${at.col})`}`,
        });
      }
      continue;
    }
    let value: unknown;
    try {
      value = doc.toJS({ maxAliasCount: 100 });
    } catch (error: unknown) {
      problems.push({ file, line, documentIndex, message: `invalid YAML: ${error instanceof Error ? error.message : String(error)}` });
      continue;
    }
    if (value === null || value === undefined) continue;
    if (!isRecord(value)) {
      const found = Array.isArray(value) ? 'a sequence' : `a ${typeof value}`;
      problems.push({ file, line, documentIndex, message: `the document is ${found}, not a Kubernetes object (a mapping)` });
      continue;
    }
    if (value['kind'] === 'List' && Array.isArray(value['items'])) {
      for (const item of value['items']) {
        if (isRecord(item)) documents.push({ file, documentIndex, line, value: item });
        else problems.push({ file, line, documentIndex, message: 'an item of this List is not a Kubernetes object (a mapping)' });
      }
      continue;
    }
    documents.push({ file, documentIndex, line, value });
  }
  return { documents, problems };
}

/** `group/Kind` of the cluster-scoped kinds the CRDs among `documents` declare. */
function declaredClusterKinds(documents: readonly ParsedDocument[]): Set<string> {
  const kinds = new Set<string>();
  for (const { value } of documents) {
    if (value['kind'] !== 'CustomResourceDefinition' || !isRecord(value['spec'])) continue;
    const spec = value['spec'];
    const names = spec['names'];
    if (spec['scope'] === 'Cluster' && typeof spec['group'] === 'string' && isRecord(names) && typeof names['kind'] === 'string') {
      kinds.add(`${spec['group']}/${names['kind']}`);
    }
  }
  return kinds;
}

function describeMissing(value: Record<string, unknown>): string[] {
  const missing: string[] = [];
  if (typeof value['apiVersion'] !== 'string' || value['apiVersion'] === '') missing.push('apiVersion');
  if (typeof value['kind'] !== 'string' || value['kind'] === '') missing.push('kind');
  const metadata = value['metadata'];
  if (!isRecord(metadata) || typeof metadata['name'] !== 'string' || metadata['name'] === '') missing.push('metadata.name');
  return missing;
}

/** The problem of a document without apiVersion, kind or metadata.name, by file and document; else null. */
export function identityProblem(doc: ParsedDocument): ManifestProblem | null {
  const missing = describeMissing(doc.value);
  if (missing.length === 0) return null;
  const generate = isRecord(doc.value['metadata']) && doc.value['metadata']['generateName'] !== undefined;
  const hint = generate && missing.includes('metadata.name') ? ' (generateName is not supported: apply needs a fixed name)' : '';
  return { file: doc.file, line: doc.line, documentIndex: doc.documentIndex, message: `the object has no ${missing.join(', ')}${hint}` };
}

/**
 * Validates documents and makes them objects: apiVersion, kind and metadata.name present;
 * `namespace` given to namespaced objects without one (cluster-scoped kinds, built-in or
 * declared by a CRD in the same documents, stay unnamespaced); no object declared twice.
 */
export function checkDocuments(
  documents: readonly ParsedDocument[],
  opts: { namespace?: string },
): { objects: ManifestObject[]; problems: ManifestProblem[] } {
  const problems: ManifestProblem[] = [];
  const objects: ManifestObject[] = [];
  if (opts.namespace !== undefined && !isNamespaceName(opts.namespace)) {
    return { objects, problems: [{ file: '.', message: `the project namespace ${namespaceProblem(opts.namespace)}` }] };
  }
  const clusterKinds = declaredClusterKinds(documents);
  const seen = new Map<string, ManifestObject>();
  for (const doc of documents) {
    const at = { file: doc.file, line: doc.line, documentIndex: doc.documentIndex };
    const unnamed = identityProblem(doc);
    if (unnamed !== null) {
      problems.push(unnamed);
      continue;
    }
    const apiVersion = doc.value['apiVersion'] as string;
    const kind = doc.value['kind'] as string;
    const metadata = { ...(doc.value['metadata'] as Record<string, unknown>) };
    const name = metadata['name'] as string;
    if (metadata['namespace'] !== undefined && (typeof metadata['namespace'] !== 'string' || !isNamespaceName(metadata['namespace']))) {
      const text = typeof metadata['namespace'] === 'string' ? namespaceProblem(metadata['namespace']) : 'must be a string';
      problems.push({ ...at, message: `metadata.namespace ${text}` });
      continue;
    }
    const groupKind = `${groupOf(apiVersion)}/${kind}`;
    const clusterScoped = CLUSTER_SCOPED_KINDS.has(groupKind) || clusterKinds.has(groupKind);
    let namespace: string | null = null;
    if (!clusterScoped) {
      namespace = (metadata['namespace'] as string | undefined) ?? opts.namespace ?? null;
      if (metadata['namespace'] === undefined && namespace !== null) metadata['namespace'] = namespace;
    }
    const object: ManifestObject = {
      ref: { apiVersion, kind, namespace, name },
      file: doc.file,
      documentIndex: doc.documentIndex,
      object: { ...doc.value, metadata },
    };
    const key = refKey(object.ref);
    const first = seen.get(key);
    if (first !== undefined) {
      problems.push({
        ...at,
        message:
          `${kind} ${namespace === null ? name : `${namespace}/${name}`} is declared twice: ` +
          `${first.file} (document ${first.documentIndex + 1}) and ${doc.file} (document ${doc.documentIndex + 1})`,
      });
      continue;
    }
    seen.set(key, object);
    objects.push(object);
  }
  return { objects, problems };
}

function kindRank(kind: string): number {
  const first = FIRST_KINDS.indexOf(kind);
  if (first >= 0) return first;
  const last = LAST_KINDS.indexOf(kind);
  return last >= 0 ? FIRST_KINDS.length + 1 + last : FIRST_KINDS.length;
}

/** One object as a YAML document kubectl reads back to the same values. */
export function objectYaml(object: unknown): string {
  return stringify(object, { version: YAML_VERSION, lineWidth: 0 });
}

/** The objects in apply order (stable), as one multi-document YAML with its sha256. */
export function bundleOf(objects: readonly ManifestObject[]): RenderedBundle {
  const ordered = objects
    .map((object, index) => ({ object, index }))
    .sort((a, b) => kindRank(a.object.ref.kind) - kindRank(b.object.ref.kind) || a.index - b.index)
    .map(({ object }) => object);
  const yaml = documentsYaml(ordered.map((o) => o.object));
  return { yaml, sha256: sha256(yaml), objects: ordered };
}

export function documentsYaml(objects: readonly unknown[]): string {
  return objects.map((object) => `---\n${objectYaml(object)}`).join('');
}

export function sha256(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

/**
 * Reads a bundle back (a plan file): its objects with their refs, as `renderBundle` made them.
 * Namespaces are taken as written (the bundle already carries the project namespace).
 */
export function parseBundle(yaml: string, file: string): { objects: ManifestObject[]; problems: ManifestProblem[] } {
  const { documents, problems } = parseManifestText(file, yaml);
  if (problems.length > 0) return { objects: [], problems };
  const checked = checkDocuments(documents, {});
  return { objects: checked.objects, problems: checked.problems };
}
