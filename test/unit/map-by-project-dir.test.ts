import { describe, expect, it } from 'vitest';
import { mapByProjectDir } from '../../server/jobs/run-project.js';

interface P {
  name: string;
  dir: string;
  workspace: string;
}

function tick(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

describe('mapByProjectDir', () => {
  it('runs projects of one dir and workspace one after another, others beside them, results in order', async () => {
    const projects: P[] = [
      { name: 'one', dir: 'app', workspace: 'default' },
      { name: 'other', dir: 'net', workspace: 'default' },
      { name: 'two', dir: 'app', workspace: 'default' },
      { name: 'staging', dir: 'app', workspace: 'staging' },
    ];
    const running = new Map<string, number>();
    const log: string[] = [];
    let peak = 0;
    let active = 0;
    const results = await mapByProjectDir(projects, 4, async (p) => {
      const key = `${p.workspace}/${p.dir}`;
      running.set(key, (running.get(key) ?? 0) + 1);
      active += 1;
      peak = Math.max(peak, active);
      if ((running.get(key) ?? 0) > 1) log.push(`${p.name} overlapped in ${key}`);
      await tick(20);
      running.set(key, (running.get(key) ?? 0) - 1);
      active -= 1;
      return p.name;
    });
    expect(results).toEqual(['one', 'other', 'two', 'staging']);
    expect(log).toEqual([]);
    // app/default, net/default and app/staging ran at once; `two` waited for `one`.
    expect(peak).toBe(3);
  });

  it('keeps to the limit across dirs', async () => {
    const projects: P[] = ['a', 'b', 'c', 'd'].map((dir) => ({ name: dir, dir, workspace: 'default' }));
    let active = 0;
    let peak = 0;
    await mapByProjectDir(projects, 2, async () => {
      active += 1;
      peak = Math.max(peak, active);
      await tick(10);
      active -= 1;
    });
    expect(peak).toBe(2);
  });
});
