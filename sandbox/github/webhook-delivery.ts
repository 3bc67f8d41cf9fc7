// Sends one webhook the way GitHub's Hookshot does: the exact body string, HMAC-SHA256 of it in
// `x-hub-signature-256`, event and delivery id headers, JSON content type, a 10 s timeout.

import { createHmac, randomUUID } from 'node:crypto';
import type { DeliverOptions, DeliveryResult } from './types.js';

const HOOKSHOT_TIMEOUT_MS = 10_000;

export function signBody(secret: string, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

export async function deliverWebhook(
  target: string | null,
  defaultSecret: string,
  event: string,
  payload: unknown,
  opts: DeliverOptions = {},
): Promise<DeliveryResult> {
  if (target === null) throw new Error('GitHub double: no webhook target (call setWebhookTarget first)');
  const body = typeof payload === 'string' ? payload : JSON.stringify(payload);
  const deliveryId = opts.deliveryId ?? randomUUID();
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    'user-agent': 'GitHub-Hookshot/6d2a3f1',
    accept: '*/*',
    'x-github-event': event,
    'x-github-delivery': deliveryId,
    'x-github-hook-id': '424242',
    'x-github-hook-installation-target-type': 'repository',
    'x-github-hook-installation-target-id': '1',
  };
  const secret = opts.secret ?? defaultSecret;
  if (opts.signature === undefined) {
    headers['x-hub-signature-256'] = signBody(secret, body);
    headers['x-hub-signature'] = `sha1=${createHmac('sha1', secret).update(body).digest('hex')}`;
  } else if (opts.signature !== null) {
    headers['x-hub-signature-256'] = opts.signature;
  }
  const started = performance.now();
  const response = await fetch(target, {
    method: 'POST',
    headers,
    body,
    signal: AbortSignal.timeout(HOOKSHOT_TIMEOUT_MS),
  });
  const text = await response.text();
  return { status: response.status, body: text, deliveryId, durationMs: performance.now() - started };
}
