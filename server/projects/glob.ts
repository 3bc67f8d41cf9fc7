// Globs for `when_modified` and `autodiscover.ignore_paths`, read the way Atlantis reads them
// (.dockerignore syntax through moby's patternmatcher, doublestar for `**`):
//   `*` any run of characters within one path segment, `?` one character but `/`,
//   `**` as a whole segment any number of segments (zero included), `**` inside a segment any run
//   of characters including `/`, `[abc]` / `[!abc]` classes, `{a,b}` alternatives, `\x` a literal x.
// A pattern list is read in order; a leading `!` excludes again what earlier patterns matched, and
// the last pattern that matches decides. A pattern also matches every file under a directory it
// matches (`modules` matches `modules/net/main.tf`).

import { posix } from 'node:path';

export class GlobSyntaxError extends Error {
  override readonly name = 'GlobSyntaxError';
}

const META = /[*?[{\\]/;

/** Index of the `close` matching the opener at `start`, honouring nesting and escapes; -1 if none. */
function closing(glob: string, start: number, open: string, close: string): number {
  let depth = 0;
  for (let index = start; index < glob.length; index += 1) {
    const char = glob[index];
    if (char === '\\') index += 1;
    else if (char === open && open !== close) depth += 1;
    else if (char === close) {
      depth -= 1;
      if (depth === 0 || open === close) return index;
    }
  }
  return -1;
}

/** Splits `{a,b{c,d}}`'s inside on top-level commas. */
function alternatives(body: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let current = '';
  for (let index = 0; index < body.length; index += 1) {
    const char = body[index] ?? '';
    if (char === '\\') {
      current += char + (body[index + 1] ?? '');
      index += 1;
      continue;
    }
    if (char === '{') depth += 1;
    if (char === '}') depth -= 1;
    if (char === ',' && depth === 0) {
      parts.push(current);
      current = '';
    } else {
      current += char;
    }
  }
  parts.push(current);
  return parts;
}

function escapeRegex(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}

function translate(glob: string): string {
  let out = '';
  for (let index = 0; index < glob.length; index += 1) {
    const char = glob[index] ?? '';
    if (char === '\\') {
      if (index + 1 >= glob.length) throw new GlobSyntaxError('ends with a lone backslash: escape it as \\\\');
      out += escapeRegex(glob[index + 1] ?? '');
      index += 1;
    } else if (char === '*') {
      let end = index;
      while (glob[end + 1] === '*') end += 1;
      const wholeSegment = (index === 0 || glob[index - 1] === '/') && (end + 1 === glob.length || glob[end + 1] === '/');
      if (end > index && wholeSegment) {
        if (glob[end + 1] === '/') {
          out += '(?:[^/]*/)*';
          end += 1;
        } else {
          out += '.*';
        }
      } else {
        out += end > index ? '.*' : '[^/]*';
      }
      index = end;
    } else if (char === '?') {
      out += '[^/]';
    } else if (char === '[') {
      const end = closing(glob, index, '[', ']');
      if (end < 0) throw new GlobSyntaxError('has a `[` without its `]`: close the class or escape it as \\[');
      let body = glob.slice(index + 1, end);
      const negated = body.startsWith('!') || body.startsWith('^');
      if (negated) body = body.slice(1);
      if (body === '') throw new GlobSyntaxError('has an empty `[]` class: list characters inside it');
      out += `[${negated ? '^' : ''}${body.replace(/\\(.)/g, '$1').replace(/[\]\\^]/g, '\\$&')}]`;
      index = end;
    } else if (char === '{') {
      const end = closing(glob, index, '{', '}');
      if (end < 0) throw new GlobSyntaxError('has a `{` without its `}`: close the alternatives or escape it as \\{');
      out += `(?:${alternatives(glob.slice(index + 1, end)).map(translate).join('|')})`;
      index = end;
    } else {
      out += escapeRegex(char);
    }
  }
  return out;
}

/** The glob as an anchored RegExp over `/`-separated paths. Throws GlobSyntaxError. */
export function globToRegExp(glob: string): RegExp {
  return new RegExp(`^${translate(glob)}$`);
}

/** Null when `pattern` (optionally `!`-negated) is a usable glob, else the problem with a fix. */
export function globProblem(pattern: string): string | null {
  const body = pattern.startsWith('!') ? pattern.slice(1) : pattern;
  if (body.trim() === '') return 'is empty: give a glob such as `**/*.tf`';
  if (body.startsWith('/')) return 'starts with `/`: globs are relative to the project dir, so drop the leading slash';
  try {
    globToRegExp(body);
    return null;
  } catch (err: unknown) {
    if (err instanceof GlobSyntaxError) return err.message;
    throw err;
  }
}

/** A pattern rebased on the repository root and split into a literal directory prefix and a glob rest. */
export interface CompiledGlob {
  negated: boolean;
  /** Literal leading segments (`network/vpc`); `''` when the pattern starts with a glob. */
  prefix: string;
  /** The rest as a RegExp; null when the whole pattern is literal. */
  rest: RegExp | null;
}

/** Per-call cache of translated globs (the same `**\/*.tf*` rest is shared by every project). */
export type GlobCache = Map<string, RegExp>;

/**
 * Compiles `pattern`, relative to repo-relative `dir`, into a repo-root pattern; null when it
 * leaves the repository (`../x` from the root) and so can match nothing. Throws GlobSyntaxError.
 */
export function compileGlob(dir: string, pattern: string, cache: GlobCache): CompiledGlob | null {
  const trimmed = pattern.trim();
  const negated = trimmed.startsWith('!');
  const body = negated ? trimmed.slice(1) : trimmed;
  const joined = posix.normalize(posix.join(dir, body)).replace(/\/+$/, '');
  if (joined === '..' || joined.startsWith('../')) return null;
  const segments = joined === '.' ? [] : joined.split('/');
  const literal: string[] = [];
  for (const segment of segments) {
    if (META.test(segment)) break;
    literal.push(segment);
  }
  const restText = segments.slice(literal.length).join('/');
  let rest: RegExp | null = null;
  if (restText !== '') {
    rest = cache.get(restText) ?? globToRegExp(restText);
    cache.set(restText, rest);
  }
  return { negated, prefix: literal.join('/'), rest };
}

/** Whether `glob` matches `file` (repo-relative) or one of its parent directories. */
export function globMatches(glob: CompiledGlob, file: string): boolean {
  let remainder = file;
  if (glob.prefix !== '') {
    if (file === glob.prefix) return glob.rest === null;
    if (!file.startsWith(`${glob.prefix}/`)) return false;
    if (glob.rest === null) return true;
    remainder = file.slice(glob.prefix.length + 1);
  }
  if (glob.rest === null) return true; // a pattern of `.`: the whole repository
  if (glob.rest.test(remainder)) return true;
  for (let slash = remainder.indexOf('/'); slash >= 0; slash = remainder.indexOf('/', slash + 1)) {
    if (glob.rest.test(remainder.slice(0, slash))) return true;
  }
  return false;
}

/** dockerignore order: the last pattern that matches decides; `!` patterns exclude. */
export function matchesPatternList(patterns: readonly CompiledGlob[], file: string): boolean {
  let matched = false;
  for (const pattern of patterns) {
    if (matched === !pattern.negated) continue; // cannot change the outcome
    if (globMatches(pattern, file)) matched = !pattern.negated;
  }
  return matched;
}

/** One-off convenience: does any of `patterns` (relative to `dir`) select `file`? */
export function matchesWhenModified(dir: string, patterns: readonly string[], file: string): boolean {
  const cache: GlobCache = new Map();
  const compiled = patterns.map((pattern) => compileGlob(dir, pattern, cache)).filter((glob): glob is CompiledGlob => glob !== null);
  return matchesPatternList(compiled, file);
}
