// The window both refusal counters keep (refused deliveries in the audit log, refused Hosts in
// the log): a minute that starts with the first event after the last one ended, and a timer,
// set only once something was held back, that reports what was held when the minute is over.
// The timer is unref'd, so it never keeps the server alive; its owner reports at stop itself.

export class CountingWindow {
  readonly #ms: number;
  readonly #report: () => void;
  #start = Number.NEGATIVE_INFINITY;
  #timer: NodeJS.Timeout | null = null;

  /** `report` logs or records what the window held back, and forgets it. */
  constructor(ms: number, report: () => void) {
    this.#ms = ms;
    this.#report = report;
  }

  get ms(): number {
    return this.#ms;
  }

  /** Call first for each event: reports the window before when it is over, and returns whether a new one began. */
  enter(now: number): boolean {
    if (now - this.#start < this.#ms) return false;
    this.end();
    this.#start = now;
    return true;
  }

  /** Something was held back: report it when this window is over, unless `end` comes first. */
  reportAtEnd(now: number): void {
    if (this.#timer !== null) return;
    this.#timer = setTimeout(() => this.end(), this.#start + this.#ms - now);
    this.#timer.unref();
  }

  /** Reports now (the window is over, or the server stops). */
  end(): void {
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = null;
    this.#report();
  }
}
