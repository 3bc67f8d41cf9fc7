// Shared set-up for the KubernetesRunner tests: the real kubectl against the Kubernetes double,
// with a fresh temp dir, double and kubeconfig per test.
//
// `kubectl` on PATH here is the Google Cloud SDK's dispatcher (/usr/bin/kubectl →
// /usr/lib/google-cloud-sdk/bin/kubectl): it asks the server's GET /version (without
// credentials) and runs the matching build; the double answers 1.32, so every request after
// that comes from kubectl 1.32 (the dispatcher's own 1.32.4; the versioned builds
// kubectl.1.27 … kubectl.1.33 sit beside it). That is what production runs by default
// (TIDELINE_KUBECTL_BIN=kubectl), so the tests drive it too, and check it picked 1.32.

import { mkdir, mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach } from 'vitest';
import { KubernetesRunner, renderBundle, type KubeRunContext, type RenderedBundle } from '../../runners/kubernetes.js';
import { SecretMasker } from '../../runners/secrets.js';
import type { ObjectRef, PlanOutcome } from '../../runners/types.js';
import { startKubernetesDouble, type KubernetesDouble } from '../../sandbox/kubernetes/index.js';

const KUBECTL = 'kubectl';
const TOKEN = 'k8s-double-token-4711';

const SERVICE = 'apiVersion: v1\nkind: Service\nmetadata:\n  name: web\nspec:\n  selector: {app: web}\n  ports: [{port: 80, targetPort: 80}]\n';
const WEB: ObjectRef = { apiVersion: 'apps/v1', kind: 'Deployment', namespace: 'default', name: 'web' };
const SETTINGS: ObjectRef = { apiVersion: 'v1', kind: 'ConfigMap', namespace: 'default', name: 'settings' };

/** What a test reads from the fixture. The paths and the double change per test: read them inside the test. */
export interface KubeRunnerFixture {
  /** The double's bearer token (masked in every runner). */
  readonly TOKEN: string;
  readonly tmp: string;
  readonly projectDir: string;
  readonly kubeconfig: string;
  readonly planFile: string;
  /** The running double; a test may replace it (after closing the old one), and afterEach closes the current one. */
  double: KubernetesDouble;
  runner(extraEnv?: Record<string, string>): KubernetesRunner;
  ctx(extra?: Partial<KubeRunContext>): KubeRunContext;
  /** Writes (string) or deletes (null) project files. */
  project(files: Record<string, string | null>, dir?: string): Promise<void>;
  bundle(namespace?: string): Promise<RenderedBundle>;
  plan(r: KubernetesRunner, c?: KubeRunContext, namespace?: string): Promise<PlanOutcome>;
  deployment(replicas: number, image?: string): string;
  readonly SERVICE: string;
  configMap(value: string): string;
  readonly WEB: ObjectRef;
  readonly SETTINGS: ObjectRef;
  actions(outcome: PlanOutcome): string[];
  spec(ref: ObjectRef): Record<string, unknown>;
  exists(file: string): Promise<boolean>;
}

/** Registers the per-test hooks in the calling test file and returns the fixture they fill. */
export function useKubeRunnerFixture(): KubeRunnerFixture {
  let tmp = '';
  let projectDir = '';
  let kubeconfig = '';
  let planFile = '';
  let current: KubernetesDouble | undefined;

  function double(): KubernetesDouble {
    if (current === undefined) throw new Error('the Kubernetes double is only there inside a test');
    return current;
  }

  beforeEach(async () => {
    tmp = await mkdtemp(path.join(tmpdir(), 'tideline-k8s-'));
    projectDir = path.join(tmp, 'repo', 'k8s');
    await mkdir(projectDir, { recursive: true });
    current = await startKubernetesDouble({ token: TOKEN });
    kubeconfig = path.join(tmp, 'kubeconfig');
    current.kubeconfig(kubeconfig);
    planFile = path.join(tmp, 'plans', 'k8s.yaml');
  });

  afterEach(async () => {
    try {
      await current?.close();
    } finally {
      current = undefined;
      await rm(tmp, { recursive: true, force: true });
    }
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
    const result = await renderBundle(exec, KUBECTL, projectDir, { checkoutRoot: path.dirname(projectDir), ...(namespace === undefined ? {} : { namespace }) });
    if (!result.ok) throw new Error(JSON.stringify(result.problems));
    return result.bundle;
  }

  async function plan(r: KubernetesRunner, c: KubeRunContext = ctx(), namespace?: string): Promise<PlanOutcome> {
    return r.plan(c, planFile, await bundle(namespace));
  }

  function spec(ref: ObjectRef): Record<string, unknown> {
    return (double().get(ref)?.['spec'] ?? {}) as Record<string, unknown>;
  }

  return {
    TOKEN,
    get tmp(): string {
      return tmp;
    },
    get projectDir(): string {
      return projectDir;
    },
    get kubeconfig(): string {
      return kubeconfig;
    },
    get planFile(): string {
      return planFile;
    },
    get double(): KubernetesDouble {
      return double();
    },
    set double(next: KubernetesDouble) {
      current = next;
    },
    runner,
    ctx,
    project,
    bundle,
    plan,
    deployment,
    SERVICE,
    configMap,
    WEB,
    SETTINGS,
    actions,
    spec,
    exists,
  };
}

function deployment(replicas: number, image = 'nginx:1.27'): string {
  return [
    'apiVersion: apps/v1', 'kind: Deployment', 'metadata:', '  name: web', '  labels: {app: web}', 'spec:',
    `  replicas: ${replicas}`, '  selector:', '    matchLabels: {app: web}', '  template:', '    metadata:',
    '      labels: {app: web}', '    spec:', '      containers:', '        - name: web', `          image: ${image}`,
    '          ports: [{containerPort: 80}]', '',
  ].join('\n');
}

function configMap(value: string): string {
  return `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\ndata:\n  mode: "${value}"\n`;
}

function actions(outcome: PlanOutcome): string[] {
  return (outcome.objects ?? []).map((o) => `${o.action} ${o.ref.kind} ${o.ref.namespace ?? ''}/${o.ref.name}`);
}

async function exists(file: string): Promise<boolean> {
  return stat(file).then(() => true, () => false);
}
