// renderBundle reads a project dir (and runs the real `kubectl kustomize` for kustomize dirs)
// without touching any cluster.
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { renderBundle, type RenderResult } from '../../runners/kubernetes.js';
import { formatManifestProblem } from '../../runners/manifests.js';
import { SecretMasker } from '../../runners/secrets.js';
import { startKubernetesDouble } from '../../sandbox/kubernetes/index.js';

let tmp = '';
let projectDir = '';

beforeEach(async () => {
  tmp = await mkdtemp(path.join(tmpdir(), 'tideline-k8s-render-'));
  projectDir = path.join(tmp, 'repo', 'k8s');
  await mkdir(projectDir, { recursive: true });
});

afterEach(async () => {
  await rm(tmp, { recursive: true, force: true });
});

async function files(dir: string, entries: Record<string, string>): Promise<void> {
  for (const [name, text] of Object.entries(entries)) {
    const file = path.join(dir, name);
    await mkdir(path.dirname(file), { recursive: true });
    await writeFile(file, text);
  }
}

function execContext(extraEnv: Record<string, string> = {}): { baseEnv: Record<string, string>; masker: SecretMasker } {
  return { baseEnv: { PATH: process.env.PATH ?? '', HOME: tmp, ...extraEnv }, masker: new SecretMasker() };
}

/** The project sits at `repo/k8s` of a checkout at `repo`, as in a pull request's tree. */
function render(opts: { namespace?: string } = {}, extraEnv: Record<string, string> = {}): Promise<RenderResult> {
  return renderBundle(execContext(extraEnv), 'kubectl', projectDir, { checkoutRoot: path.join(tmp, 'repo'), ...opts });
}

function problems(result: RenderResult): string[] {
  if (result.ok) throw new Error('expected problems, got a bundle');
  return result.problems.map(formatManifestProblem);
}

const cm = (name: string, extra = ''): string => `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ${name}\n${extra}data:\n  k: v\n`;

describe('renderBundle: plain manifests', () => {
  it('reads every *.yaml and *.yml, nested and sorted, multi-document, skipping dot dirs', async () => {
    await files(projectDir, {
      'b.yml': cm('from-b'),
      'a.yaml': `${cm('from-a-1')}---\n${cm('from-a-2')}`,
      'nested/deeper/c.yaml': cm('from-c'),
      '.hidden/d.yaml': cm('hidden'),
      'README.md': '# not yaml',
      'notes.txt': 'kind: nothing',
    });
    const result = await render({ namespace: 'shop' });
    if (!result.ok) throw new Error(problems(result).join('\n'));
    expect(result.bundle.objects.map((o) => [o.file, o.documentIndex, o.ref.name, o.ref.namespace])).toEqual([
      ['a.yaml', 0, 'from-a-1', 'shop'],
      ['a.yaml', 1, 'from-a-2', 'shop'],
      ['b.yml', 0, 'from-b', 'shop'],
      ['nested/deeper/c.yaml', 0, 'from-c', 'shop'],
    ]);
    expect(result.bundle.yaml.match(/^---$/gm)).toHaveLength(4);
  });

  it('names file and line of malformed YAML, and nothing else is read as a bundle', async () => {
    await files(projectDir, { 'good.yaml': cm('fine'), 'deploy/bad.yaml': `${cm('x')}---\napiVersion: v1\nkind: [ConfigMap\n` });
    expect(problems(await render())).toEqual([expect.stringMatching(/^deploy\/bad\.yaml:10 \(document 2\): invalid YAML: /)]);
  });

  it('names file and document index of an object without a kind', async () => {
    await files(projectDir, { 'app.yaml': `${cm('a')}---\napiVersion: v1\nmetadata: {name: b}\n` });
    const result = await render();
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.problems).toEqual([{ file: 'app.yaml', line: 8, documentIndex: 1, message: 'the object has no kind' }]);
  });

  it('names both places of an object declared twice', async () => {
    await files(projectDir, { 'one.yaml': cm('same'), 'two/two.yaml': `${cm('other')}---\n${cm('same')}` });
    expect(problems(await render({ namespace: 'shop' }))).toEqual([
      'two/two.yaml:8 (document 2): ConfigMap shop/same is declared twice: one.yaml (document 1) and two/two.yaml (document 2)',
    ]);
  });

  it('refuses a symlink that leads out of the project dir', async () => {
    await files(tmp, { 'outside/secret.yaml': cm('stolen') });
    await files(projectDir, { 'ok.yaml': cm('ok') });
    await symlink(path.join(tmp, 'outside', 'secret.yaml'), path.join(projectDir, 'link.yaml'));
    expect(problems(await render())).toEqual(['link.yaml: is a symbolic link that leads outside the project directory: refused']);
  });

  it('says so when the project dir does not exist', async () => {
    const result = await renderBundle(execContext(), 'kubectl', path.join(tmp, 'nope'), {});
    expect(problems(result)[0]).toContain('does not exist');
  });
});

describe('renderBundle: kustomize', () => {
  const base = {
    'base/kustomization.yaml': 'resources:\n  - deployment.yaml\n  - service.yaml\n',
    'base/deployment.yaml': [
      'apiVersion: apps/v1', 'kind: Deployment', 'metadata:', '  name: web', 'spec:', '  replicas: 1',
      '  selector: {matchLabels: {app: web}}', '  template:', '    metadata: {labels: {app: web}}',
      '    spec:', '      containers:', '        - name: web', '          image: nginx:1.25', '',
    ].join('\n'),
    'base/service.yaml': 'apiVersion: v1\nkind: Service\nmetadata: {name: web}\nspec:\n  selector: {app: web}\n  ports: [{port: 80}]\n',
  };

  it('renders an overlay (namePrefix, images, configMapGenerator) with the real kubectl, offline', async () => {
    const double = await startKubernetesDouble();
    try {
      // A kubeconfig pointing at a cluster is in the env: rendering must not ask it anything.
      const kubeconfig = path.join(tmp, 'kubeconfig');
      double.kubeconfig(kubeconfig);
      await files(path.join(tmp, 'repo'), base);
      await files(projectDir, {
        'kustomization.yaml': [
          'resources: [../base]',
          'namePrefix: prod-',
          'images:',
          '  - name: nginx',
          '    newTag: "1.27"',
          'configMapGenerator:',
          '  - name: settings',
          '    literals: [mode=prod]',
          '',
        ].join('\n'),
        'unused-patch.yaml': 'not: a kubernetes object, but kustomize never reads it\n',
      });
      const result = await render({ namespace: 'shop' }, { KUBECONFIG: kubeconfig });
      if (!result.ok) throw new Error(problems(result).join('\n'));
      const names = result.bundle.objects.map((o) => `${o.ref.kind} ${o.ref.namespace ?? ''}/${o.ref.name}`);
      expect(names).toEqual([expect.stringMatching(/^ConfigMap shop\/prod-settings-[a-z0-9]+$/), 'Service shop/prod-web', 'Deployment shop/prod-web']);
      expect(result.bundle.objects.every((o) => o.file === 'kustomization.yaml')).toBe(true);
      expect(result.bundle.yaml).toContain('image: nginx:1.27');
      expect(double.requests).toEqual([]);
    } finally {
      await double.close();
    }
  });

  it('names file and line of malformed YAML in a kustomize dir before running kustomize', async () => {
    await files(projectDir, {
      'kustomization.yaml': 'resources: [cm.yaml]\n',
      'cm.yaml': 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n data: {}\n',
    });
    expect(problems(await render())).toEqual([expect.stringMatching(/^cm\.yaml:\d+ \(document 1\): invalid YAML: /)]);
  });

  it('names file and document of an object without kind or name, here and in a base elsewhere in the repository', async () => {
    await files(path.join(tmp, 'repo', 'shared'), { 'kustomization.yaml': 'resources: [cm.yaml]\n', 'cm.yaml': 'apiVersion: v1\nkind: ConfigMap\nmetadata: {labels: {a: b}}\n' });
    await files(projectDir, {
      'kustomization.yaml': 'resources: [ok.yaml, nokind.yaml, ../shared]\n',
      'ok.yaml': cm('fine'),
      'nokind.yaml': `${cm('fine-too')}---\napiVersion: v1\nmetadata:\n  name: nokind\n`,
    });
    const shared = path.relative(projectDir, path.join(tmp, 'repo', 'shared', 'cm.yaml'));
    expect(problems(await renderBundle(execContext(), 'kubectl', projectDir, { checkoutRoot: path.join(tmp, 'repo') }))).toEqual([
      expect.stringMatching(/^nokind\.yaml:\d+ \(document 2\): the object has no kind$/),
      expect.stringMatching(new RegExp(`^${shared.replaceAll('.', '\\.')}:1 \\(document 1\\): the object has no metadata\\.name$`)),
    ]);
  });

  it('reports a kustomize failure with kustomize\'s words against the kustomization file', async () => {
    await files(projectDir, { 'kustomization.yaml': 'resources: [missing.yaml]\n' });
    const [problem] = problems(await render());
    expect(problem).toMatch(/^kustomization\.yaml: kubectl kustomize failed: /);
    expect(problem).toContain('missing.yaml');
    expect(problem).not.toContain(projectDir);
  });
});

describe('renderBundle: kustomizations stay inside the checkout', () => {
  const checkout = (): string => path.join(tmp, 'repo');
  const renderIn = (): Promise<RenderResult> => renderBundle(execContext(), 'kubectl', projectDir, { checkoutRoot: checkout() });

  beforeEach(async () => {
    // Another repository's tree on the same server, with something worth taking.
    await files(path.join(tmp, 'other-tenant', 'app'), { 'kustomization.yaml': 'resources: [cm.yaml]\n', 'cm.yaml': cm('theirs', '') });
  });

  it('renders an overlay whose base is elsewhere in the repository', async () => {
    await files(path.join(checkout(), 'base'), { 'kustomization.yaml': 'resources: [cm.yaml]\n', 'cm.yaml': cm('shared') });
    await files(projectDir, { 'kustomization.yaml': 'resources:\n  - ../base\n' });
    const result = await renderIn();
    expect(result.ok && result.bundle.objects.map((o) => o.ref.name)).toEqual(['shared']);
  });

  it.each([
    ['a relative path', 'resources:\n  - ../../other-tenant/app\n', 'resources', '../../other-tenant/app'],
    ['a component', 'components:\n  - ../../other-tenant/app\n', 'components', '../../other-tenant/app'],
    ['an absolute path', 'bases:\n  - OTHER\n', 'bases', 'OTHER'],
    ['a local path dressed as a remote base', 'resources:\n  - github.com/../../../other-tenant/app\n', 'resources', 'github.com/../../../other-tenant/app'],
  ])('refuses %s out of the checkout, before kustomize reads it', async (_case, text, field, entry) => {
    const other = path.join(tmp, 'other-tenant', 'app');
    await files(projectDir, { 'kustomization.yaml': text.replace('OTHER', other) });
    expect(problems(await renderIn())).toEqual([
      `kustomization.yaml: \`${field}\` entry ${JSON.stringify(entry.replace('OTHER', other))} leads outside the repository: kustomize may read only the pull request's own files (or a remote base by URL)`,
    ]);
  });

  it('refuses a symlink in the repository that points out of it', async () => {
    await symlink(path.join(tmp, 'other-tenant', 'app'), path.join(projectDir, 'linked'));
    await files(projectDir, { 'kustomization.yaml': 'resources:\n  - linked\n' });
    expect(problems(await renderIn())).toEqual([expect.stringMatching(/^kustomization\.yaml: `resources` entry "linked" leads outside the repository/)]);
  });

  it('refuses a symlink named like a remote host that points out of the repository', async () => {
    await symlink(path.join(tmp, 'other-tenant'), path.join(projectDir, 'evil.io'));
    await files(projectDir, { 'kustomization.yaml': 'resources:\n  - evil.io/app\n' });
    expect(problems(await renderIn())).toEqual([expect.stringMatching(/^kustomization\.yaml: `resources` entry "evil\.io\/app" leads outside the repository/)]);
  });

  it('takes a directory whose name starts with two dots for the repository directory it is', async () => {
    await files(path.join(checkout(), '..shared'), { 'kustomization.yaml': 'resources: [cm.yaml]\n', 'cm.yaml': cm('dotted') });
    await files(projectDir, { 'kustomization.yaml': 'resources:\n  - ../..shared\n' });
    const result = await renderIn();
    expect(result.ok && result.bundle.objects.map((o) => o.ref.name)).toEqual(['dotted']);
  });

  it('follows bases through the repository and refuses the one that leaves it, naming its file', async () => {
    await files(path.join(checkout(), 'base'), { 'kustomization.yaml': 'resources:\n  - ../../other-tenant/app\n' });
    await files(projectDir, { 'kustomization.yaml': 'resources:\n  - ../base\n' });
    expect(problems(await renderIn())).toEqual([expect.stringMatching(/^\.\.\/base\/kustomization\.yaml: `resources` entry "\.\.\/\.\.\/other-tenant\/app" leads outside/)]);
  });
});
