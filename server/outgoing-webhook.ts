// What Tideline's outgoing webhooks (the audit stream, drift alerts) share: the body is signed
// the way GitHub signs its webhooks, and the same answers are worth another try.

import { createHmac, timingSafeEqual } from 'node:crypto';

/** Header carrying `sha256=<hex HMAC-SHA256 of the exact body with the shared secret>`. */
export const SIGNATURE_HEADER = 'x-tideline-signature-256';

/** `sha256=<hex>` over the exact body bytes. */
export function signBody(secret: string, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

/** For receivers (and tests): whether `signature` is the body's signature with `secret`. */
export function verifyBodySignature(secret: string, body: string, signature: string | undefined): boolean {
  if (signature === undefined) return false;
  const expected = Buffer.from(signBody(secret, body));
  const given = Buffer.from(signature);
  return expected.length === given.length && timingSafeEqual(expected, given);
}

/** Timeouts, rate limits and server errors are retried; any other answer is final. */
export function retryableStatus(status: number): boolean {
  return status === 408 || status === 429 || status >= 500;
}
