// Canonical JSON: one byte string per value, so a hash over it is stable across processes and
// versions. Object keys sorted by UTF-16 code units, no whitespace, numbers and strings as
// `JSON.stringify` writes them (ECMAScript's shortest round-trip number form) — the same rules as
// RFC 8785 (JCS), so an auditor can recompute a record's hash with any JCS library.
// Values JSON cannot carry faithfully are refused instead of being silently dropped or changed:
// undefined, functions, symbols, bigints, NaN and ±Infinity, non-plain objects (Date, Map, Buffer,
// class instances) and cycles.

import { CanonicalJsonError } from './errors.js';

export function canonicalJson(value: unknown): string {
  return write(value, '$', new Set());
}

function isPlainObject(value: object): value is Record<string, unknown> {
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

function keyPath(path: string, key: string): string {
  return /^[A-Za-z_$][\w$]*$/.test(key) ? `${path}.${key}` : `${path}[${JSON.stringify(key)}]`;
}

function write(value: unknown, path: string, ancestors: Set<object>): string {
  switch (typeof value) {
    case 'string':
      return JSON.stringify(value);
    case 'boolean':
      return value ? 'true' : 'false';
    case 'number':
      if (!Number.isFinite(value)) {
        throw new CanonicalJsonError(path, `is ${String(value)}, which JSON cannot represent: record a finite number, or null`);
      }
      return JSON.stringify(value);
    case 'object':
      if (value === null) return 'null';
      return writeObject(value, path, ancestors);
    default:
      throw new CanonicalJsonError(path, `is ${typeof value === 'undefined' ? 'undefined' : `a ${typeof value}`}, which JSON cannot represent: record a string, number, boolean, null, array or plain object`);
  }
}

function writeObject(value: object, path: string, ancestors: Set<object>): string {
  if (ancestors.has(value)) {
    throw new CanonicalJsonError(path, 'refers back to itself: record a tree, not a cyclic structure');
  }
  ancestors.add(value);
  try {
    if (Array.isArray(value)) {
      const items: string[] = [];
      for (let index = 0; index < value.length; index += 1) {
        items.push(write(value[index], `${path}[${index}]`, ancestors));
      }
      return `[${items.join(',')}]`;
    }
    if (!isPlainObject(value)) {
      const kind = value.constructor?.name ?? 'object';
      throw new CanonicalJsonError(path, `is a ${kind}, not a plain object: convert it first (a Date to toISOString(), a Map to an object)`);
    }
    const parts: string[] = [];
    for (const key of Object.keys(value).sort()) {
      parts.push(`${JSON.stringify(key)}:${write(value[key], keyPath(path, key), ancestors)}`);
    }
    return `{${parts.join(',')}}`;
  } finally {
    ancestors.delete(value);
  }
}
