// Small markdown builders shared by the renderers: safe code fences, inline code, folded
// blocks, heading anchors and the hidden marker line.

import { COMMENT_KINDS, type CommentKind } from './types.js';

/** Outputs longer than this many lines are folded inside `<details>` (Atlantis's threshold). */
export const MAX_UNWRAPPED_LINES = 12;

// Terminal escapes (ECMA-48): CSI sequences with any parameters (`ESC [ 1 ; 32 m`, `ESC [ 2 K`),
// OSC strings such as hyperlinks (`ESC ] 8 ; ; url BEL`), and two-byte escapes such as the
// charset switch `ESC ( B` that `tput sgr0` prints. Left in, they show as stray text.
const ANSI_ESCAPE = /\u001b\[[0-?]*[ -/]*[@-~]|\u001b\][^\u0007\u001b]*(?:\u0007|\u001b\\)?|\u001b[ -/]*[0-~]/g;
const MARKER_LINE = /^<!-- tideline:([a-z][a-z-]*) -->$/;

/** CRLF to LF, no ANSI colour codes, no trailing blank lines. Leading indentation is kept. */
export function normalizeOutput(output: string): string {
  return output
    .replace(/\r\n?/g, '\n')
    .replace(ANSI_ESCAPE, '')
    .replace(/\s+$/, '');
}

/** A backtick fence longer than any backtick run inside `content` (at least three). */
export function fenceFor(content: string): string {
  let longest = 0;
  for (const run of content.match(/`+/g) ?? []) {
    longest = Math.max(longest, run.length);
  }
  return '`'.repeat(Math.max(3, longest + 1));
}

/** A fenced code block that `content` cannot break out of. */
export function codeBlock(content: string, info = ''): string {
  const fence = fenceFor(content);
  return `${fence}${info}\n${content}\n${fence}`;
}

/**
 * Inline code that stays intact when `text` itself holds backticks or control characters. A
 * line break would end the span at a heading or a blank line, so those are shown as `\x0a`:
 * git allows them in the directory names autodiscovery turns into projects.
 */
export function inlineCode(raw: string): string {
  const text = raw.replace(/[\u0000-\u001f\u007f]/g, (char) => `\\x${char.charCodeAt(0).toString(16).padStart(2, '0')}`);
  if (!text.includes('`')) {
    return `\`${text}\``;
  }
  let longest = 0;
  for (const run of text.match(/`+/g) ?? []) {
    longest = Math.max(longest, run.length);
  }
  const ticks = '`'.repeat(longest + 1);
  return `${ticks} ${text} ${ticks}`;
}

/** A collapsed `<details>` block; the blank lines let GitHub render the markdown inside. */
export function details(summary: string, inner: string): string {
  return `<details><summary>${summary}</summary>\n\n${inner}\n\n</details>`;
}

export function countLines(text: string): number {
  return text === '' ? 0 : text.split('\n').length;
}

/** Whether `outputBlock` folds this content (Atlantis's wrapped templates). */
export function isFolded(content: string): boolean {
  return countLines(content) > MAX_UNWRAPPED_LINES;
}

/** Output in a code block, folded under "Show Output" when longer than 12 lines. */
export function outputBlock(content: string, info: string): string {
  const block = codeBlock(content, info);
  return isFolded(content) ? details('Show Output', block) : block;
}

/** `plan` → `Plan`. */
export function capitalize(word: string): string {
  return word.charAt(0).toUpperCase() + word.slice(1);
}

/**
 * The id GitHub gives a heading (github-slugger's rule): lower case, drop everything but
 * letters, marks, numbers, `_`, `-` and spaces, spaces become hyphens. Code-span backticks
 * are markup, not text, so they go too.
 */
export function headingAnchor(headingMarkdown: string): string {
  return headingMarkdown
    .toLowerCase()
    .replace(/[^\p{L}\p{M}\p{N}\p{Pc} -]/gu, '')
    .replace(/ /g, '-');
}

/** The hidden last line of every comment Tideline posts. The word is fixed, whatever the prefix. */
export function commentMarker(kind: CommentKind): string {
  return `<!-- tideline:${kind} -->`;
}

/** The kind of a Tideline comment, read from its marker line; null for anyone else's comment. */
export function parseCommentMarker(body: string): CommentKind | null {
  const lines = body.replace(/\s+$/, '').split('\n');
  const last = lines[lines.length - 1] ?? '';
  const match = MARKER_LINE.exec(last.trim());
  const kind = match?.[1];
  return COMMENT_KINDS.find((k) => k === kind) ?? null;
}

/** Joins blocks with blank lines and appends the marker line. */
export function finishComment(blocks: readonly string[], kind: CommentKind): string {
  const body = blocks.filter((b) => b !== '').join('\n\n');
  return `${body}\n\n${commentMarker(kind)}`;
}
