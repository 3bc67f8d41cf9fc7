// GitHub's documented secondary limit on content: at most 500 content-creating requests an
// hour (beside 80 a minute, which the write buckets of write-pacing.ts keep). The buckets let
// a write a second through, which a server writing without pause for eight minutes turns into
// a secondary-rate-limit error and lost replies. This window holds the 501st write until the
// first of the last 500 is an hour old: exact over any sliding hour, and free below it.

import type { Octokit } from '@octokit/rest';

/** The GitHub limit. Every write counts, which is conservative: GitHub does not list which do. */
export const CONTENT_PER_HOUR = 500;
export const HOUR_MS = 3_600_000;

export class ContentWindow {
  readonly #limit: number;
  readonly #windowMs: number;
  readonly #onWait: (waitMs: number) => void;
  readonly #now: () => number;
  /** Start times of the writes of the last window, oldest first. */
  readonly #starts: number[] = [];
  /** Writes take their turn in order, so a waiting write is never overtaken. */
  #turn: Promise<void> = Promise.resolve();

  constructor(opts: { limit: number; windowMs: number; onWait: (waitMs: number) => void; now?: () => number }) {
    this.#limit = opts.limit;
    this.#windowMs = opts.windowMs;
    this.#onWait = opts.onWait;
    this.#now = opts.now ?? Date.now;
  }

  /** Resolves when one more write fits in the window, and counts it. */
  take(): Promise<void> {
    const mine = this.#turn.then(() => this.#admit());
    this.#turn = mine;
    return mine;
  }

  async #admit(): Promise<void> {
    this.#forgetOld();
    if (this.#starts.length >= this.#limit) {
      const waitMs = (this.#starts[0] ?? 0) + this.#windowMs - this.#now();
      if (waitMs > 0) {
        this.#onWait(waitMs);
        await new Promise((resolve) => setTimeout(resolve, waitMs));
      }
      this.#forgetOld();
    }
    this.#starts.push(this.#now());
  }

  #forgetOld(): void {
    const horizon = this.#now() - this.#windowMs;
    while (this.#starts.length > 0 && (this.#starts[0] ?? 0) <= horizon) this.#starts.shift();
  }
}

/** An Octokit plugin: with `contentWindow` given, every write waits for its place in it. */
export function contentLimit(octokit: Pick<Octokit, 'hook'>, options: { [option: string]: unknown }): void {
  const window = options['contentWindow'];
  if (!(window instanceof ContentWindow)) return;
  octokit.hook.before('request', async (request) => {
    if (request.method === 'GET' || request.method === 'HEAD') return;
    // An installation token is not content, and a write waiting for the window may need one.
    if (/\/access_tokens$/.test(request.url)) return;
    await window.take();
  });
}
