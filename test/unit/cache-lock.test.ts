// The shared/exclusive lock that keeps `git worktree add` and cache tidying away from fetches.

import { describe, expect, it } from 'vitest';
import { SharedExclusiveLock } from '../../server/workspace/cache-lock.js';

/** A task that records when it starts and ends, and finishes only when told to. */
function gate(log: string[], name: string): { run: () => Promise<string>; open: () => void } {
  let open = (): void => {};
  const opened = new Promise<void>((resolve) => {
    open = resolve;
  });
  return {
    run: async () => {
      log.push(`${name} in`);
      await opened;
      log.push(`${name} out`);
      return name;
    },
    open: () => open(),
  };
}

const tick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('SharedExclusiveLock', () => {
  it('lets shared holders overlap', async () => {
    const lock = new SharedExclusiveLock();
    const log: string[] = [];
    const a = gate(log, 'a');
    const b = gate(log, 'b');
    const both = Promise.all([lock.shared(a.run), lock.shared(b.run)]);
    await tick();
    expect(log).toEqual(['a in', 'b in']);
    a.open();
    b.open();
    expect(await both).toEqual(['a', 'b']);
    expect(lock.idle).toBe(true);
  });

  it('runs an exclusive holder alone, and serves waiters in arrival order', async () => {
    const lock = new SharedExclusiveLock();
    const log: string[] = [];
    const fetch1 = gate(log, 'fetch1');
    const add = gate(log, 'add');
    const fetch2 = gate(log, 'fetch2');
    const done = Promise.all([lock.shared(fetch1.run), lock.exclusive(add.run), lock.shared(fetch2.run)]);
    await tick();
    // fetch2 came after the waiting add: it waits too, so an add is never starved.
    expect(log).toEqual(['fetch1 in']);
    fetch1.open();
    await tick();
    expect(log).toEqual(['fetch1 in', 'fetch1 out', 'add in']);
    add.open();
    await tick();
    expect(log).toEqual(['fetch1 in', 'fetch1 out', 'add in', 'add out', 'fetch2 in']);
    fetch2.open();
    await done;
    expect(lock.idle).toBe(true);
  });

  it('lets go when the holder fails', async () => {
    const lock = new SharedExclusiveLock();
    await expect(lock.exclusive(() => Promise.reject(new Error('git failed')))).rejects.toThrow('git failed');
    expect(lock.idle).toBe(true);
    await expect(lock.exclusive(async () => 'next')).resolves.toBe('next');
  });
});
