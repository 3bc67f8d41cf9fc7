// Splitting a comment body that is longer than GitHub allows into several comments, each of
// which renders on its own: a code fence or `<details>` the cut falls inside is closed at the
// end of one part and reopened at the start of the next.

/** GitHub's maximum comment body length. */
export const COMMENT_LIMIT = 65536;

const MARKER_AT_END = /\n*(<!-- tideline:[a-z][a-z-]* -->)\n?$/;
const FENCE_OPEN = /^( {0,3})(`{3,}|~{3,})(.*)$/;
const DETAILS_TAG = /<details(?:\s[^>]*)?>|<\/details>/gi;
const DETAILS_OPENER = /<details(?:\s[^>]*)?>(?:\s*<summary>.*?<\/summary>)?/i;
/** A code span: a backtick run, then text, then a run of the same length (CommonMark). */
const CODE_SPAN = /(?<!`)(`+)(?:[^`]|[^`][^]*?[^`])\1(?!`)/g;

interface Fence {
  /** The opening line as written, reused to reopen the block. */
  opener: string;
  char: '`' | '~';
  length: number;
  /** Matches the line that closes this fence (compiled once per fence, not once per line). */
  closer: RegExp;
}

/** What is open after a line: `<details>` blocks outermost first, then at most one fence. */
interface OpenBlocks {
  details: readonly string[];
  fence: Fence | null;
}

const NOTHING_OPEN: OpenBlocks = { details: [], fence: null };

/** CommonMark fences (up to 3 spaces of indent); `<details>` tags counted outside fences. */
function afterLine(open: OpenBlocks, line: string): OpenBlocks {
  const fence = open.fence;
  if (fence !== null) {
    return fence.closer.test(line) ? { details: open.details, fence: null } : open;
  }
  const opening = FENCE_OPEN.exec(line);
  const run = opening?.[2];
  if (opening !== null && run !== undefined) {
    const char = run.startsWith('`') ? '`' : '~';
    const info = opening[3] ?? '';
    if (char === '~' || !info.includes('`')) {
      const closer = new RegExp(`^ {0,3}\\${char}{${run.length},}\\s*$`);
      return { details: open.details, fence: { opener: line, char, length: run.length, closer } };
    }
  }
  if (!/<\/?details/i.test(line)) {
    return open;
  }
  // A tag in a code span is text: a project dir named `<details>` opens nothing.
  const html = line.replace(CODE_SPAN, '');
  const details = [...open.details];
  for (const tag of html.match(DETAILS_TAG) ?? []) {
    if (tag.startsWith('</')) {
      details.pop();
    } else {
      details.push(DETAILS_OPENER.exec(html)?.[0] ?? tag);
    }
  }
  return { details, fence: null };
}

function reopenLines(open: OpenBlocks): string[] {
  const lines: string[] = [];
  for (const opener of open.details) {
    lines.push(opener, '');
  }
  if (open.fence !== null) {
    lines.push(open.fence.opener);
  }
  return lines;
}

function closeLines(open: OpenBlocks): string[] {
  const lines: string[] = [];
  if (open.fence !== null) {
    lines.push(open.fence.char.repeat(open.fence.length));
  }
  for (let i = 0; i < open.details.length; i += 1) {
    lines.push('</details>');
  }
  return lines;
}

function headerLines(part: number, total: number): string[] {
  return [`_(continued, part ${part} of ${total})_`, ''];
}

function footerLines(part: number, total: number): string[] {
  return ['', `_(part ${part} of ${total}, continued in the next comment)_`];
}

interface Part {
  /** Reopened blocks and content. */
  lines: string[];
  /** Lines that close what is still open at the end of the part. */
  close: string[];
}

/** Characters and line count of some lines, so sizes add up without joining. */
interface Measure {
  chars: number;
  count: number;
}

function measure(lines: readonly string[]): Measure {
  let chars = 0;
  for (const line of lines) {
    chars += line.length;
  }
  return { chars, count: lines.length };
}

/** Length of all the measured lines joined with newlines. */
function joinedSize(...measures: readonly Measure[]): number {
  let chars = 0;
  let count = 0;
  for (const m of measures) {
    chars += m.chars;
    count += m.count;
  }
  return chars + Math.max(0, count - 1);
}

/**
 * Lays lines out into parts of at most `limit` characters, reserving room for headers and
 * footers whose numbers have up to `digits` digits, and for the marker lines.
 */
function layout(bodyLines: readonly string[], limit: number, digits: number, marker: readonly string[]): Part[] {
  const widest = Number('9'.repeat(digits));
  const header = measure(headerLines(widest, widest));
  const fixed = measure([...footerLines(widest, widest), ...marker]);
  const none = measure([]);
  // fits() asks for the closers' size once per body line; afterLine hands back the same object
  // while nothing opens or closes, so each state's closers are built and measured once.
  const closeSizes = new WeakMap<OpenBlocks, Measure>();
  const closeMeasure = (open: OpenBlocks): Measure => {
    let size = closeSizes.get(open);
    if (size === undefined) {
      size = measure(closeLines(open));
      closeSizes.set(open, size);
    }
    return size;
  };
  const parts: Part[] = [];
  let open = NOTHING_OPEN;
  let lines: string[] = [];
  let used = none;
  let hasContent = false;

  function fits(line: string, after: OpenBlocks): boolean {
    const head = parts.length === 0 ? none : header;
    return joinedSize(head, used, { chars: line.length, count: 1 }, closeMeasure(after), fixed) <= limit;
  }
  function push(line: string): void {
    lines.push(line);
    used = { chars: used.chars + line.length, count: used.count + 1 };
    hasContent = true;
  }
  function endPart(): void {
    parts.push({ lines, close: closeLines(open) });
    lines = reopenLines(open);
    used = measure(lines);
    hasContent = false;
  }

  for (const bodyLine of bodyLines) {
    // A line changes what is open only once it is complete, even when it is hard-cut.
    const next = afterLine(open, bodyLine);
    let rest = bodyLine;
    for (;;) {
      if (fits(rest, next)) {
        push(rest);
        open = next;
        break;
      }
      if (hasContent) {
        endPart();
        continue;
      }
      // Alone in a fresh part and still too long: hard-cut, never inside a surrogate pair.
      const head = parts.length === 0 ? none : header;
      let room = limit - joinedSize(head, used, measure(['']), measure(closeLines(open)), fixed);
      room = Math.min(room, rest.length - 1);
      if (room > 1 && /[\uD800-\uDBFF]/.test(rest.charAt(room - 1))) {
        room -= 1;
      }
      if (room < 1) {
        throw new RangeError(`comment limit ${limit} is too small to hold any content`);
      }
      push(rest.slice(0, room));
      rest = rest.slice(room);
      endPart();
    }
  }
  parts.push({ lines, close: [] });
  return parts;
}

/**
 * Splits a body into comments each of at most `limit` characters. Cuts fall at line
 * boundaries; a code fence or `<details>` that a cut falls inside is closed before the cut and
 * reopened after it; parts after the first start with "(continued, part 2 of 3)" and parts
 * before the last say they continue. A line longer than a whole comment is hard-cut. A trailing
 * `<!-- tideline:… -->` marker line is repeated on every part.
 */
export function splitComment(body: string, limit: number = COMMENT_LIMIT): string[] {
  if (body.length <= limit) {
    return [body];
  }
  const markerMatch = MARKER_AT_END.exec(body);
  const markerLine = markerMatch?.[1];
  const marker = markerLine === undefined ? [] : ['', markerLine];
  const content = markerMatch === null ? body : body.slice(0, markerMatch.index);
  const bodyLines = content.split('\n');

  let digits = 1;
  let parts = layout(bodyLines, limit, digits, marker);
  while (String(parts.length).length > digits) {
    digits = String(parts.length).length;
    parts = layout(bodyLines, limit, digits, marker);
  }

  const total = parts.length;
  return parts.map((part, i) => {
    const head = i === 0 ? [] : headerLines(i + 1, total);
    const foot = i === total - 1 ? [] : footerLines(i + 1, total);
    return [...head, ...part.lines, ...part.close, ...foot, ...marker].join('\n');
  });
}
