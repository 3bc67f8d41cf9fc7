import { describe, expect, it } from 'vitest';
import { diffFileName, diffObject, maskSecrets, matchPairs, type KubeObject, type ObjectPair } from '../../runners/kubernetes-diff.js';

const LAST_APPLIED = 'kubectl.kubernetes.io/last-applied-configuration';

function secret(data: Record<string, string>, extra: KubeObject = {}): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: {
      name: 'creds',
      namespace: 'shop',
      uid: 'u-1',
      resourceVersion: '7',
      managedFields: [{ manager: 'tideline' }],
      annotations: { [LAST_APPLIED]: JSON.stringify({ data }) },
    },
    data,
    ...extra,
  };
}

describe('maskSecrets', () => {
  it('masks data, stringData and the last-applied annotation, marking what changed', () => {
    const live = secret({ same: 'c2FtZQ==', changed: 'b2xk', gone: 'eA==' });
    const merged = secret({ same: 'c2FtZQ==', changed: 'bmV3', added: 'eQ==' }, { stringData: { plain: 'hunter2-plain' } });
    const [a, b] = maskSecrets(live, merged);
    expect(a?.['data']).toEqual({ same: '***', changed: '*** (before)', gone: '***' });
    expect(b?.['data']).toEqual({ same: '***', changed: '*** (after)', added: '***' });
    expect(b?.['stringData']).toEqual({ plain: '***' });
    const annotation = (o: KubeObject | null): unknown => (o?.['metadata'] as { annotations: Record<string, unknown> }).annotations[LAST_APPLIED];
    expect(annotation(a)).toBe('*** (before)');
    expect(annotation(b)).toBe('*** (after)');
    // The inputs are left alone.
    expect(live['data']).toEqual({ same: 'c2FtZQ==', changed: 'b2xk', gone: 'eA==' });
  });

  it('masks a malformed Secret whole', () => {
    const odd: KubeObject = { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'x' }, data: 'hunter2-raw', stringData: ['hunter3-raw'] };
    const [, b] = maskSecrets(null, odd);
    expect(JSON.stringify(b)).not.toMatch(/hunter/);
  });

  it('leaves other kinds alone', () => {
    const cm: KubeObject = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'x' }, data: { a: 'visible' } };
    expect(maskSecrets(cm, cm)).toEqual([cm, cm]);
  });
});

describe('diffObject', () => {
  it('calls a missing live side a create, a missing merged side a delete, equal sides unchanged', () => {
    const s = secret({ a: 'YQ==' });
    expect(diffObject('v1.Secret.shop.creds', null, s).action).toBe('+');
    expect(diffObject('v1.Secret.shop.creds', s, null).action).toBe('-');
    expect(diffObject('v1.Secret.shop.creds', s, structuredClone(s))).toEqual({ action: '=', diff: '' });
  });

  it('ignores what the server owns and never prints a Secret value', () => {
    const live = secret({ a: 'c2VjcmV0LW9uZQ==' });
    const merged = secret({ a: 'c2VjcmV0LXR3bw==' });
    (merged['metadata'] as KubeObject)['resourceVersion'] = '8';
    merged['status'] = { whatever: true };
    const result = diffObject('v1.Secret.shop.creds', live, merged);
    expect(result.action).toBe('~');
    expect(result.diff).not.toMatch(/c2VjcmV0|resourceVersion|managedFields|uid|status/);
    expect(result.diff).toContain('-  a: "*** (before)"');
    expect(result.diff).toContain('+  a: "*** (after)"');
    expect(result.diff.startsWith('--- live/v1.Secret.shop.creds\n+++ merged/v1.Secret.shop.creds\n')).toBe(true);
  });
});

describe('diffFileName and matchPairs', () => {
  it('names files as kubectl does', () => {
    expect(diffFileName({ apiVersion: 'apps/v1', kind: 'Deployment', namespace: 'shop', name: 'web' })).toBe('apps.v1.Deployment.shop.web');
    expect(diffFileName({ apiVersion: 'v1', kind: 'Namespace', namespace: null, name: 'shop' })).toBe('v1.Namespace..shop');
  });

  it('matches by identity, and a ref without namespace by group, kind and name when unambiguous', () => {
    const pair = (ns: string, name: string): ObjectPair => ({
      name: `v1.ConfigMap.${ns}.${name}`,
      live: null,
      merged: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: ns } },
    });
    const pairs = [pair('default', 'a'), pair('shop', 'b'), pair('other', 'b')];
    const found = matchPairs(
      [
        { apiVersion: 'v1', kind: 'ConfigMap', namespace: 'shop', name: 'b' },
        { apiVersion: 'v1', kind: 'ConfigMap', namespace: null, name: 'a' },
        { apiVersion: 'v1', kind: 'ConfigMap', namespace: null, name: 'b' },
      ],
      pairs,
    );
    expect([...found.keys()]).toEqual(['/ConfigMap/shop/b', '/ConfigMap//a']);
    expect(found.get('/ConfigMap//a')?.name).toBe('v1.ConfigMap.default.a');
  });
});
