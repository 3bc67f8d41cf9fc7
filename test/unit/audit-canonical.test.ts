import { describe, expect, it } from 'vitest';
import { canonicalJson } from '../../server/audit/canonical-json.js';
import { CanonicalJsonError } from '../../server/audit/errors.js';

describe('canonicalJson', () => {
  it.each([
    ['sorts keys at every depth', { b: 1, a: { d: [3, { z: 1, y: 2 }], c: null } }, '{"a":{"c":null,"d":[3,{"y":2,"z":1}]},"b":1}'],
    ['writes no whitespace', { a: [1, 2], b: 'x y' }, '{"a":[1,2],"b":"x y"}'],
    ['sorts by UTF-16 code units, not locale', { b: 1, B: 2, é: 3, '10': 4, '9': 5 }, '{"10":4,"9":5,"B":2,"b":1,"é":3}'],
    ['writes numbers in shortest round-trip form', [1.0, 0.1, 1e21, 1e-7, -0, 2 ** 53], '[1,0.1,1e+21,1e-7,0,9007199254740992]'],
    ['escapes strings as JSON does', ['a"b', 'c\\d', '\n\t', '\u0001', '\u2028'], '["a\\"b","c\\\\d","\\n\\t","\\u0001","\u2028"]'],
    ['escapes lone surrogates', ['\ud800'], '["\\ud800"]'],
    ['keeps booleans and null', [true, false, null], '[true,false,null]'],
    ['accepts null-prototype objects', Object.assign(Object.create(null) as object, { b: 2, a: 1 }), '{"a":1,"b":2}'],
    ['writes a top-level string', 'tideline', '"tideline"'],
  ])('%s', (_name, value, expected) => {
    expect(canonicalJson(value)).toBe(expected);
  });

  it('gives the same text for the same value built in a different key order', () => {
    expect(canonicalJson({ x: 1, y: { b: 2, a: 1 } })).toBe(canonicalJson({ y: { a: 1, b: 2 }, x: 1 }));
  });

  it('round-trips through JSON.parse', () => {
    const value = { n: [0.30000000000000004, -1.5e-300, 123456789.123], s: 'ü\u0000', o: { '': 1 } };
    const text = canonicalJson(value);
    expect(canonicalJson(JSON.parse(text))).toBe(text);
  });

  const cyclic: Record<string, unknown> = {};
  cyclic['self'] = cyclic;

  it.each([
    ['undefined at the top', undefined, '$'],
    ['an undefined property', { a: { b: undefined } }, '$.a.b'],
    ['an undefined array item', [1, undefined], '$[1]'],
    ['a function', { f: (): number => 1 }, '$.f'],
    ['a symbol', { s: Symbol('x') }, '$.s'],
    ['a bigint', { n: 10n }, '$.n'],
    ['NaN', { n: Number.NaN }, '$.n'],
    ['Infinity', [Number.POSITIVE_INFINITY], '$[0]'],
    ['a Date', { at: new Date(0) }, '$.at'],
    ['a Map', { m: new Map() }, '$.m'],
    ['a Buffer', { b: Buffer.from('x') }, '$.b'],
    ['a key that needs quoting', { 'a b': Number.NaN }, '$["a b"]'],
    ['a cycle', cyclic, '$.self'],
  ])('refuses %s, naming where', (_name, value, path) => {
    let caught: unknown;
    try {
      canonicalJson(value);
    } catch (error: unknown) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(CanonicalJsonError);
    expect((caught as CanonicalJsonError).path).toBe(path);
  });

  it('accepts a shared (non-cyclic) subtree twice', () => {
    const shared = { a: 1 };
    expect(canonicalJson({ x: shared, y: shared })).toBe('{"x":{"a":1},"y":{"a":1}}');
  });
});
