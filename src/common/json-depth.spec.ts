import { MAX_JSON_DEPTH, scanJson } from './json-depth';

const nested = (levels: number) => '['.repeat(levels) + ']'.repeat(levels);

describe(scanJson.name, () => {
  it.each([
    ['1', 0],
    ['"text"', 0],
    ['{}', 1],
    ['[1, 2, 3]', 1],
    ['{"a": [1, {"b": [[]]}], "c": {}}', 5],
    ['[[1], [[2]], [3]]', 3],
  ])('measures the nesting depth of %s as %d', (text, depth) => {
    expect(scanJson(text)).toEqual({ depth, nul: false });
  });

  it('ignores brackets and braces inside strings, escaped quotes included', () => {
    const sut = scanJson('{"a": "[[[{{{", "b": "quote \\" [[[", "c": "\\\\", "d": ["]]]"]}');
    expect(sut).toEqual({ depth: 2, nul: false });
  });

  it('stops once the depth passes the limit, without reading the rest', () => {
    const sut = scanJson(nested(100_000), MAX_JSON_DEPTH);
    expect(sut.depth).toBe(MAX_JSON_DEPTH + 1);
  });

  it('accepts exactly the limit', () => {
    expect(scanJson(nested(MAX_JSON_DEPTH)).depth).toBe(MAX_JSON_DEPTH);
  });

  it('measures a body nested a million deep without recursion', () => {
    expect(scanJson(nested(1_000_000), Infinity).depth).toBe(1_000_000);
  });

  it.each([
    ['a raw NUL inside a string', '{"a": "x\u0000y"}'],
    ['a raw NUL outside a string', '{"a": 1}\u0000'],
    ['a \\u0000 escape in a value', '{"a": "x\\u0000y"}'],
    ['a \\u0000 escape in a key', '{"\\u0000": 1}'],
  ])('flags %s', (_what, text) => {
    expect(scanJson(text).nul).toBe(true);
  });

  it.each([
    ['an escaped backslash before u0000', '{"a": "\\\\u0000"}'],
    ['other \\u escapes', '{"a": "\\u0001\\u00e9\\u1000"}'],
    ['u0000 outside a string', '{"u0000": 1}'],
  ])('does not flag %s', (_what, text) => {
    expect(scanJson(text).nul).toBe(false);
  });
});
