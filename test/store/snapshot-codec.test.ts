import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { Cell } from '../../src/domain/canonical-row.js';
import { decodeCells, encodeCells, SnapshotCodecError } from '../../src/store/snapshot-codec.js';
import { randomInt, seededRandom } from '../support/seeded-random.js';

const sha = (s: string) => createHash('sha256').update(s).digest('hex');

/** The canonical row: EXTERN_ID, 13 hashed keys, MADID, then DATA_PROCESSING_OPTIONS, _COUNTRY, _STATE. */
function canonicalRow(i: number, blanks: readonly number[] = []): Cell[] {
  const row: Cell[] = [`user-${i}`];
  for (let k = 0; k < 13; k++) row.push(sha(`${i}:${k}`));
  row.push('ab12cd-e345-fg67', ['LDU'], 1, 1000);
  for (const b of blanks) row[b] = '';
  return row;
}

describe('snapshot cell codec', () => {
  it('round-trips a full canonical row in about half its JSON size', () => {
    const row = canonicalRow(1);
    const bytes = encodeCells(row);
    expect(decodeCells(bytes)).toEqual(row);
    // header 2 + masks 2×3 + hashes 13×32 + 'user-1' 8 + MADID 18 + ['LDU'] 6 + 1 → 2 + 1000 → 3
    expect(bytes.length).toBe(2 + 6 + 13 * 32 + 8 + 18 + 6 + 2 + 3);
    expect(JSON.stringify(row).length).toBeGreaterThan(900);
  });

  it('round-trips blanks, empty arrays, unicode, negatives, floats and big integers', () => {
    const cells: Cell[] = [
      '',
      [],
      ['LDU', 'é✓'],
      'Zoë 🌍',
      0,
      -1,
      -0,
      44.5,
      Number.MAX_SAFE_INTEGER,
      -Number.MAX_SAFE_INTEGER,
      2 ** 60,
      'A'.repeat(64), // upper-case hex is not a hash: kept as a string
      sha('x').slice(0, 63),
      sha('x'),
      'x'.repeat(300),
    ];
    const decoded = decodeCells(encodeCells(cells));
    expect(decoded).toEqual(cells);
    expect(Object.is(decoded[6], -0)).toBe(true);
  });

  it('round-trips rows with any set of blank cells, distinguishing blank from []', () => {
    for (let i = 0; i < 200; i++) {
      const blanks = [...Array(18).keys()].filter((k) => (i * 2654435761 + k * 40503) % 3 === 0);
      const row = canonicalRow(i, blanks);
      expect(decodeCells(encodeCells(row))).toEqual(row);
    }
    expect(decodeCells(encodeCells(['', []]))).toEqual(['', []]);
    expect(decodeCells(encodeCells([]))).toEqual([]);
  });

  it('writes exactly the bytes of the first (Writer and regex) encoder, on many generated rows', () => {
    const random = seeded(15);
    for (let i = 0; i < 5_000; i++) {
      const cells = Array.from({ length: random.int(i < 4_000 ? 20 : 256) }, () => randomCell(random));
      const bytes = encodeCells(cells);
      expect(bytes.equals(referenceEncodeCells(cells)), `row ${i}: ${JSON.stringify(cells)}`).toBe(true);
      expect(decodeCells(bytes)).toEqual(cells.map(asUtf8));
    }
    // Nothing of one row leaks into the next through the reused buffer.
    const long = encodeCells(canonicalRow(3));
    expect(encodeCells(['a', 1])).toEqual(referenceEncodeCells(['a', 1]));
    expect(encodeCells(canonicalRow(3))).toEqual(long);
  });

  it('refuses corrupt bytes instead of returning wrong cells', () => {
    const bytes = encodeCells(canonicalRow(7));
    expect(() => decodeCells(bytes.subarray(0, bytes.length - 1))).toThrow(SnapshotCodecError);
    expect(() => decodeCells(Buffer.concat([bytes, Buffer.of(0)]))).toThrow(SnapshotCodecError);
    expect(() => decodeCells(Buffer.concat([Buffer.of(9), bytes.subarray(1)]))).toThrow(/version/);
  });
});

/** The first encoder, as it was (a Writer, a regex per cell): the byte format the stored snapshots hold. */
function referenceEncodeCells(cells: readonly Cell[]): Buffer {
  const parts: Buffer[] = [];
  const varint = (value: number): void => {
    const out: number[] = [];
    let v = value;
    while (v >= 0x80) {
      out.push((v % 0x80) | 0x80);
      v = Math.floor(v / 0x80);
    }
    out.push(v);
    parts.push(Buffer.from(out));
  };
  const text = (s: string): void => {
    const b = Buffer.from(s, 'utf8');
    varint(b.length);
    parts.push(b);
  };
  const maskBytes = Math.ceil(cells.length / 8);
  const present = Buffer.alloc(maskBytes);
  const hashed = Buffer.alloc(maskBytes);
  parts.push(Buffer.of(1, cells.length), present, hashed);
  cells.forEach((cell, i) => {
    if (cell === '') return;
    present[i >> 3]! |= 1 << (i & 7);
    if (typeof cell === 'string') {
      if (/^[0-9a-f]{64}$/.test(cell)) {
        hashed[i >> 3]! |= 1 << (i & 7);
        parts.push(Buffer.from(cell, 'hex'));
      } else {
        parts.push(Buffer.of(0x01));
        text(cell);
      }
    } else if (typeof cell === 'number') {
      if (Number.isInteger(cell) && Math.abs(cell) < 2 ** 52 && !Object.is(cell, -0)) {
        parts.push(Buffer.of(0x02));
        varint(cell >= 0 ? cell * 2 : -cell * 2 - 1);
      } else {
        const b = Buffer.alloc(9);
        b[0] = 0x03;
        b.writeDoubleBE(cell, 1);
        parts.push(b);
      }
    } else {
      parts.push(Buffer.of(0x04));
      varint(cell.length);
      for (const s of cell) text(s);
    }
  });
  return Buffer.concat(parts);
}

/** UTF-8 turns a lone surrogate into U+FFFD: what a cell's text reads back as. */
function asUtf8(cell: Cell): Cell {
  const text = (s: string): string => Buffer.from(s, 'utf8').toString('utf8');
  return typeof cell === 'string' ? text(cell) : typeof cell === 'number' ? cell : cell.map(text);
}

interface Random {
  next(): number;
  int(n: number): number;
}

function seeded(seed: number): Random {
  const next = seededRandom(seed);
  return { next, int: (n) => randomInt(next, n) };
}

const HEX_DIGITS = '0123456789abcdef';
/** Characters that break a hash in every way the check must see: upper case, just past a–f or 9, wide, astral. */
const NEAR_HEX = ['A', 'F', 'g', 'G', '/', ':', '`', ' ', 'é', '\u0130', '\u0161', '\uff10', '\ud83c', '\ud83c\udf0d'];

function randomText(random: Random, maxLength: number): string {
  const alphabet = ['a', 'Z', '0', ' ', '-', 'é', 'ß', '✓', '日', '\ud83c\udf0d', '\udc00', '\u0000'];
  let s = '';
  const length = random.int(maxLength);
  for (let i = 0; i < length; i++) s += alphabet[random.int(alphabet.length)];
  return s;
}

function randomCell(random: Random): Cell {
  switch (random.int(9)) {
    case 0:
      return '';
    case 1:
    case 2: {
      // A hash, or one broken at a random place (or one character short or long).
      const hex = sha(String(random.next()));
      const shape = random.int(4);
      if (shape === 0) return hex;
      if (shape === 1) return random.int(2) === 0 ? hex.slice(1) : `${hex}${HEX_DIGITS[random.int(16)]}`;
      const at = random.int(64);
      const replacement = NEAR_HEX[random.int(NEAR_HEX.length)]!;
      return `${hex.slice(0, at)}${replacement}${hex.slice(at + 1)}`.slice(0, shape === 2 ? 64 : undefined);
    }
    case 3:
      return randomText(random, random.int(2) === 0 ? 8 : 300);
    case 4:
      return random.int(2 ** 20) - 2 ** 19;
    case 5:
      return [0, -0, 1, -1, 2 ** 52 - 1, -(2 ** 52) + 1, 2 ** 52, 2 ** 60, 0.5, -1e-300, NaN, Infinity, -Infinity][
        random.int(13)
      ]!;
    case 6:
      return (random.next() - 0.5) * 10 ** random.int(20);
    default:
      return Array.from({ length: random.int(4) }, () => randomText(random, random.int(2) === 0 ? 5 : 60));
  }
}
