import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseKubernetesSettings } from '../../config/kubernetes-settings.js';

const dir = mkdtempSync(join(tmpdir(), 'tideline-kset-'));
writeFileSync(join(dir, 'prod.yaml'), 'apiVersion: v1\nkind: Config\n');
const file = join(dir, 'tideline.yaml');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('kubernetes server settings', () => {
  it('maps cluster names to kubeconfig files, relative to the config file', () => {
    const parsed = parseKubernetesSettings('kubernetes:\n  allow_force_conflicts: true\n  clusters:\n    prod-eu: { kubeconfig: prod.yaml }\n', file);
    expect(parsed).toEqual({ ok: true, settings: { allowForceConflicts: true, clusters: { 'prod-eu': join(dir, 'prod.yaml') } } });
  });

  it('defaults to no clusters and no forcing', () => {
    expect(parseKubernetesSettings('repos: []\n', file)).toEqual({ ok: true, settings: { allowForceConflicts: false, clusters: {} } });
  });

  it.each([
    ['a missing kubeconfig', 'kubernetes:\n  clusters:\n    dev: { kubeconfig: missing.yaml }\n', /does not exist/],
    ['an unknown key', 'kubernetes:\n  clustres: {}\n', /clustres/],
    ['a bad boolean', 'kubernetes:\n  allow_force_conflicts: maybe\n', /allow_force_conflicts/],
  ])('refuses %s, naming where', (_name, text, message) => {
    const parsed = parseKubernetesSettings(text, file);
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) expect(JSON.stringify(parsed.problems)).toMatch(message);
  });
});
