// The output of running jobs, line by line as terraform or kubectl prints it (already masked
// by the exec door), for the web UI's live view. Bounded per job; kept briefly after a job
// ends so a page opened just then still sees the whole run.

export type OutputEvent = { kind: 'line'; text: string } | { kind: 'end'; state: string };
export type OutputListener = (event: OutputEvent) => void;

interface JobOutput {
  lines: string[];
  dropped: number;
  listeners: Set<OutputListener>;
  ended: string | null;
}

export interface LiveOutputOptions {
  /** Lines kept per job; older lines are dropped (and counted). */
  maxLines?: number;
  /** How long a finished job's output stays; default 10 minutes. */
  keepMs?: number;
}

export class LiveOutput {
  readonly #jobs = new Map<number, JobOutput>();
  readonly #maxLines: number;
  readonly #keepMs: number;

  constructor(opts: LiveOutputOptions = {}) {
    this.#maxLines = opts.maxLines ?? 5000;
    this.#keepMs = opts.keepMs ?? 10 * 60_000;
  }

  /** A chunk of output of job `id`; split into lines. */
  append(id: number, chunk: string): void {
    const job = this.#job(id);
    for (const text of chunk.replace(/\r?\n$/, '').split(/\r?\n/)) {
      job.lines.push(text);
      if (job.lines.length > this.#maxLines) {
        job.lines.shift();
        job.dropped += 1;
      }
      for (const listener of job.listeners) listener({ kind: 'line', text });
    }
  }

  end(id: number, state: string): void {
    const job = this.#job(id);
    job.ended = state;
    for (const listener of job.listeners) listener({ kind: 'end', state });
    job.listeners.clear();
    setTimeout(() => this.#jobs.delete(id), this.#keepMs).unref();
  }

  /** What job `id` printed so far, and whether it ended. */
  snapshot(id: number): { lines: readonly string[]; dropped: number; ended: string | null } {
    const job = this.#jobs.get(id);
    return job === undefined ? { lines: [], dropped: 0, ended: null } : { lines: [...job.lines], dropped: job.dropped, ended: job.ended };
  }

  /** Listens for new lines of job `id`; returns the unsubscribe function. */
  subscribe(id: number, listener: OutputListener): () => void {
    const job = this.#job(id);
    if (job.ended !== null) {
      listener({ kind: 'end', state: job.ended });
      return () => {};
    }
    job.listeners.add(listener);
    return () => {
      job.listeners.delete(listener);
      // A job that prints nothing (a reply, a release) never calls end(): the entry a watcher
      // made for it goes with the last watcher, instead of staying for the server's lifetime.
      if (job.listeners.size === 0 && job.lines.length === 0 && job.dropped === 0 && job.ended === null && this.#jobs.get(id) === job) this.#jobs.delete(id);
    };
  }

  /** How many jobs have output or watchers kept (for tests of what is let go). */
  get size(): number {
    return this.#jobs.size;
  }

  #job(id: number): JobOutput {
    let job = this.#jobs.get(id);
    if (job === undefined) {
      job = { lines: [], dropped: 0, listeners: new Set(), ended: null };
      this.#jobs.set(id, job);
    }
    return job;
  }
}
