import { describe, expect, it } from 'vitest';
import { CellInterner } from '../../src/sandbox/cell-interner.js';
import { decodeSha256Hex, encodeSha256Hex, isSha256Hex } from '../../src/sandbox/sha256-hex.js';
import { h } from './graph-call.js';

describe('sha256 hex', () => {
  it.each([
    [h(1), true],
    ['0'.repeat(64), true],
    ['f'.repeat(64), true],
    [h(1).toUpperCase(), false],
    [h(1).slice(1), false],
    [`${h(1)}0`, false],
    [`${h(1).slice(1)}g`, false],
    [`${h(1).slice(1)}é`, false],
    [`${h(1).slice(1)}\u0661`, false],
    ['', false],
  ])('%s -> %s', (s, ok) => {
    expect(isSha256Hex(s)).toBe(ok);
    const words = new Uint32Array(10);
    expect(decodeSha256Hex(s, words, 1)).toBe(ok);
    if (ok) expect(encodeSha256Hex(words, 1)).toBe(s);
  });

  it('decodes big-endian words, as Buffer reads the digest', () => {
    const words = new Uint32Array(8);
    decodeSha256Hex(h(2), words, 0);
    const bytes = Buffer.from(h(2), 'hex');
    expect([...words]).toEqual(Array.from({ length: 8 }, (_, i) => bytes.readUInt32BE(i * 4)));
  });
});

describe('cell interner', () => {
  it('gives each distinct value one id, hashed and plaintext apart, and renders it back', () => {
    const interner = new CellInterner();
    expect(interner.intern('', true)).toBe(0);
    const a = interner.intern(h('a'), true);
    const x = interner.intern('"x"', false);
    expect(interner.intern(h('a'), true)).toBe(a);
    expect(interner.intern('"x"', false)).toBe(x);
    expect(x).not.toBe(a);
    expect(interner.find(h('a'), true)).toBe(a);
    expect(interner.find('"x"', false)).toBe(x);
    expect(interner.find(h('b'), true)).toBe(-1);
    expect(interner.find('not hex', true)).toBe(-1);
    expect(interner.find('"y"', false)).toBe(-1);
    expect(interner.cell(a)).toBe(h('a'));
    expect(interner.cell(x)).toBe('"x"');
    expect(interner.cell(0)).toBe('');
    expect(interner.size).toBe(2);
    expect(() => interner.intern('NOT HEX', true)).toThrow();
  });

  it('keeps every id through table growth and across slabs', () => {
    const interner = new CellInterner();
    const n = 70_000;
    const ids = Array.from({ length: n }, (_, i) => interner.intern(h(i), true));
    expect(new Set(ids).size).toBe(n);
    for (let i = 0; i < n; i += 997) {
      expect(interner.find(h(i), true)).toBe(ids[i]);
      expect(interner.cell(ids[i]!)).toBe(h(i));
    }
    expect(interner.cell(ids[n - 1]!)).toBe(h(n - 1));
  });
});
