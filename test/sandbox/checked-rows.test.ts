import { describe, expect, it } from 'vitest';
import { CellInterner } from '../../src/sandbox/cell-interner.js';
import { Membership } from '../../src/sandbox/membership.js';
import {
  CellKind,
  cellProblem,
  checkPayload,
  EMPTY_SHA256,
  MULTI_KEYS,
  rowCells,
} from '../../src/sandbox/rules/payload.js';
import { h } from './graph-call.js';

const SCHEMA = ['EMAIL', 'EXTERN_ID', 'PHONE', 'DATA_PROCESSING_OPTIONS', 'DATA_PROCESSING_OPTIONS_STATE'];
const CELLS: unknown[] = [
  '',
  h(1),
  EMPTY_SHA256,
  h(1).toUpperCase(),
  'plain@example.com',
  'x1',
  ' ',
  5,
  0,
  '12',
  1.5,
  -1,
  [],
  ['LDU'],
  ['GDPR'],
  null,
  { a: 1 },
];

describe('checked rows', () => {
  it('keep exactly the rows whose every cell passes cellProblem and that identify someone', () => {
    for (const [c, key] of SCHEMA.entries()) {
      const data = CELLS.map((cell) => SCHEMA.map((_, i) => (i === c ? cell : i === 0 && c !== 0 ? h(9) : '')));
      const r = checkPayload({ schema: SCHEMA, data }, 100);
      const kind = MULTI_KEYS[key]!;
      const expected = data.filter((row) => {
        const cell = row[c];
        const identifies = row[0] !== '' || (c <= 2 && cell !== '');
        return cellProblem(kind, key, cell) === null && identifies;
      });
      expect(r.invalid, key).toBe(data.length - expected.length);
      expect(rowCells(r.rows, r.schema), key).toEqual(
        expected.map((row) =>
          row.map((cell, i) => {
            const k = MULTI_KEYS[SCHEMA[i]!];
            if (cell === '' || k === CellKind.Hashed) return cell;
            return JSON.stringify(k === CellKind.Number ? Number(cell) : cell);
          }),
        ),
      );
    }
  });

  it('are what the member store adds and removes, as canonical rows would be', () => {
    const interner = new CellInterner();
    const hashed = SCHEMA.map((k) => MULTI_KEYS[k] === CellKind.Hashed);
    const byRows = new Membership(SCHEMA.length, interner, hashed);
    const byCells = new Membership(SCHEMA.length, interner, hashed);
    const data = Array.from({ length: 300 }, (_, i) => [
      i % 4 ? h(`e${i}`) : '',
      i % 3 ? `x${i % 50}` : '',
      h(`p${i % 7}`),
      i % 2 ? ['LDU'] : [],
      i % 5,
    ]);
    const added = checkPayload({ schema: SCHEMA, data }, 1000);
    expect(byRows.addRows(added.rows)).toBe(300);
    for (const row of rowCells(added.rows, added.schema)) byCells.add(row);
    expect([...byRows.rows()]).toEqual([...byCells.rows()]);
    expect(byRows.addRows(added.rows)).toBe(0);
    const gone = checkPayload({ schema: SCHEMA, data: [...data.slice(0, 100), [h('never'), '', '', [], 0]] }, 1000);
    expect(byRows.removeRows(gone.rows)).toBe(100);
    expect(byRows.size).toBe(200);
    expect([...byRows.rows()]).toEqual(rowCells(added.rows, added.schema).slice(100));
  });
});
