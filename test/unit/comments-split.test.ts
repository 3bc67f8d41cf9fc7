import { describe, expect, it } from 'vitest';

import type { PlanOutcome } from '../../runners/types.js';
import {
  COMMENT_LIMIT,
  parseCommentMarker,
  renderPlan,
  splitComment,
  type ProjectPlanResult,
} from '../../server/comments/index.js';

/** `resources` created terraform_data resources: 7 lines, about 330 characters each. */
function bigPlanOutput(tag: string, resources: number): string {
  const lines: string[] = [];
  for (let i = 0; i < resources; i += 1) {
    const id = `${tag}_${String(i).padStart(5, '0')}`;
    lines.push(
      `  # terraform_data.${id} will be created`,
      `  + resource "terraform_data" "${id}" {`,
      '      + id     = (known after apply)',
      `      + input  = "${'v'.repeat(120)}-${id}"`,
      '      + output = (known after apply)',
      '    }',
      '',
    );
  }
  lines.push(`Plan: ${resources} to add, 0 to change, 0 to destroy.`);
  return lines.join('\n');
}

function result(dir: string, output: string): ProjectPlanResult {
  const outcome: PlanOutcome = { result: 'changes', summary: null, output, exitCode: 2, durationMs: 1 };
  return { project: { dir, workspace: 'default', kind: 'terraform' }, outcome };
}

/** What is open at the end of a part, read with CommonMark's fence rules (written apart from the splitter). */
function openBlocksAtEnd(text: string): { fence: string | null; details: number } {
  let fence: string | null = null;
  let details = 0;
  for (const line of text.split('\n')) {
    if (fence !== null) {
      const close = /^ {0,3}(`{3,}|~{3,})\s*$/.exec(line);
      if (close?.[1] !== undefined && close[1][0] === fence[0] && close[1].length >= fence.length) {
        fence = null;
      }
      continue;
    }
    const open = /^ {0,3}(`{3,}|~{3,})/.exec(line);
    if (open?.[1] !== undefined) {
      fence = open[1];
      continue;
    }
    // A tag inside a code span is text (a project dir named `<details>`).
    const html = line.replace(/(`+)(?:[^`]|[^`][\s\S]*?[^`])\1(?!`)/g, '');
    details += (html.match(/<details[\s>]/g) ?? []).length;
    details -= (html.match(/<\/details>/g) ?? []).length;
  }
  return { fence, details };
}

const ADDED_LINE = [
  /^$/,
  /^_\(continued, part \d+ of \d+\)_$/,
  /^_\(part \d+ of \d+, continued in the next comment\)_$/,
  /^<!-- tideline:plan -->$/,
  /^`{3,}(diff)?$/,
  /^<details><summary>Show Output<\/summary>$/,
  /^<\/details>$/,
];

/**
 * Every line of `body`, in order, must appear in the parts, and any other line in the parts
 * must be one the splitter adds (headers, footers, markers, fences and details reopened).
 */
function expectContentPreserved(body: string, parts: readonly string[]): void {
  const original = body.split('\n');
  const joined = parts.join('\n').split('\n');
  let next = 0;
  const extra: string[] = [];
  for (const line of joined) {
    if (next < original.length && line === original[next]) {
      next += 1;
    } else {
      extra.push(line);
    }
  }
  expect(next).toBe(original.length);
  expect(extra.filter((line) => !ADDED_LINE.some((re) => re.test(line)))).toEqual([]);
}

describe('splitComment on a 200k-character plan', () => {
  const body = renderPlan({ prefix: 'tideline' }, [
    result('a', bigPlanOutput('a', 220)),
    result('b', bigPlanOutput('b', 220)),
    result('c', bigPlanOutput('c', 220)),
  ]);
  const parts = splitComment(body);

  it('is really over 200k characters and splits into several parts', () => {
    expect(body.length).toBeGreaterThan(200_000);
    expect(parts.length).toBeGreaterThanOrEqual(4);
  });

  it('keeps every part within the limit', () => {
    for (const part of parts) {
      expect(part.length).toBeLessThanOrEqual(COMMENT_LIMIT);
    }
  });

  it('fills parts well, not one line at a time', () => {
    expect(parts.length).toBeLessThanOrEqual(Math.ceil(body.length / COMMENT_LIMIT) + 1);
  });

  it('balances ``` fences in every part', () => {
    for (const part of parts) {
      const fenceLines = part.split('\n').filter((line) => line.startsWith('```'));
      expect(fenceLines.length % 2).toBe(0);
      expect(openBlocksAtEnd(part)).toEqual({ fence: null, details: 0 });
    }
  });

  it('loses, reorders and alters nothing', () => {
    expectContentPreserved(body, parts);
  });

  it('marks parts after the first as continued and every part as a plan comment', () => {
    const total = parts.length;
    parts.forEach((part, i) => {
      expect(parseCommentMarker(part)).toBe('plan');
      if (i > 0) {
        expect(part.startsWith(`_(continued, part ${i + 1} of ${total})_\n`)).toBe(true);
      }
      if (i < total - 1) {
        expect(part).toContain(`_(part ${i + 1} of ${total}, continued in the next comment)_`);
      }
    });
  });

  it('reopens the diff block folded in details where it was cut', () => {
    const second = parts[1] ?? '';
    expect(second).toMatch(/^_\(continued, part 2 of \d+\)_\n\n<details><summary>Show Output<\/summary>\n\n```diff\n/);
  });
});

describe('splitComment with nested fences', () => {
  it('keeps a longer fence around output that holds ``` balanced in every part', () => {
    const inner = `${bigPlanOutput('n', 150)}\n\`\`\`\nembedded fence\n\`\`\`\n${bigPlanOutput('m', 150)}`;
    const body = renderPlan({ prefix: 'tideline' }, [result('a', inner)]);
    expect(body).toContain('````diff\n');
    const parts = splitComment(body);
    expect(parts.length).toBeGreaterThan(1);
    for (const part of parts) {
      expect(part.length).toBeLessThanOrEqual(COMMENT_LIMIT);
      expect(openBlocksAtEnd(part)).toEqual({ fence: null, details: 0 });
      expect(part).toMatch(/^(_\(continued.*\n\n<details><summary>Show Output<\/summary>\n\n````diff\n|Ran Plan)/);
    }
  });

  it.each([400, 1000, 4096, 20_000])('keeps parts within a limit of %i with fences, details and markers', (limit) => {
    const body = renderPlan({ prefix: 'tideline' }, [result('a', bigPlanOutput('a', 40)), result('b', bigPlanOutput('b', 40))]);
    const parts = splitComment(body, limit);
    expect(parts.length).toBeGreaterThan(1);
    for (const part of parts) {
      expect(part.length).toBeLessThanOrEqual(limit);
      expect(openBlocksAtEnd(part)).toEqual({ fence: null, details: 0 });
    }
    expectContentPreserved(body, parts);
  });
});

describe('splitComment edge cases', () => {
  it('returns a body within the limit unchanged', () => {
    expect(splitComment('short\n<!-- tideline:plan -->')).toEqual(['short\n<!-- tideline:plan -->']);
  });

  it('hard-cuts a single line longer than the limit', () => {
    const line = 'x'.repeat(150_000);
    const parts = splitComment(line);
    expect(parts).toHaveLength(3);
    for (const part of parts) {
      expect(part.length).toBeLessThanOrEqual(COMMENT_LIMIT);
    }
    const pieces = parts.map((part) => part.split('\n').filter((l) => /^x+$/.test(l)).join(''));
    expect(pieces.join('')).toBe(line);
  });

  it('never cuts an emoji in half', () => {
    const line = '🌊'.repeat(400);
    const parts = splitComment(line, 301);
    for (const part of parts) {
      expect(part.length).toBeLessThanOrEqual(301);
      expect(part).not.toMatch(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/);
    }
    expect(parts.map((p) => p.split('\n').filter((l) => l.startsWith('🌊')).join('')).join('')).toBe(line);
  });

  it('refuses a limit too small to hold any content', () => {
    expect(() => splitComment('a'.repeat(100), 20)).toThrow(RangeError);
  });
});

describe('splitComment with a project named like an HTML tag', () => {
  it.each(['<details>', '</details>'])('counts %s in a code span as text, not as a block to close and reopen', (dir) => {
    const body = renderPlan({ prefix: 'tideline' }, [result(dir, '  + resource "a" "b" {}'), result('big', bigPlanOutput('b', 700))]);
    const parts = splitComment(body);
    expect(parts.length).toBeGreaterThan(2);
    for (const part of parts) {
      expect(part.length).toBeLessThanOrEqual(COMMENT_LIMIT);
      expect(openBlocksAtEnd(part)).toEqual({ fence: null, details: 0 });
    }
    expectContentPreserved(body, parts);
  });
});
