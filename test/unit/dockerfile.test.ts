// No Docker engine runs here, so the image's promises are checked on the Dockerfile itself.

import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';

const dockerfile = readFileSync(new URL('../../Dockerfile', import.meta.url), 'utf8');
const lines = dockerfile.split('\n').filter((l) => !l.trimStart().startsWith('#'));
const text = lines.join('\n');

describe('Dockerfile', () => {
  it('builds in several stages from a pinned Node 20 slim image', () => {
    const from = lines.filter((l) => /^FROM\s/.test(l));
    expect(from.length).toBeGreaterThanOrEqual(2);
    expect(text).toMatch(/ARG NODE_IMAGE=node:20\.\d+\.\d+-[a-z]+-slim/);
  });

  it.each([
    ['terraform', /ARG TERRAFORM_VERSION=\d+\.\d+\.\d+/, /ARG TERRAFORM_SHA256_AMD64=[0-9a-f]{64}/, /ARG TERRAFORM_SHA256_ARM64=[0-9a-f]{64}/],
    ['kubectl', /ARG KUBECTL_VERSION=\d+\.\d+\.\d+/, /ARG KUBECTL_SHA256_AMD64=[0-9a-f]{64}/, /ARG KUBECTL_SHA256_ARM64=[0-9a-f]{64}/],
  ])('pins %s and a checksum for each architecture', (_tool, version, amd64, arm64) => {
    expect(text).toMatch(version);
    expect(text).toMatch(amd64);
    expect(text).toMatch(arm64);
  });

  // The download script of the tools stage, run as `docker build` runs it (sh -c, its ARGs in
  // the environment), with curl, sha256sum and unzip replaced by stand-ins that log what they
  // were asked: each architecture fetches its own artefacts and checks them against its sums.
  describe('the tools download script', () => {
    const stage = dockerfile.slice(dockerfile.indexOf('AS tools'), dockerfile.indexOf('AS runtime'));
    const args = Object.fromEntries([...stage.matchAll(/^ARG (\w+)=(\S+)$/gm)].map((m) => [m[1] ?? '', m[2] ?? '']));
    // Docker joins a line ending in a backslash with the next, dropping both.
    const script = /^RUN (arch=.*)$/m.exec(stage.replace(/\\\n/g, ''))?.[1] ?? '';

    function runFor(arch: string | undefined): { status: number; log: string[]; stderr: string; files: string[] } {
      const dir = mkdtempSync(join(tmpdir(), 'tideline-dockerfile-'));
      const bin = join(dir, 'bin');
      const work = join(dir, 'tools');
      mkdirSync(bin);
      mkdirSync(work);
      const stub = (name: string, body: string): void => writeFileSync(join(bin, name), `#!/bin/sh\n${body}\n`, { mode: 0o755 });
      stub('curl', 'for a; do url="$a"; done; out=""; while [ $# -gt 0 ]; do case "$1" in -*o) out="$2"; shift ;; esac; shift; done; echo "curl $url" >> ../log; echo "$url" > "$out"');
      stub('sha256sum', 'echo "sha256sum $* $(cat)" >> ../log');
      stub('unzip', 'echo "unzip $*" >> ../log; touch terraform');
      const env: Record<string, string> = { ...args, PATH: `${bin}:/usr/bin:/bin` };
      if (arch !== undefined) env['TARGETARCH'] = arch;
      try {
        execFileSync('sh', ['-c', script], { cwd: work, env, stdio: ['ignore', 'pipe', 'pipe'] });
        return { status: 0, log: readFileSync(join(dir, 'log'), 'utf8').trim().split('\n'), stderr: '', files: readdirSync(work).sort() };
      } catch (err: unknown) {
        const e = err as { status: number; stderr: Buffer };
        return { status: e.status, log: [], stderr: e.stderr.toString(), files: readdirSync(work).sort() };
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    }

    it.each([
      ['amd64', 'amd64'],
      ['arm64', 'arm64'],
      ['amd64', undefined],
    ] as const)('fetches the %s artefacts and checks their pinned sums (TARGETARCH %s)', (arch, target) => {
      const sums = { terraform: args[`TERRAFORM_SHA256_${arch.toUpperCase()}`], kubectl: args[`KUBECTL_SHA256_${arch.toUpperCase()}`] };
      const run = runFor(target);
      expect(run.status).toBe(0);
      expect(run.log).toEqual([
        `curl https://releases.hashicorp.com/terraform/${args['TERRAFORM_VERSION']}/terraform_${args['TERRAFORM_VERSION']}_linux_${arch}.zip`,
        `sha256sum -c - ${sums.terraform}  terraform.zip`,
        'unzip -q terraform.zip terraform',
        `curl https://dl.k8s.io/release/v${args['KUBECTL_VERSION']}/bin/linux/${arch}/kubectl`,
        `sha256sum -c - ${sums.kubectl}  kubectl`,
      ]);
      expect(run.files).toEqual(['kubectl', 'terraform']);
    });

    it('refuses an architecture it has no checksums for, before downloading anything', () => {
      const run = runFor('s390x');
      expect(run.status).toBe(1);
      expect(run.stderr).toContain('no pinned terraform and kubectl checksums for the architecture s390x');
      expect(run.files).toEqual([]);
    });
  });

  it('runs as a non-root user with /data as a volume', () => {
    const users = lines.filter((l) => /^USER\s/.test(l));
    expect(users.length).toBeGreaterThan(0);
    expect(users.at(-1)).not.toMatch(/^USER\s+(root|0)(:|\s|$)/);
    expect(text).toMatch(/VOLUME \["\/data"\]/);
  });

  it('has a healthcheck on /healthz and an init that forwards signals', () => {
    expect(text).toMatch(/HEALTHCHECK[\s\S]*\/healthz/);
    expect(text).toMatch(/ENTRYPOINT \["\/usr\/bin\/tini", "--"\]/);
  });

  it('has a .dockerignore that keeps node_modules and data out of the context', () => {
    const ignore = readFileSync(new URL('../../.dockerignore', import.meta.url), 'utf8').split('\n');
    expect(ignore).toEqual(expect.arrayContaining(['node_modules', 'data', '.git']));
  });

  // The quick start saves the App's key as tideline.private-key.pem in the directory the image
  // is built from; without this it would be sent to the builder with the rest of the context.
  it('keeps private keys and .env files out of the build context', () => {
    const ignore = readFileSync(new URL('../../.dockerignore', import.meta.url), 'utf8').split('\n');
    expect(ignore).toEqual(expect.arrayContaining(['*.pem', '.env']));
  });
});

// deploy/: the Kubernetes example and the docker run line must agree with the image (port,
// user, probes) and with graceful shutdown (a grace period longer than the drain timeout).

const deployDir = new URL('../../deploy/', import.meta.url);
const k8sFiles = readdirSync(new URL('kubernetes/', deployDir)).filter((f) => /\.ya?ml$/.test(f));

interface K8sObject {
  kind: string;
  metadata: { name: string; labels?: Record<string, string> };
  [key: string]: unknown;
}

function k8sObjects(): K8sObject[] {
  return k8sFiles.flatMap((file) => {
    const docs = parseAllDocuments(readFileSync(new URL(`kubernetes/${file}`, deployDir), 'utf8'));
    for (const doc of docs) expect(doc.errors.map((e) => `${file}: ${e.message}`)).toEqual([]);
    return docs.map((doc) => doc.toJS() as K8sObject);
  });
}

function only(kind: string): K8sObject {
  const found = k8sObjects().filter((o) => o.kind === kind);
  expect(found, `one ${kind} in deploy/kubernetes`).toHaveLength(1);
  return found[0] as K8sObject;
}

interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: { secretKeyRef?: { name: string; key: string } };
}

interface Container {
  name: string;
  image: string;
  ports: { name: string; containerPort: number }[];
  env: EnvVar[];
  readinessProbe: { httpGet: { path: string; port: string | number } };
  livenessProbe: { httpGet: { path: string; port: string | number } };
  securityContext: { allowPrivilegeEscalation: boolean; readOnlyRootFilesystem?: boolean; capabilities?: { drop?: string[] } };
  volumeMounts: { name: string; mountPath: string }[];
}

interface PodSpec {
  terminationGracePeriodSeconds: number;
  securityContext: { runAsNonRoot: boolean; runAsUser: number; runAsGroup?: number; fsGroup?: number };
  containers: Container[];
  volumes: { name: string; persistentVolumeClaim?: { claimName: string }; secret?: { secretName: string; items?: { key: string }[] } }[];
}

function deployment(): { spec: { replicas: number; strategy: { type: string }; selector: { matchLabels: Record<string, string> }; template: { metadata: { labels: Record<string, string> }; spec: PodSpec } } } {
  return only('Deployment') as unknown as ReturnType<typeof deployment>;
}

function container(): Container {
  const c = deployment().spec.template.spec.containers[0];
  if (c === undefined) throw new Error('the Deployment has no container');
  return c;
}

function envValue(name: string): string | undefined {
  return container().env.find((e) => e.name === name)?.value;
}

const imageUid = Number(/useradd[^\n]*--uid (\d+)/.exec(dockerfile)?.[1]);
const exposed = Number(/^EXPOSE (\d+)/m.exec(dockerfile)?.[1]);

describe('deploy/kubernetes', () => {
  it('holds a Deployment, a Service, a Secret and a PersistentVolumeClaim that parse as YAML', () => {
    expect(k8sObjects().map((o) => o.kind).sort()).toEqual(['Deployment', 'Kustomization', 'PersistentVolumeClaim', 'Secret', 'Service']);
  });

  it('lists every manifest in its kustomization', () => {
    const kustomization = only('Kustomization') as K8sObject & { resources: string[] };
    expect([...kustomization.resources].sort()).toEqual(k8sFiles.filter((f) => f !== 'kustomization.yaml').sort());
  });

  it('runs one replica at a time (SQLite has one writer)', () => {
    expect(deployment().spec.replicas).toBe(1);
    expect(deployment().spec.strategy.type).toBe('Recreate');
  });

  it('runs as the image\'s non-root user, without privilege escalation', () => {
    const pod = deployment().spec.template.spec;
    expect(imageUid).toBeGreaterThan(0);
    expect(pod.securityContext.runAsNonRoot).toBe(true);
    expect(pod.securityContext.runAsUser).toBe(imageUid);
    expect(container().securityContext.allowPrivilegeEscalation).toBe(false);
    expect(container().securityContext.capabilities?.drop).toContain('ALL');
  });

  it('probes readiness on /readyz and liveness on /healthz, on the port the image exposes', () => {
    const c = container();
    expect(c.readinessProbe.httpGet.path).toBe('/readyz');
    expect(c.livenessProbe.httpGet.path).toBe('/healthz');
    const port = c.ports.find((p) => p.name === c.readinessProbe.httpGet.port || p.containerPort === c.readinessProbe.httpGet.port);
    expect(port?.containerPort).toBe(exposed);
    expect(c.livenessProbe.httpGet.port).toBe(c.readinessProbe.httpGet.port);
    expect(envValue('TIDELINE_PORT')).toBe(String(exposed));
  });

  it('gives a SIGTERM more time than the server waits for running applies', () => {
    const timeout = Number(envValue('TIDELINE_SHUTDOWN_TIMEOUT') ?? '120');
    expect(deployment().spec.template.spec.terminationGracePeriodSeconds).toBeGreaterThan(timeout);
  });

  it('keeps /data on the PersistentVolumeClaim it declares', () => {
    const pod = deployment().spec.template.spec;
    const mount = container().volumeMounts.find((m) => m.mountPath === '/data');
    const volume = pod.volumes.find((v) => v.name === mount?.name);
    expect(volume?.persistentVolumeClaim?.claimName).toBe(only('PersistentVolumeClaim').metadata.name);
    expect(envValue('TIDELINE_DATA_DIR')).toBe('/data');
  });

  it('takes every secret from the Secret, which holds only placeholders', () => {
    const secret = only('Secret') as K8sObject & { stringData: Record<string, string> };
    const refs = container().env.flatMap((e) => (e.valueFrom?.secretKeyRef === undefined ? [] : [e.valueFrom.secretKeyRef]));
    expect(refs.length).toBeGreaterThan(0);
    for (const ref of refs) {
      expect(ref.name).toBe(secret.metadata.name);
      expect(Object.keys(secret.stringData)).toContain(ref.key);
    }
    for (const name of ['TIDELINE_WEBHOOK_SECRET', 'TIDELINE_WEB_PASSWORD', 'TIDELINE_API_SECRET']) {
      const env = container().env.find((e) => e.name === name);
      expect(env?.value, `${name} must come from the Secret`).toBeUndefined();
      expect(env?.valueFrom?.secretKeyRef).toBeDefined();
    }
    for (const item of deployment().spec.template.spec.volumes.flatMap((v) => v.secret?.items ?? [])) expect(Object.keys(secret.stringData)).toContain(item.key);
    for (const value of Object.values(secret.stringData)) expect(value).toContain('REPLACE_WITH');
  });

  it('routes the Service to the pods and their named port', () => {
    const service = only('Service') as K8sObject & { spec: { selector: Record<string, string>; ports: { targetPort: string | number }[] } };
    expect(deployment().spec.template.metadata.labels).toMatchObject(service.spec.selector);
    expect(deployment().spec.selector.matchLabels).toEqual(service.spec.selector);
    const names = container().ports.map((p) => p.name);
    for (const port of service.spec.ports) expect(names).toContain(port.targetPort);
  });
});

describe('deploy/docker-run.sh', () => {
  const script = readFileSync(new URL('docker-run.sh', deployDir), 'utf8');

  it('is valid sh', () => {
    expect(() => execFileSync('sh', ['-n', fileURLToPath(new URL('docker-run.sh', deployDir))])).not.toThrow();
  });

  it('mounts /data, publishes the exposed port and gives SIGTERM time to drain', () => {
    expect(script).toMatch(/-v [\w-]+:\/data\b/);
    expect(script).toContain(`-p ${exposed}:${exposed}`);
    const stop = Number(/--stop-timeout (\d+)/.exec(script)?.[1]);
    const timeout = Number(/TIDELINE_SHUTDOWN_TIMEOUT=(\d+)/.exec(script)?.[1] ?? '120');
    expect(stop).toBeGreaterThan(timeout);
  });

  it('passes secrets from the environment, never as values on the command line', () => {
    for (const name of ['TIDELINE_WEBHOOK_SECRET', 'TIDELINE_WEB_PASSWORD']) {
      expect(script).toMatch(new RegExp(`-e ${name}\\s`));
      expect(script).not.toMatch(new RegExp(`-e ${name}=`));
    }
  });
});
