// Who may use a repository's object cache at once. Fetches may overlap one another (each writes
// its own ref), but a fetch's connectivity check walks every worktree's HEAD, and `git worktree
// add` writes a placeholder HEAD before the real one: a fetch that reads it fails with "bad
// object worktrees/…/HEAD" (and so does a gc). So adding a tree takes the cache alone, as do
// the quick steps of tidying it (prune, dropping refs); fetches and gc share it.

/** A shared/exclusive lock that serves waiters in arrival order, so no side starves. */
export class SharedExclusiveLock {
  #shared = 0;
  #exclusive = false;
  readonly #waiting: { exclusive: boolean; enter: () => void }[] = [];

  /** Runs `fn` alongside other shared holders, never beside an exclusive one. */
  shared<T>(fn: () => Promise<T>): Promise<T> {
    return this.#run(false, fn);
  }

  /** Runs `fn` with nobody else holding the lock. */
  exclusive<T>(fn: () => Promise<T>): Promise<T> {
    return this.#run(true, fn);
  }

  /** Nobody holds the lock and nobody waits for it. */
  get idle(): boolean {
    return this.#shared === 0 && !this.#exclusive && this.#waiting.length === 0;
  }

  async #run<T>(exclusive: boolean, fn: () => Promise<T>): Promise<T> {
    await this.#acquire(exclusive);
    try {
      return await fn();
    } finally {
      if (exclusive) this.#exclusive = false;
      else this.#shared -= 1;
      this.#admit();
    }
  }

  #acquire(exclusive: boolean): Promise<void> {
    if (this.#waiting.length === 0 && this.#fits(exclusive)) {
      this.#take(exclusive);
      return Promise.resolve();
    }
    return new Promise((resolve) => this.#waiting.push({ exclusive, enter: resolve }));
  }

  #fits(exclusive: boolean): boolean {
    return exclusive ? this.#shared === 0 && !this.#exclusive : !this.#exclusive;
  }

  #take(exclusive: boolean): void {
    if (exclusive) this.#exclusive = true;
    else this.#shared += 1;
  }

  /** Lets waiters in, oldest first, until the next one has to wait. */
  #admit(): void {
    for (let next = this.#waiting[0]; next !== undefined && this.#fits(next.exclusive); next = this.#waiting[0]) {
      this.#waiting.shift();
      this.#take(next.exclusive);
      next.enter();
    }
  }
}

/** One lock per cache directory. A server holds one registry and passes it in its GitContext. */
export class CacheLocks {
  readonly #locks = new Map<string, SharedExclusiveLock>();

  of(cache: string): SharedExclusiveLock {
    let lock = this.#locks.get(cache);
    if (lock === undefined) {
      lock = new SharedExclusiveLock();
      this.#locks.set(cache, lock);
    }
    return lock;
  }
}
