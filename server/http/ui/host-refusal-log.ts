// Warnings about web UI requests refused for their Host, without one line per request: a proxy
// that rewrites Host refuses every page load, and a rebinding page can send thousands. In each
// minute the first refusal of each Host (up to HOSTS_PER_WINDOW of them) is logged at warn at
// once, as it is the news an operator needs; the rest are counted, and when the minute is over
// one more warning says how many there were. Hosts arrive clipped (host-check.ts), so memory is
// bounded too.

import type { Logger } from 'pino';
import { CountingWindow } from '../counting-window.js';

export const HOSTS_PER_WINDOW = 20;
export const HOST_REFUSAL_WINDOW_MS = 60_000;

export class HostRefusalLog {
  readonly #log: Logger;
  readonly #window: CountingWindow;
  readonly #perWindow: number;
  /** Refusals in this window after each Host's first, by Host. */
  #repeats = new Map<string, number>();
  /** Refusals in this window from Hosts past the cap, none of them logged. */
  #fromOtherHosts = 0;

  constructor(log: Logger, opts: { windowMs?: number; perWindow?: number } = {}) {
    this.#log = log;
    this.#window = new CountingWindow(opts.windowMs ?? HOST_REFUSAL_WINDOW_MS, () => this.#logRepeats());
    this.#perWindow = opts.perWindow ?? HOSTS_PER_WINDOW;
  }

  refused(host: string): void {
    const now = Date.now();
    this.#window.enter(now);
    const seen = this.#repeats.get(host);
    if (seen !== undefined) {
      this.#repeats.set(host, seen + 1);
    } else if (this.#repeats.size < this.#perWindow) {
      this.#repeats.set(host, 0);
      this.#log.warn({ host, fix: 'add the name to TIDELINE_WEB_HOSTS, or set TIDELINE_URL, if this is how people reach Tideline' }, 'web UI request refused: its Host is not a name this server answers to');
    } else {
      this.#fromOtherHosts += 1;
    }
    if (seen !== undefined || this.#fromOtherHosts > 0) this.#window.reportAtEnd(now);
  }

  /** Logs the refusals counted but not logged in the window, if there were any, and starts afresh. */
  flush(): void {
    this.#window.end();
  }

  #logRepeats(): void {
    const hosts = Object.fromEntries([...this.#repeats].filter(([, count]) => count > 0));
    const fromOtherHosts = this.#fromOtherHosts;
    this.#repeats = new Map();
    this.#fromOtherHosts = 0;
    const repeats = Object.values(hosts).reduce((sum, count) => sum + count, 0);
    if (repeats === 0 && fromOtherHosts === 0) return;
    this.#log.warn(
      { repeats, hosts, ...(fromOtherHosts > 0 ? { fromOtherHosts } : {}), windowSeconds: this.#window.ms / 1000 },
      'web UI requests refused for their Host again: counted here, not logged one by one',
    );
  }
}
