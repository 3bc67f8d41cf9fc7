// POST /events in the order the protocol wants: raw body → HMAC check → parse → dedupe and
// queue (one transaction) → answer. No GitHub call and no child process runs in the request.

import { Webhooks } from '@octokit/webhooks';
import type { Request, Response } from 'express';
import type { Logger } from 'pino';
import type { AuditLog } from '../audit/index.js';
import type { Metrics } from '../metrics/index.js';
import { enqueue } from '../jobs/queue.js';
import { rememberRepo } from '../store/repos.js';
import type { Db } from '../store/db.js';
import { nowIso } from '../store/db.js';
import { RefusalAudit } from './refusal-audit.js';
import { isPullNumber, routeEvent, type RouteContext } from './route-event.js';
import type { InstallationChange } from '../github/forge.js';

export interface WebhookContext {
  db: Db;
  audit: AuditLog;
  metrics: Metrics;
  log: Logger;
  secret: string;
  route: RouteContext;
  /** Called after jobs were committed, to wake the worker pool. */
  notify: () => void;
  /** Where refusals are recorded; the server passes its own, to flush it when it stops. */
  refusals?: RefusalAudit;
  /** The App's installations changed (installation webhooks): the forge drops what it cached. */
  onInstallationChange?: (change: InstallationChange) => void;
}

export type WebhookHandler = (req: Request, res: Response) => Promise<void>;

export function webhookHandler(ctx: WebhookContext): WebhookHandler {
  const webhooks = new Webhooks({ secret: ctx.secret });
  const refusals = ctx.refusals ?? new RefusalAudit(ctx.audit);
  const recordDelivery = ctx.db.prepare('INSERT INTO deliveries (id, event, received_at) VALUES (?, ?, ?) ON CONFLICT (id) DO NOTHING');

  return async function handle(req, res): Promise<void> {
    const deliveryId = req.header('x-github-delivery') ?? '';
    const event = req.header('x-github-event') ?? '';
    const signature = req.header('x-hub-signature-256') ?? '';
    const log = ctx.log.child({ delivery: deliveryId || undefined, event: event || undefined });
    const refuse = (status: number, message: string): void => {
      log.warn({ status, reason: message }, 'webhook refused');
      // Nothing in a refused body is trusted, so the record names no actor or repository. Anyone
      // who reaches /events can cause one, so header values are clipped: unclipped, each request
      // put up to 16 KB (Node's header size limit) of its own text into the append-only log.
      const fields = { deliveryId: clip(deliveryId), event: clip(event), status, reason: message, remoteAddress: req.socket.remoteAddress ?? null };
      refusals.record(fields);
      ctx.metrics.deliveryReceived(event, 'refused');
      res.status(status).json({ error: message });
    };

    const type = (req.header('content-type') ?? '').split(';')[0]?.trim().toLowerCase();
    if (type !== 'application/json') {
      refuse(415, `content type must be application/json, got ${type === undefined || type === '' ? 'none' : clip(type)}: set the webhook's content type to application/json`);
      return;
    }
    for (const [name, value] of [['x-github-event', event], ['x-github-delivery', deliveryId], ['x-hub-signature-256', signature]] as const) {
      if (value === '') {
        refuse(400, `missing ${name} header: this endpoint accepts only GitHub webhook deliveries`);
        return;
      }
    }
    const raw: unknown = req.body;
    if (!Buffer.isBuffer(raw)) {
      refuse(400, 'empty body');
      return;
    }
    const text = raw.toString('utf8');
    let valid = false;
    try {
      valid = await webhooks.verify(text, signature);
    } catch {
      valid = false;
    }
    if (!valid) {
      refuse(401, 'signature does not match: check that TIDELINE_WEBHOOK_SECRET equals the webhook secret on GitHub');
      return;
    }
    let payload: unknown;
    try {
      payload = JSON.parse(text);
    } catch (err: unknown) {
      refuse(400, `malformed JSON body: ${err instanceof Error ? err.message : String(err)}`);
      return;
    }

    const routed = routeEvent(ctx.route, event, deliveryId, payload);
    const about = describeDelivery(payload);
    const outcome = ctx.db.transaction((): 'duplicate' | number => {
      if (recordDelivery.run(deliveryId, event, nowIso()).changes === 0) return 'duplicate';
      const jobs = routed.kind === 'jobs' ? routed.jobs.map((job) => enqueue(ctx.db, job)) : [];
      if (routed.kind === 'jobs') rememberRepo(ctx.db, routed.repo);
      ctx.audit.append({
        type: routed.kind === 'ignored' ? 'webhook.ignored' : 'webhook.accepted',
        actor: about.actor,
        ...(about.repo === undefined ? {} : { repo: about.repo }),
        ...(about.pull === undefined ? {} : { pull: about.pull }),
        fields: {
          deliveryId,
          event,
          action: about.action,
          ...(routed.kind === 'ignored' ? { reason: routed.reason } : { note: routed.note, jobs }),
          // No repository column to say what it was about: the installation, account and repositories.
          ...(routed.kind === 'installation' ? { change: routed.change } : {}),
        },
      });
      return jobs.length;
    })();

    if (outcome === 'duplicate') {
      ctx.audit.append({ type: 'webhook.ignored', actor: about.actor, ...(about.repo === undefined ? {} : { repo: about.repo }), fields: { deliveryId, event, reason: 'duplicate delivery: already processed' } });
      ctx.metrics.deliveryReceived(event, 'duplicate');
      log.info('duplicate delivery: already processed');
      res.status(200).json({ status: 'duplicate' });
      return;
    }
    ctx.metrics.deliveryReceived(event, routed.kind === 'ignored' ? 'ignored' : 'accepted');
    if (routed.kind === 'ignored') {
      log.info({ reason: routed.reason }, 'webhook ignored');
      res.status(200).json({ status: 'ignored', reason: routed.reason });
      return;
    }
    if (routed.kind === 'installation') {
      // A map delete, not work: done before answering, so the next delivery finds it done.
      ctx.onInstallationChange?.(routed.change);
      log.info({ note: routed.note }, 'webhook accepted');
      res.status(200).json({ status: 'accepted', note: routed.note });
      return;
    }
    log.info({ jobs: outcome, note: routed.note }, 'webhook accepted');
    res.status(202).json({ status: 'queued', jobs: outcome });
    ctx.notify();
  };
}

/** GitHub's event names and delivery ids are far shorter; anything longer is not from GitHub. */
const MAX_UNTRUSTED_CHARS = 100;

/** An untrusted header value, cut to a length the audit log can afford to keep. */
function clip(value: string): string {
  return value.length <= MAX_UNTRUSTED_CHARS ? value : `${value.slice(0, MAX_UNTRUSTED_CHARS)}… (${value.length} characters)`;
}

interface DeliveryFacts {
  actor: string;
  repo?: string;
  pull?: number;
  action: string | null;
}

/** Who and what a verified delivery is about, for its audit record. */
function describeDelivery(payload: unknown): DeliveryFacts {
  const body = (typeof payload === 'object' && payload !== null ? payload : {}) as Record<string, unknown>;
  const sender = body['sender'] as { login?: unknown } | undefined;
  const repository = body['repository'] as { full_name?: unknown } | undefined;
  const issue = body['issue'] as { number?: unknown } | undefined;
  const pullRequest = body['pull_request'] as { number?: unknown } | undefined;
  const number = issue?.number ?? pullRequest?.number ?? body['number'];
  const facts: DeliveryFacts = {
    actor: typeof sender?.login === 'string' ? sender.login : 'unknown',
    action: typeof body['action'] === 'string' ? body['action'] : null,
  };
  if (typeof repository?.full_name === 'string') facts.repo = repository.full_name;
  // Only a number GitHub could have given: the audit log refuses others, inside the transaction.
  if (isPullNumber(number)) facts.pull = number;
  return facts;
}
