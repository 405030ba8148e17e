/**
 * Memory and speed of the sandbox's member store. Run: `npx tsx bench/sandbox-membership.ts [rows]`
 * (default 1,000,000; pass 10000000 with `node --max-old-space-size=4096` to check the 10 million goal).
 * Prints figures; never fails on them.
 */
import { createHash } from 'node:crypto';
import { CellInterner } from '../src/sandbox/cell-interner.js';
import { Membership } from '../src/sandbox/membership.js';
import { CellKind, MULTI_KEYS } from '../src/sandbox/rules/payload.js';

const rows = Number(process.argv[2] ?? 1_000_000);
const schema = [
  'EXTERN_ID',
  'EMAIL',
  'PHONE',
  'GEN',
  'DOBY',
  'DOBM',
  'DOBD',
  'LN',
  'FN',
  'FI',
  'CT',
  'ST',
  'ZIP',
  'COUNTRY',
  'MADID',
  'DATA_PROCESSING_OPTIONS',
  'DATA_PROCESSING_OPTIONS_COUNTRY',
  'DATA_PROCESSING_OPTIONS_STATE',
];
const hashed = schema.map((k) => MULTI_KEYS[k] === CellKind.Hashed);
const sha = (s: string) => createHash('sha256').update(s).digest('hex');
// Low-cardinality columns repeat (as real data does); email and phone are unique per row.
const pools = {
  gen: ['m', 'f'].map(sha),
  doby: Array.from({ length: 80 }, (_, i) => sha(String(1930 + i))),
  fn: Array.from({ length: 5000 }, (_, i) => sha(`fn${i}`)),
  ln: Array.from({ length: 50_000 }, (_, i) => sha(`ln${i}`)),
  country: Array.from({ length: 30 }, (_, i) => sha(`c${i}`)),
  zip: Array.from({ length: 20_000 }, (_, i) => sha(`z${i}`)),
};
const pick = (pool: string[], i: number) => pool[(i * 2654435761) % pool.length]!;
function row(i: number): string[] {
  const r = new Array<string>(schema.length).fill('');
  r[1] = sha(`email${i}`);
  r[2] = sha(`phone${i}`);
  r[3] = pick(pools.gen, i);
  r[4] = pick(pools.doby, i);
  r[7] = pick(pools.ln, i);
  r[8] = pick(pools.fn, i);
  r[12] = pick(pools.zip, i);
  r[13] = pick(pools.country, i);
  r[15] = '[]';
  r[16] = '0';
  r[17] = '0';
  return r;
}

global.gc?.();
const heapBefore = process.memoryUsage();
const interner = new CellInterner();
const members = new Membership(schema.length, interner, hashed);
const started = performance.now();
for (let i = 0; i < rows; i++) members.add(row(i));
const addMs = performance.now() - started;
global.gc?.();
const after = process.memoryUsage();
const used = after.heapUsed + after.arrayBuffers - (heapBefore.heapUsed + heapBefore.arrayBuffers);
const t2 = performance.now();
for (let i = 0; i < rows; i += 10) members.remove(row(i));
const removeMs = performance.now() - t2;
console.log(
  JSON.stringify(
    {
      rows,
      distinctCells: interner.size,
      storeBytes: members.bytes + interner.bytes,
      bytesPerRow: Math.round((members.bytes + interner.bytes) / rows),
      processDeltaMiB: Math.round(used / 2 ** 20),
      projected10MillionMiB: Math.round((((members.bytes + interner.bytes) / rows) * 1e7) / 2 ** 20),
      addRowsPerSecond: Math.round(rows / (addMs / 1000)),
      removeRowsPerSecond: Math.round(rows / 10 / (removeMs / 1000)),
      sizeAfterRemovingTenth: members.size,
    },
    null,
    2,
  ),
);
