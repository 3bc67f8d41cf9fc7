import { createHmac } from 'node:crypto';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { driftSignature, postDriftWebhook, verifyDriftSignature, type DriftWebhookPayload } from '../../server/drift/webhook.js';

const SECRET = 'hook-secret';
const PAYLOAD: DriftWebhookPayload = {
  event: 'drift.detected',
  text: ':warning: Drift detected in acme/infra app: 0 to add, 1 to change, 0 to destroy.',
  repo: 'acme/infra',
  project: { dir: 'app', workspace: 'default', name: null, kind: 'terraform' },
  defaultBranch: 'main',
  headSha: 'f'.repeat(40),
  fingerprint: 'a'.repeat(64),
  previousFingerprint: null,
  summary: { add: 0, change: 1, destroy: 0 },
  issueUrl: null,
  appliedByPull: 1,
  sentAt: '2026-01-01T00:00:00.000Z',
};

/** A fetch that answers `statuses` in turn and records what it was sent. */
function fakeFetch(statuses: (number | 'network')[]): { fetchImpl: typeof fetch; sent: { headers: Headers; body: string }[] } {
  const sent: { headers: Headers; body: string }[] = [];
  const fetchImpl = (async (_url: string | URL | Request, init?: RequestInit): Promise<Response> => {
    sent.push({ headers: new Headers(init?.headers), body: String(init?.body) });
    const next = statuses.shift() ?? 204;
    if (next === 'network') throw new TypeError('fetch failed');
    return new Response(null, { status: next });
  }) as typeof fetch;
  return { fetchImpl, sent };
}

const target = (fetchImpl: typeof fetch): Parameters<typeof postDriftWebhook>[0] => ({ url: 'http://127.0.0.1:1/hook', secret: SECRET, log: pino({ level: 'silent' }), fetchImpl, retryBaseMs: 1 });

describe('drift webhook', () => {
  it('signs the exact body with HMAC-SHA256 and names the event', async () => {
    const { fetchImpl, sent } = fakeFetch([204]);
    expect(await postDriftWebhook(target(fetchImpl), PAYLOAD)).toBe(true);
    const [request] = sent;
    expect(JSON.parse(request?.body ?? '')).toEqual(PAYLOAD);
    expect(request?.headers.get('x-tideline-signature-256')).toBe(`sha256=${createHmac('sha256', SECRET).update(request?.body ?? '').digest('hex')}`);
    expect(request?.headers.get('x-tideline-event')).toBe('drift.detected');
  });

  it.each([
    ['a 500', [500, 204], true, 2],
    ['a network error', ['network', 'network', 204], true, 3],
    ['a 429 every time', [429, 429, 429], false, 3],
    ['a 400 (not retried)', [400, 204], false, 1],
  ] as const)('after %s: delivered=%s in %i tries, with one delivery id', async (_name, statuses, delivered, tries) => {
    const { fetchImpl, sent } = fakeFetch([...statuses]);
    expect(await postDriftWebhook(target(fetchImpl), PAYLOAD)).toBe(delivered);
    expect(sent).toHaveLength(tries);
    expect(new Set(sent.map((s) => s.headers.get('x-tideline-delivery'))).size).toBe(1);
  });

  it('verifies a signature, and refuses another secret, another body or none', () => {
    const body = JSON.stringify(PAYLOAD);
    const signature = driftSignature(SECRET, body);
    expect(verifyDriftSignature(SECRET, body, signature)).toBe(true);
    expect(verifyDriftSignature('other', body, signature)).toBe(false);
    expect(verifyDriftSignature(SECRET, `${body} `, signature)).toBe(false);
    expect(verifyDriftSignature(SECRET, body, undefined)).toBe(false);
  });
});
