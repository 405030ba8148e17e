import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { decodeCells, encodeCells, SnapshotCodecError, type Cell } from '../../src/store/snapshot-codec.js';

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

  it('refuses corrupt bytes instead of returning wrong cells', () => {
    const bytes = encodeCells(canonicalRow(7));
    expect(() => decodeCells(bytes.subarray(0, bytes.length - 1))).toThrow(SnapshotCodecError);
    expect(() => decodeCells(Buffer.concat([bytes, Buffer.of(0)]))).toThrow(SnapshotCodecError);
    expect(() => decodeCells(Buffer.concat([Buffer.of(9), bytes.subarray(1)]))).toThrow(/version/);
  });
});
