// Warnings about web UI requests refused for their Host, without one line per request: a proxy
// that rewrites Host refuses every page load, and a rebinding page can send thousands. In each
// minute the first refusal of each Host (up to HOSTS_PER_WINDOW of them) is logged at warn at
// once, as it is the news an operator needs; the rest are counted, and when the minute is over
// one more warning says how many there were. Hosts arrive clipped (host-check.ts), so memory is
// bounded too.

import type { Logger } from 'pino';

export const HOSTS_PER_WINDOW = 20;
export const HOST_REFUSAL_WINDOW_MS = 60_000;

export class HostRefusalLog {
  readonly #log: Logger;
  readonly #windowMs: number;
  readonly #perWindow: number;
  #windowStart = Number.NEGATIVE_INFINITY;
  /** Refusals in this window after each Host's first, by Host. */
  #repeats = new Map<string, number>();
  /** Refusals in this window from Hosts past the cap, none of them logged. */
  #fromOtherHosts = 0;
  #timer: NodeJS.Timeout | null = null;

  constructor(log: Logger, opts: { windowMs?: number; perWindow?: number } = {}) {
    this.#log = log;
    this.#windowMs = opts.windowMs ?? HOST_REFUSAL_WINDOW_MS;
    this.#perWindow = opts.perWindow ?? HOSTS_PER_WINDOW;
  }

  refused(host: string): void {
    const now = Date.now();
    if (now - this.#windowStart >= this.#windowMs) {
      this.flush();
      this.#windowStart = now;
    }
    const seen = this.#repeats.get(host);
    if (seen !== undefined) {
      this.#repeats.set(host, seen + 1);
    } else if (this.#repeats.size < this.#perWindow) {
      this.#repeats.set(host, 0);
      this.#log.warn({ host, fix: 'add the name to TIDELINE_WEB_HOSTS, or set TIDELINE_URL, if this is how people reach Tideline' }, 'web UI request refused: its Host is not a name this server answers to');
    } else {
      this.#fromOtherHosts += 1;
    }
    if (this.#timer === null && (seen !== undefined || this.#fromOtherHosts > 0)) {
      this.#timer = setTimeout(() => this.flush(), this.#windowStart + this.#windowMs - now);
      this.#timer.unref();
    }
  }

  /** Logs the refusals counted but not logged in the window, if there were any, and starts afresh. */
  flush(): void {
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = null;
    const hosts = Object.fromEntries([...this.#repeats].filter(([, count]) => count > 0));
    const fromOtherHosts = this.#fromOtherHosts;
    this.#repeats = new Map();
    this.#fromOtherHosts = 0;
    const repeats = Object.values(hosts).reduce((sum, count) => sum + count, 0);
    if (repeats === 0 && fromOtherHosts === 0) return;
    this.#log.warn(
      { repeats, hosts, ...(fromOtherHosts > 0 ? { fromOtherHosts } : {}), windowSeconds: this.#windowMs / 1000 },
      'web UI requests refused for their Host again: counted here, not logged one by one',
    );
  }
}
