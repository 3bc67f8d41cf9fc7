import { describe, expect, it } from 'vitest';
import { unifiedDiff } from '../../runners/kubernetes-text-diff.js';

/** Applies a unified diff made by unifiedDiff to `old`, checking every context and removed line. */
function applyPatch(old: string, patch: string): string {
  const source = old === '' ? [] : old.replace(/\n$/, '').split('\n');
  const result: string[] = [];
  let at = 0;
  const lines = patch.replace(/\n$/, '').split('\n').slice(2);
  let i = 0;
  while (i < lines.length) {
    const header = /^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@$/.exec(lines[i] ?? '');
    if (header === null) throw new Error(`bad hunk header ${lines[i]}`);
    const oldStart = Number(header[1]);
    const oldCount = header[2] === undefined ? 1 : Number(header[2]);
    const newCount = header[4] === undefined ? 1 : Number(header[4]);
    const start = oldCount === 0 ? oldStart : oldStart - 1;
    while (at < start) result.push(source[at++] ?? '');
    i += 1;
    let seenOld = 0;
    let seenNew = 0;
    while (i < lines.length && !(lines[i] ?? '').startsWith('@@')) {
      const line = lines[i] ?? '';
      const text = line.slice(1);
      if (line.startsWith('+')) {
        result.push(text);
        seenNew += 1;
      } else {
        if (source[at] !== text) throw new Error(`context mismatch at old line ${at + 1}`);
        if (line.startsWith(' ')) {
          result.push(text);
          seenNew += 1;
        }
        at += 1;
        seenOld += 1;
      }
      i += 1;
    }
    if (seenOld !== oldCount || seenNew !== newCount) throw new Error('hunk counts do not match its lines');
  }
  while (at < source.length) result.push(source[at++] ?? '');
  return result.length === 0 ? '' : `${result.join('\n')}\n`;
}

function seeded(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state * 1_103_515_245 + 12_345) % 2_147_483_648;
    return state / 2_147_483_648;
  };
}

describe('unifiedDiff', () => {
  it('is empty for equal texts', () => {
    expect(unifiedDiff('a\nb\n', 'a\nb\n', 'live/x', 'merged/x')).toBe('');
  });

  it('shows one changed line with three lines of context', () => {
    const before = 'a\nb\nc\nd\nreplicas: 2\ne\nf\ng\nh\n';
    const after = 'a\nb\nc\nd\nreplicas: 3\ne\nf\ng\nh\n';
    expect(unifiedDiff(before, after, 'live/x', 'merged/x')).toBe(
      ['--- live/x', '+++ merged/x', '@@ -2,7 +2,7 @@', ' b', ' c', ' d', '-replicas: 2', '+replicas: 3', ' e', ' f', ' g', ''].join('\n'),
    );
  });

  it('shows a create as all additions from line 0', () => {
    expect(unifiedDiff('', 'a\nb\n', 'live/x', 'merged/x')).toBe('--- live/x\n+++ merged/x\n@@ -0,0 +1,2 @@\n+a\n+b\n');
    expect(unifiedDiff('a\n', '', 'live/x', 'merged/x')).toBe('--- live/x\n+++ merged/x\n@@ -1 +0,0 @@\n-a\n');
  });

  it('splits distant changes into separate hunks', () => {
    const before = Array.from({ length: 30 }, (_, i) => `line ${i}`).join('\n');
    const after = before.replace('line 2\n', 'line two\n').replace('line 25\n', 'line twenty-five\n');
    const diff = unifiedDiff(`${before}\n`, `${after}\n`, 'a', 'b');
    expect(diff.match(/^@@/gm)).toHaveLength(2);
  });

  it('turns the old text into the new one for many random pairs', () => {
    const random = seeded(42);
    for (let round = 0; round < 400; round += 1) {
      const text = (): string => {
        const n = Math.floor(random() * 25);
        const lines = Array.from({ length: n }, () => `l${Math.floor(random() * 5)}`);
        return n === 0 ? '' : `${lines.join('\n')}\n`;
      };
      const before = text();
      const after = text();
      const diff = unifiedDiff(before, after, 'a', 'b');
      if (before === after) expect(diff).toBe('');
      else expect(applyPatch(before, diff)).toBe(after);
    }
  });

  it('still produces a correct diff when the texts share nothing and are long', () => {
    const before = Array.from({ length: 3_000 }, (_, i) => `old ${i}`).join('\n');
    const after = Array.from({ length: 3_000 }, (_, i) => `new ${i}`).join('\n');
    const diff = unifiedDiff(`${before}\n`, `${after}\n`, 'a', 'b');
    expect(applyPatch(`${before}\n`, diff)).toBe(`${after}\n`);
  });
});
