// The outgoing drift webhook (TIDELINE_DRIFT_WEBHOOK_URL): one POST per detected, changed,
// resolved or remediated drift. The body is JSON with a Slack-compatible `text`, signed like
// GitHub signs its webhooks and like Tideline's audit webhook:
//   X-Tideline-Signature-256: sha256=<hex HMAC-SHA256 of the exact body with the shared secret>
//   X-Tideline-Event: drift.detected | drift.changed | drift.resolved | drift.remediated
//   X-Tideline-Delivery: <uuid>   (the same on retries, so a receiver can drop duplicates)
// Network errors, timeouts, 408, 429 and 5xx are retried a few times; other answers are not.

import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import { retryableStatus, signBody, SIGNATURE_HEADER, verifyBodySignature } from '../outgoing-webhook.js';
import type { ChangeSummary } from '../../runners/types.js';
import type { DriftEvent } from './types.js';

export const DRIFT_SIGNATURE_HEADER = SIGNATURE_HEADER;
export const DRIFT_EVENT_HEADER = 'x-tideline-event';
export const DRIFT_DELIVERY_HEADER = 'x-tideline-delivery';

export interface DriftWebhookPayload {
  event: `drift.${DriftEvent}`;
  /** Slack-compatible summary line. */
  text: string;
  repo: string;
  project: { dir: string; workspace: string; name: string | null; kind: string };
  defaultBranch: string;
  headSha: string;
  fingerprint: string | null;
  previousFingerprint: string | null;
  summary: ChangeSummary | null;
  issueUrl: string | null;
  appliedByPull: number | null;
  sentAt: string;
}

export interface DriftWebhookTarget {
  url: string;
  secret: string;
  log: Logger;
  fetchImpl?: typeof fetch;
  /** Tries per delivery; default 3. */
  attempts?: number;
  /** First retry delay, doubled per try; default 500 ms. */
  retryBaseMs?: number;
  timeoutMs?: number;
}

/** `sha256=<hex>` over the exact body bytes. */
export const driftSignature = signBody;

/** For receivers (and tests): whether `signature` is the body's signature with `secret`. */
export const verifyDriftSignature = verifyBodySignature;

/** POSTs one payload; resolves true once the receiver answered 2xx, false when it gave up. */
export async function postDriftWebhook(target: DriftWebhookTarget, payload: DriftWebhookPayload): Promise<boolean> {
  const fetchImpl = target.fetchImpl ?? fetch;
  const body = JSON.stringify(payload);
  const delivery = randomUUID();
  const attempts = target.attempts ?? 3;
  const log = target.log.child({ component: 'drift-webhook', event: payload.event, repo: payload.repo, delivery });
  for (let attempt = 1; attempt <= attempts; attempt += 1) {
    let retry = false;
    try {
      const res = await fetchImpl(target.url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'user-agent': 'tideline-drift',
          [DRIFT_SIGNATURE_HEADER]: driftSignature(target.secret, body),
          [DRIFT_EVENT_HEADER]: payload.event,
          [DRIFT_DELIVERY_HEADER]: delivery,
        },
        body,
        signal: AbortSignal.timeout(target.timeoutMs ?? 10_000),
      });
      await res.body?.cancel();
      if (res.ok) return true;
      retry = retryableStatus(res.status);
      log.warn({ status: res.status, attempt }, 'drift webhook refused');
    } catch (err: unknown) {
      retry = true;
      log.warn({ err, attempt }, 'drift webhook failed');
    }
    if (!retry) return false;
    if (attempt < attempts) await new Promise((resolve) => setTimeout(resolve, (target.retryBaseMs ?? 500) * 2 ** (attempt - 1)));
  }
  return false;
}
