// Refused deliveries in the audit log, without letting a stranger grow it without bound. Anyone
// who can reach /events can be refused, and each refusal was one append-only record: a loop of
// unsigned POSTs filled the log and pushed real events out of the web UI's latest ones. Now the
// first PER_WINDOW refusals of each minute are recorded one by one, as before, and the rest are
// counted: when the minute is over (or the server stops) one record says how many there were,
// of which statuses, and between which instants. Nothing is dropped unaccounted.

import type { AuditLog } from '../audit/index.js';
import { CountingWindow } from './counting-window.js';

export const REFUSALS_PER_WINDOW = 30;
export const REFUSAL_WINDOW_MS = 60_000;

export type RefusalFields = Record<string, unknown> & { status: number };

export class RefusalAudit {
  readonly #audit: AuditLog;
  readonly #perWindow: number;
  readonly #window: CountingWindow;
  #recorded = 0;
  #suppressed: { count: number; byStatus: Record<string, number>; first: string; last: string } | null = null;

  constructor(audit: AuditLog, opts: { perWindow?: number; windowMs?: number } = {}) {
    this.#audit = audit;
    this.#perWindow = opts.perWindow ?? REFUSALS_PER_WINDOW;
    this.#window = new CountingWindow(opts.windowMs ?? REFUSAL_WINDOW_MS, () => this.#writeSuppressed());
  }

  record(fields: RefusalFields): void {
    const now = Date.now();
    if (this.#window.enter(now)) this.#recorded = 0;
    if (this.#recorded < this.#perWindow) {
      this.#recorded += 1;
      this.#audit.append({ type: 'webhook.refused', actor: 'unknown', fields });
      return;
    }
    const at = new Date(now).toISOString();
    const s = (this.#suppressed ??= { count: 0, byStatus: {}, first: at, last: at });
    s.count += 1;
    s.last = at;
    const status = String(fields.status);
    s.byStatus[status] = (s.byStatus[status] ?? 0) + 1;
    this.#window.reportAtEnd(now);
  }

  /** Writes the count of the refusals not recorded one by one, if there were any. */
  flush(): void {
    this.#window.end();
  }

  #writeSuppressed(): void {
    const s = this.#suppressed;
    this.#suppressed = null;
    if (s === null) return;
    this.#audit.append({
      type: 'webhook.refused',
      actor: 'unknown',
      fields: {
        suppressed: s.count,
        byStatus: s.byStatus,
        firstAt: s.first,
        lastAt: s.last,
        reason: `more than ${this.#perWindow} deliveries were refused within ${this.#window.ms / 1000} s: these are counted here, not recorded one by one`,
      },
    });
  }
}
