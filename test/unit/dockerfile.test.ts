// No Docker engine runs here, so the image's promises are checked on the Dockerfile itself.

import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

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
    ['terraform', /ARG TERRAFORM_VERSION=\d+\.\d+\.\d+/, /ARG TERRAFORM_SHA256=[0-9a-f]{64}/, /TERRAFORM_SHA256\}\s+terraform\.zip" \| sha256sum -c/],
    ['kubectl', /ARG KUBECTL_VERSION=\d+\.\d+\.\d+/, /ARG KUBECTL_SHA256=[0-9a-f]{64}/, /KUBECTL_SHA256\}\s+kubectl" \| sha256sum -c/],
  ])('pins %s and verifies its checksum', (_tool, version, sum, check) => {
    expect(text).toMatch(version);
    expect(text).toMatch(sum);
    expect(text).toMatch(check);
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
});
