import type { CellInterner } from './cell-interner.js';

const DEAD = 0x80000000;
const EMPTY_SLOT = 0;
const TOMBSTONE = 0xffffffff;
/** Records live in slabs of 4 MiB; a record never spans two slabs, so growth never copies. */
const SLAB_BITS = 20;
const SLAB_WORDS = 1 << SLAB_BITS;
const MAX_LOAD = 0.75;

function popcount(x: number): number {
  let n = 0;
  for (let v = x & ~DEAD; v !== 0; v &= v - 1) n++;
  return n;
}

/**
 * The rows an audience holds, as a set. Each row is one variable-length record: a bitmask of the schema
 * columns present, then the interned id of each present cell (the values themselves live once in the shared
 * CellInterner, 32 bytes each). An open-addressing table of record offsets makes add/remove/has O(1).
 * Cost: 4 + 4 x (present cells) bytes per row plus ~5-11 bytes of index; see membership.bench.ts.
 *
 * Removal is exact-row: a removed row deletes the stored row with the same cells (Meta matches people; the
 * sandbox has no people, only rows).
 */
export class Membership {
  private slabs: Uint32Array[] = [new Uint32Array(4096)];
  private slabUsed: number[] = [0];
  private usedWords = 0;
  private deadWords = 0;
  private table = new Uint32Array(1024);
  private occupied = 0;
  private live = 0;

  constructor(
    readonly width: number,
    private readonly interner: CellInterner,
    private readonly hashedColumns: readonly boolean[],
  ) {}

  get size(): number {
    return this.live;
  }

  get bytes(): number {
    return this.slabs.reduce((n, s) => n + s.byteLength, 0) + this.table.byteLength;
  }

  /** Adds a canonical row; false when it was already there. */
  add(cells: readonly string[]): boolean {
    const record = this.encode(cells.map((c, i) => this.interner.intern(c, this.hashedColumns[i]!)));
    if (this.findSlot(record) >= 0) return false;
    if (this.occupied + 1 > this.table.length * MAX_LOAD) this.rehash(this.table.length * 2);
    this.insertSlot(record, this.append(record));
    this.live++;
    return true;
  }

  /** Removes the row with exactly these cells; false when absent. */
  remove(cells: readonly string[]): boolean {
    const ids = cells.map((c, i) => this.interner.find(c, this.hashedColumns[i]!));
    if (ids.includes(-1)) return false;
    const record = this.encode(ids);
    const slot = this.findSlot(record);
    if (slot < 0) return false;
    const offset = this.table[slot]! - 1;
    const slab = this.slabs[offset >>> SLAB_BITS]!;
    slab[offset & (SLAB_WORDS - 1)] = slab[offset & (SLAB_WORDS - 1)]! | DEAD;
    this.deadWords += record.length;
    this.table[slot] = TOMBSTONE;
    this.live--;
    if (this.deadWords > 65_536 && this.deadWords * 2 > this.usedWords) this.compact();
    return true;
  }

  has(cells: readonly string[]): boolean {
    const ids = cells.map((c, i) => this.interner.find(c, this.hashedColumns[i]!));
    return !ids.includes(-1) && this.findSlot(this.encode(ids)) >= 0;
  }

  /** Live rows in insertion order, `offset` rows skipped, as canonical cells. */
  *rows(offset = 0): Generator<string[]> {
    let skipped = 0;
    for (const { slab, at, mask } of this.records(this.slabs, this.slabUsed)) {
      if (skipped < offset) {
        skipped++;
        continue;
      }
      const row = new Array<string>(this.width).fill('');
      let k = at + 1;
      for (let c = 0; c < this.width; c++) if (mask & (1 << c)) row[c] = this.interner.cell(slab[k++]!);
      yield row;
    }
  }

  /** Live records of the given slabs. */
  private *records(
    slabs: readonly Uint32Array[],
    slabUsed: readonly number[],
  ): Generator<{ slab: Uint32Array; index: number; at: number; mask: number; n: number }> {
    for (let index = 0; index < slabs.length; index++) {
      const slab = slabs[index]!;
      const used = slabUsed[index]!;
      for (let at = 0; at < used;) {
        const mask = slab[at]!;
        const n = popcount(mask);
        if ((mask & DEAD) === 0) yield { slab, index, at, mask, n };
        at += 1 + n;
      }
    }
  }

  private encode(ids: readonly number[]): Uint32Array {
    let mask = 0;
    let n = 0;
    for (let c = 0; c < ids.length; c++) {
      if (ids[c] !== 0) {
        mask |= 1 << c;
        n++;
      }
    }
    const record = new Uint32Array(1 + n);
    record[0] = mask;
    let k = 1;
    for (const id of ids) if (id !== 0) record[k++] = id;
    return record;
  }

  private hashOf(record: Uint32Array): number {
    let h = 0x811c9dc5;
    for (const w of record) h = Math.imul(h ^ w, 0x01000193) ^ (h >>> 15);
    return h >>> 0;
  }

  private matches(record: Uint32Array, offset: number): boolean {
    const slab = this.slabs[offset >>> SLAB_BITS]!;
    const at = offset & (SLAB_WORDS - 1);
    for (let k = 0; k < record.length; k++) if (slab[at + k] !== record[k]) return false;
    return true;
  }

  private findSlot(record: Uint32Array): number {
    const mask = this.table.length - 1;
    for (let slot = this.hashOf(record) & mask; ; slot = (slot + 1) & mask) {
      const v = this.table[slot]!;
      if (v === EMPTY_SLOT) return -1;
      if (v !== TOMBSTONE && this.matches(record, v - 1)) return slot;
    }
  }

  private insertSlot(record: Uint32Array, offset: number): void {
    const mask = this.table.length - 1;
    let slot = this.hashOf(record) & mask;
    while (this.table[slot] !== EMPTY_SLOT) slot = (slot + 1) & mask;
    this.table[slot] = offset + 1;
    this.occupied++;
  }

  private append(record: Uint32Array): number {
    let index = this.slabs.length - 1;
    let slab = this.slabs[index]!;
    let used = this.slabUsed[index]!;
    if (used + record.length > slab.length) {
      if (slab.length < SLAB_WORDS) {
        // The first slab starts small (most audiences in tests are tiny) and grows to full size once.
        const bigger = new Uint32Array(Math.min(SLAB_WORDS, Math.max(slab.length * 4, used + record.length)));
        bigger.set(slab.subarray(0, used));
        this.slabs[index] = slab = bigger;
      }
      if (used + record.length > slab.length) {
        this.slabs.push((slab = new Uint32Array(SLAB_WORDS)));
        this.slabUsed.push((used = 0));
        index++;
      }
    }
    slab.set(record, used);
    this.slabUsed[index] = used + record.length;
    this.usedWords += record.length;
    return index * SLAB_WORDS + used;
  }

  /** Rebuilds the index (dropping tombstones) with at least the given capacity. */
  private rehash(capacity: number): void {
    while (this.live + 1 > capacity * MAX_LOAD) capacity *= 2;
    this.table = new Uint32Array(capacity);
    this.occupied = 0;
    for (const { slab, index, at, n } of this.records(this.slabs, this.slabUsed)) {
      this.insertSlot(slab.subarray(at, at + 1 + n), index * SLAB_WORDS + at);
    }
  }

  /** Drops dead records, keeping order. */
  private compact(): void {
    const oldSlabs = this.slabs;
    const oldUsed = this.slabUsed;
    this.slabs = [new Uint32Array(4096)];
    this.slabUsed = [0];
    this.usedWords = 0;
    this.deadWords = 0;
    for (const { slab, at, n } of this.records(oldSlabs, oldUsed)) this.append(slab.subarray(at, at + 1 + n));
    this.rehash(this.table.length);
  }
}
