import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import {
  bundleOf,
  checkDocuments,
  formatManifestProblem,
  parseBundle,
  parseManifestText,
  refKey,
  sha256,
  type ManifestProblem,
  type ParsedDocument,
} from '../../runners/manifests.js';

function docs(file: string, text: string): ParsedDocument[] {
  const parsed = parseManifestText(file, text);
  expect(parsed.problems).toEqual([]);
  return parsed.documents;
}

function problemsOf(files: Record<string, string>, namespace?: string): ManifestProblem[] {
  const all: ParsedDocument[] = [];
  const problems: ManifestProblem[] = [];
  for (const [file, text] of Object.entries(files)) {
    const parsed = parseManifestText(file, text);
    all.push(...parsed.documents);
    problems.push(...parsed.problems);
  }
  if (problems.length > 0) return problems;
  return checkDocuments(all, namespace === undefined ? {} : { namespace }).problems;
}

const CONFIG_MAP = 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\ndata:\n  a: "1"\n';

describe('parseManifestText', () => {
  it('reads every document of a file, skipping empty ones, and expands a List', () => {
    const text = [
      '# leading comment only',
      '---',
      CONFIG_MAP,
      '---',
      'apiVersion: v1',
      'kind: List',
      'items:',
      '  - {apiVersion: v1, kind: Secret, metadata: {name: s1}}',
      '  - {apiVersion: v1, kind: Secret, metadata: {name: s2}}',
      '---',
      '',
    ].join('\n');
    const documents = docs('app.yaml', text);
    expect(documents.map((d) => [d.documentIndex, d.value['kind'], (d.value['metadata'] as { name: string }).name])).toEqual([
      [0, 'ConfigMap', 'settings'],
      [1, 'Secret', 's1'],
      [1, 'Secret', 's2'],
    ]);
    expect(documents.map((d) => d.line)).toEqual([3, 11, 11]);
  });

  it.each([
    ['an unclosed flow sequence', 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\ndata: [\n', 6],
    ['a dedented key', 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n    name: x\n  labels: {}\n', 5],
    ['a duplicate key', 'apiVersion: v1\nkind: ConfigMap\nkind: Secret\nmetadata: {name: x}\n', 3],
    ['a tab indentation in the second document', `${CONFIG_MAP}---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n\tname: y\n`, 11],
  ])('names file and line of malformed YAML: %s', (_what, text, line) => {
    const { problems } = parseManifestText('deploy/app.yaml', text);
    expect(problems.length).toBeGreaterThan(0);
    expect(problems[0]).toMatchObject({ file: 'deploy/app.yaml', line });
    expect(problems[0]?.message).toMatch(/^invalid YAML: /);
  });

  it('never quotes the offending source line (it may hold a secret)', () => {
    const { problems } = parseManifestText('s.yaml', 'kind: Secret\nstringData:\n  password: [hunter2-secret-value\n');
    expect(problems.length).toBeGreaterThan(0);
    expect(JSON.stringify(problems)).not.toContain('hunter2-secret-value');
  });

  it.each([
    ['a sequence', '- a\n- b\n', 'sequence'],
    ['a scalar', 'just text\n', 'string'],
  ])('refuses a document that is %s', (_what, text, found) => {
    const { problems } = parseManifestText('x.yaml', text);
    expect(problems).toEqual([
      { file: 'x.yaml', line: 1, documentIndex: 0, message: `the document is a ${found}, not a Kubernetes object (a mapping)` },
    ]);
  });

  it('reads YAML as kubectl does (1.1: yes is a boolean) and writes it back unambiguously', () => {
    const [doc] = docs('cm.yaml', 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\ndata:\n  quoted: "yes"\n  octal: "0777"\nspec: {enabled: yes}\n');
    expect(doc?.value['spec']).toEqual({ enabled: true });
    const bundle = bundleOf(checkDocuments([doc as ParsedDocument], {}).objects);
    // A YAML 1.1 reader (kubectl) gets the strings back as strings.
    expect(bundle.yaml).toContain('quoted: "yes"');
    expect(bundle.yaml).toContain('octal: "0777"');
    expect(parse(bundle.yaml.replace(/^---\n/, ''), { version: '1.1' })).toMatchObject({ data: { quoted: 'yes', octal: '0777' } });
  });

  it('keeps a timestamp-like value the string it is, as kubectl does, and writes it back quoted', () => {
    const [doc] = docs('cm.yaml', 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\ndata:\n  at: 2001-12-14t21:59:43.10-05:00\n  day: 2024-05-01 10:00:00\n');
    expect(doc?.value['data']).toEqual({ at: '2001-12-14t21:59:43.10-05:00', day: '2024-05-01 10:00:00' });
    const bundle = bundleOf(checkDocuments([doc as ParsedDocument], {}).objects);
    expect(bundle.yaml).toContain('at: "2001-12-14t21:59:43.10-05:00"');
    expect(bundle.yaml).toContain('day: "2024-05-01 10:00:00"');
  });
});

describe('checkDocuments', () => {
  it.each([
    ['apiVersion', 'kind: ConfigMap\nmetadata: {name: a}\n', 'the object has no apiVersion'],
    ['kind', 'apiVersion: v1\nmetadata: {name: a}\n', 'the object has no kind'],
    ['metadata.name', 'apiVersion: v1\nkind: ConfigMap\nmetadata: {labels: {a: b}}\n', 'the object has no metadata.name'],
    ['metadata', 'apiVersion: v1\nkind: ConfigMap\n', 'the object has no metadata.name'],
    ['kind and name', 'apiVersion: v1\n', 'the object has no kind, metadata.name'],
  ])('names file and document index of an object without %s', (_what, second, message) => {
    const problems = problemsOf({ 'deploy/app.yaml': `${CONFIG_MAP}---\n${second}` });
    expect(problems).toEqual([{ file: 'deploy/app.yaml', line: 8, documentIndex: 1, message }]);
    expect(formatManifestProblem(problems[0] as ManifestProblem)).toBe(`deploy/app.yaml:8 (document 2): ${message}`);
  });

  it.each([
    ['--kubeconfig=/etc/x'],
    ['Upper'],
    ['a_b'],
    ['x'.repeat(64)],
  ])('refuses the namespace name %s (it would become a kubectl argument)', (name) => {
    const problems = problemsOf({ 'a.yaml': `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a, namespace: "${name}"}\n` });
    expect(problems).toEqual([expect.objectContaining({ file: 'a.yaml', documentIndex: 0, message: expect.stringContaining('is not a valid namespace name') })]);
    const projectWide = checkDocuments(docs('b.yaml', CONFIG_MAP), { namespace: name });
    expect(projectWide.problems).toEqual([{ file: '.', message: expect.stringContaining('the project namespace') }]);
  });

  it('explains that generateName cannot be applied', () => {
    const problems = problemsOf({ 'job.yaml': 'apiVersion: batch/v1\nkind: Job\nmetadata: {generateName: run-}\n' });
    expect(problems[0]?.message).toContain('generateName is not supported');
  });

  it('names both places of an object declared twice, across files', () => {
    const problems = problemsOf({
      'a.yaml': `${CONFIG_MAP}`,
      'b/c.yaml': `${CONFIG_MAP.replace('settings', 'other')}---\n${CONFIG_MAP}`,
    }, 'shop');
    expect(problems).toEqual([
      {
        file: 'b/c.yaml',
        line: 8,
        documentIndex: 1,
        message: 'ConfigMap shop/settings is declared twice: a.yaml (document 1) and b/c.yaml (document 2)',
      },
    ]);
  });

  it('counts an object in another API version of the same group as the same object', () => {
    const dep = (v: string): string => `apiVersion: apps/${v}\nkind: Deployment\nmetadata: {name: web, namespace: x}\n`;
    expect(problemsOf({ 'a.yaml': `${dep('v1')}---\n${dep('v1beta2')}` })[0]?.message).toContain('declared twice');
    // Same name, other namespace: two objects.
    expect(problemsOf({ 'a.yaml': `${dep('v1')}---\n${dep('v1').replace('namespace: x', 'namespace: z')}` })).toEqual([]);
  });

  it('gives the project namespace to namespaced objects without one, never to cluster-scoped kinds', () => {
    const text = [
      'apiVersion: v1\nkind: Namespace\nmetadata: {name: shop}',
      'apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata: {name: reader}',
      'apiVersion: v1\nkind: PersistentVolume\nmetadata: {name: pv1}',
      'apiVersion: storage.k8s.io/v1\nkind: StorageClass\nmetadata: {name: fast}',
      'apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata: {name: widgets.example.com}\nspec: {group: example.com, scope: Cluster, names: {kind: Widget, plural: widgets}}',
      'apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w1}',
      'apiVersion: example.com/v1\nkind: Gadget\nmetadata: {name: g1}',
      'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: mine, namespace: elsewhere}',
      'apiVersion: rbac.authorization.k8s.io/v1\nkind: Role\nmetadata: {name: r}',
    ].join('\n---\n');
    const { objects, problems } = checkDocuments(docs('all.yaml', text), { namespace: 'shop' });
    expect(problems).toEqual([]);
    expect(Object.fromEntries(objects.map((o) => [o.ref.kind, o.ref.namespace]))).toEqual({
      Namespace: null,
      ClusterRole: null,
      PersistentVolume: null,
      StorageClass: null,
      CustomResourceDefinition: null,
      Widget: null,
      Gadget: 'shop',
      ConfigMap: 'elsewhere',
      Role: 'shop',
    });
    const role = objects.find((o) => o.ref.kind === 'Role');
    expect(role?.object['metadata']).toEqual({ name: 'r', namespace: 'shop' });
    const namespace = objects.find((o) => o.ref.kind === 'Namespace');
    expect(namespace?.object['metadata']).toEqual({ name: 'shop' });
  });

  it('leaves namespaced objects without a namespace to kubectl when the project sets none', () => {
    const { objects } = checkDocuments(docs('a.yaml', CONFIG_MAP), {});
    expect(objects[0]?.ref).toEqual({ apiVersion: 'v1', kind: 'ConfigMap', namespace: null, name: 'settings' });
  });
});

describe('bundleOf and parseBundle', () => {
  it('orders objects for apply (namespaces first, webhooks last), hashes the YAML, and reads back', () => {
    const text = [
      'apiVersion: admissionregistration.k8s.io/v1\nkind: ValidatingWebhookConfiguration\nmetadata: {name: hook}',
      'apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}',
      'apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w}',
      'apiVersion: v1\nkind: Service\nmetadata: {name: web}',
      'apiVersion: v1\nkind: Namespace\nmetadata: {name: shop}',
    ].join('\n---\n');
    const bundle = bundleOf(checkDocuments(docs('a.yaml', text), { namespace: 'shop' }).objects);
    expect(bundle.objects.map((o) => o.ref.kind)).toEqual(['Namespace', 'Service', 'Deployment', 'Widget', 'ValidatingWebhookConfiguration']);
    expect(bundle.sha256).toBe(sha256(bundle.yaml));
    expect(bundle.sha256).toMatch(/^[0-9a-f]{64}$/);
    const back = parseBundle(bundle.yaml, 'plan.yaml');
    expect(back.problems).toEqual([]);
    expect(back.objects.map((o) => refKey(o.ref))).toEqual(bundle.objects.map((o) => refKey(o.ref)));
    expect(back.objects.map((o) => o.object)).toEqual(bundle.objects.map((o) => o.object));
  });
});
