// The `source` of every `module` block in a Terraform file. Terraform requires a module source to
// be a literal string, so reading it needs HCL's lexical structure (comments, strings with `${}`
// templates, heredocs, nested braces) but not HCL's expression language. The scanner below does
// exactly that, in one regex-driven pass; hcl2-parser (the GopherJS build of hcl2json) reads any file the
// scanner cannot, and is the oracle the scanner is tested against. It is not the first choice
// because it costs about 10 µs per byte (a 1.5 KB file takes ~16 ms), which would put a
// 1,000-project selection at seconds instead of milliseconds.

import { createRequire } from 'node:module';

export type ModuleSourcesResult = { ok: true; sources: string[] } | { ok: false; reason: string };

interface Scanner {
  text: string;
  pos: number;
}

const SPACE = 32;
const TAB = 9;
const CR = 13;
const LF = 10;
const HASH = 35;
const SLASH = 47;
const STAR = 42;
const QUOTE = 34;
const BACKSLASH = 92;
const DOLLAR = 36;
const PERCENT = 37;
const LT = 60;
const DASH = 45;
const OPEN = 123;
const CLOSE = 125;

function isIdentStart(code: number): boolean {
  return (code >= 97 && code <= 122) || (code >= 65 && code <= 90) || code === 95;
}

/** Skips spaces, newlines and comments; false when a block comment never closes. */
function skipTrivia(s: Scanner): boolean {
  const { text } = s;
  for (;;) {
    const code = text.charCodeAt(s.pos);
    if (code === SPACE || code === LF || code === TAB || code === CR) s.pos += 1;
    else if (code === HASH || (code === SLASH && text.charCodeAt(s.pos + 1) === SLASH)) {
      const end = text.indexOf('\n', s.pos);
      s.pos = end < 0 ? text.length : end + 1;
    } else if (code === SLASH && text.charCodeAt(s.pos + 1) === STAR) {
      const end = text.indexOf('*/', s.pos + 2);
      if (end < 0) return false;
      s.pos = end + 2;
    } else return true;
  }
}

/** Reads a quoted string starting at `"`; `literal` is false when it holds a `${…}`/`%{…}` template. */
function readString(s: Scanner): { value: string; literal: boolean } | null {
  const { text } = s;
  s.pos += 1;
  let value = '';
  let literal = true;
  let runStart = s.pos;
  while (s.pos < text.length) {
    const code = text.charCodeAt(s.pos);
    if (code === QUOTE) {
      value += text.slice(runStart, s.pos);
      s.pos += 1;
      return { value, literal };
    }
    if (code === LF) return null;
    if (code === BACKSLASH) {
      const next = text[s.pos + 1] ?? '';
      value += text.slice(runStart, s.pos) + (next === 'n' ? '\n' : next === 't' ? '\t' : next);
      s.pos += 2;
      runStart = s.pos;
    } else if ((code === DOLLAR || code === PERCENT) && text.charCodeAt(s.pos + 1) === OPEN) {
      if (text.charCodeAt(s.pos - 1) === code && s.pos - 1 >= runStart) {
        value += text.slice(runStart, s.pos) + '{'; // `$${` / `%%{` is an escaped literal `${` / `%{`
        s.pos += 2;
        runStart = s.pos;
        continue;
      }
      value += text.slice(runStart, s.pos);
      literal = false;
      s.pos += 2;
      if (!skipBalanced(s)) return null;
      runStart = s.pos;
    } else {
      s.pos += 1;
    }
  }
  return null;
}

function atHeredoc(s: Scanner): boolean {
  const next = s.text.charCodeAt(s.pos + 2);
  return s.text.charCodeAt(s.pos) === LT && s.text.charCodeAt(s.pos + 1) === LT && (next === DASH || isIdentStart(next));
}

/** Skips to just after the `}` that balances an already-consumed `{`, honouring strings and heredocs. */
function skipBalanced(s: Scanner): boolean {
  let depth = 1;
  while (s.pos < s.text.length) {
    if (!skipTrivia(s)) return false;
    const code = s.text.charCodeAt(s.pos);
    if (Number.isNaN(code)) return false;
    if (code === QUOTE) {
      if (readString(s) === null) return false;
    } else if (code === LT && atHeredoc(s)) {
      if (!skipHeredoc(s)) return false;
    } else if (code === OPEN) {
      depth += 1;
      s.pos += 1;
    } else if (code === CLOSE) {
      depth -= 1;
      s.pos += 1;
      if (depth === 0) return true;
    } else s.pos += 1;
  }
  return false;
}

/** Skips `<<EOT … EOT` or `<<-EOT …   EOT`; false when the closing marker never comes. */
function skipHeredoc(s: Scanner): boolean {
  const match = /^<<-?([A-Za-z_][A-Za-z0-9_-]*)\r?\n/.exec(s.text.slice(s.pos, s.pos + 200));
  if (match === null) {
    s.pos += 2;
    return true; // `<<` that is not a heredoc opener (not valid HCL either); keep scanning
  }
  const marker = match[1] ?? '';
  let lineStart = s.pos + match[0].length;
  while (lineStart < s.text.length) {
    const end = s.text.indexOf('\n', lineStart);
    const line = s.text.slice(lineStart, end < 0 ? s.text.length : end);
    if (line.trim() === marker) {
      s.pos = end < 0 ? s.text.length : end + 1;
      return true;
    }
    if (end < 0) break;
    lineStart = end + 1;
  }
  return false;
}

const UNCLOSED_COMMENT = 'a /* comment is never closed';
const UNCLOSED_STRING = 'a string is never closed';

/**
 * The tokens that matter, found by one regex (irregexp runs natively from the first call, where a
 * character loop would run interpreted until V8 optimises it): line comments (consumed whole),
 * block comment, string and heredoc openers (finished by hand), braces, and the words `module`
 * and `source`. Everything else is skipped by the search itself.
 */
const TOKEN = /#[^\n]*|\/\/[^\n]*|\/\*|"|<<-?[A-Za-z_]|[{}]|(?<![\w.-])(?:module|source)(?![\w-])/g;
/** A string without escapes or templates, the common case, read in one match. */
const PLAIN_STRING = /"([^"\\\n$%]*)"/y;
/** What follows `module` in a block header: a label, then `{`. */
const MODULE_HEADER = /[ \t]*(?:"[^"\\\n$%]*"|[A-Za-z_][\w-]*)[ \t]*\{/y;
/** What follows `source` in an attribute: `=`, not `==`. */
const ASSIGN = /[ \t]*=(?!=)[ \t]*/y;
/** Whether the next thing on the line is a comment, which the two patterns above do not expect. */
const COMMENT_NEXT = /[ \t]*(?:#|\/\/|\/\*)/y;

function sticky(pattern: RegExp, text: string, at: number): number | null {
  pattern.lastIndex = at;
  return pattern.test(text) ? pattern.lastIndex : null;
}

/** Module sources of HCL `text` by lexical scan, or why it could not be read. */
export function scanModuleSources(text: string): ModuleSourcesResult {
  if (!text.includes('module')) return { ok: true, sources: [] };
  const s: Scanner = { text, pos: 0 };
  // Fresh RegExp objects per call: their lastIndex is state, and no state outlives a call.
  const token = new RegExp(TOKEN.source, 'g');
  const plain = new RegExp(PLAIN_STRING.source, 'y');
  const header = new RegExp(MODULE_HEADER.source, 'y');
  const assign = new RegExp(ASSIGN.source, 'y');
  const comment = new RegExp(COMMENT_NEXT.source, 'y');
  const sources: string[] = [];
  let depth = 0;
  let moduleDepth = -1; // depth inside the current top-level `module` block, -1 outside
  function readStringAt(at: number): { value: string; literal: boolean } | null {
    plain.lastIndex = at;
    const simple = plain.exec(text);
    if (simple !== null) {
      token.lastIndex = plain.lastIndex;
      return { value: simple[1] ?? '', literal: true };
    }
    s.pos = at;
    const value = readString(s);
    token.lastIndex = s.pos;
    return value;
  }
  for (let match = token.exec(text); match !== null; match = token.exec(text)) {
    const tok = match[0];
    const first = tok.charCodeAt(0);
    const after = match.index + tok.length;
    if (first === HASH || (first === SLASH && tok.charCodeAt(1) === SLASH)) continue;
    if (first === SLASH) {
      const close = text.indexOf('*/', match.index + 2);
      if (close < 0) return { ok: false, reason: UNCLOSED_COMMENT };
      token.lastIndex = close + 2;
    } else if (first === QUOTE) {
      if (readStringAt(match.index) === null) return { ok: false, reason: UNCLOSED_STRING };
    } else if (first === LT) {
      s.pos = match.index;
      if (!skipHeredoc(s)) return { ok: false, reason: 'a heredoc is never closed' };
      token.lastIndex = s.pos;
    } else if (first === OPEN) {
      depth += 1;
    } else if (first === CLOSE) {
      depth -= 1;
      if (depth < 0) return { ok: false, reason: 'a `}` closes nothing' };
      if (depth === 0) moduleDepth = -1;
    } else if (tok === 'module' && depth === 0) {
      const open = sticky(header, text, after);
      if (open === null) return { ok: false, reason: 'a `module` that does not start a block the usual way' };
      depth = 1;
      moduleDepth = 1;
      token.lastIndex = open;
    } else if (tok === 'source' && depth === moduleDepth) {
      const value = sticky(assign, text, after);
      if (value !== null && text.charCodeAt(value) === QUOTE) {
        const read = readStringAt(value);
        if (read === null) return { ok: false, reason: UNCLOSED_STRING };
        if (read.literal) sources.push(read.value);
      } else if (sticky(comment, text, after) !== null || (value !== null && sticky(comment, text, value) !== null)) {
        return { ok: false, reason: 'a comment around a module source' };
      }
    }
  }
  if (depth !== 0) return { ok: false, reason: 'a `{` is never closed' };
  return { ok: true, sources };
}

function sourcesOfModuleValue(value: unknown, into: string[]): void {
  const blocks = Array.isArray(value) ? value : [value];
  for (const block of blocks) {
    if (block !== null && typeof block === 'object' && 'source' in block && typeof block.source === 'string') into.push(block.source);
  }
}

/** Module sources from the `module` key of a parsed body (hcl2json or Terraform JSON syntax). */
function sourcesOfBody(body: unknown): string[] {
  const sources: string[] = [];
  const bodies = Array.isArray(body) ? body : [body];
  for (const item of bodies) {
    if (item === null || typeof item !== 'object' || !('module' in item)) continue;
    const modules: unknown = item.module;
    const groups = Array.isArray(modules) ? modules : [modules];
    for (const group of groups) {
      if (group === null || typeof group !== 'object') continue;
      for (const value of Object.values(group)) sourcesOfModuleValue(value, sources);
    }
  }
  return sources;
}

/** Module sources of a `.tf.json` file (Terraform's JSON syntax). */
export function jsonModuleSources(text: string): ModuleSourcesResult {
  try {
    return { ok: true, sources: sourcesOfBody(JSON.parse(text)) };
  } catch (err: unknown) {
    return { ok: false, reason: err instanceof Error ? err.message : String(err) };
  }
}

interface Hcl2Parser {
  parseToObject(input: string): unknown;
}

/**
 * Module sources via hcl2-parser: `parseToObject(src)` answers `[object, null]` on success and
 * `[null, error]` (an error object, often `{}`) on a syntax error. Loaded on first use through
 * Node's module cache: it is 3.8 MB of GopherJS.
 */
export function hclModuleSources(text: string): ModuleSourcesResult {
  const hcl = createRequire(import.meta.url)('hcl2-parser') as Hcl2Parser;
  const result = hcl.parseToObject(text);
  const [body, error] = Array.isArray(result) ? (result as unknown[]) : [null, 'unexpected result'];
  if (body === null || body === undefined || (error !== null && error !== undefined)) {
    const detail = typeof error === 'string' ? error : error instanceof Error ? error.message : 'HCL syntax error';
    return { ok: false, reason: detail };
  }
  return { ok: true, sources: sourcesOfBody(body) };
}

/** Sources of one Terraform file: `.tf.json` as JSON; `.tf` by scan, then by hcl2-parser if the scan fails. */
export function moduleSourcesOf(fileName: string, text: string): ModuleSourcesResult {
  if (fileName.endsWith('.json')) return jsonModuleSources(text);
  const scanned = scanModuleSources(text);
  return scanned.ok ? scanned : hclModuleSources(text);
}

/** A module source that is a local path (`./x`, `../x`), or null for registry, git, http… sources. */
export function isLocalSource(source: string): boolean {
  return source.startsWith('./') || source.startsWith('../') || source === '.' || source === '..';
}
