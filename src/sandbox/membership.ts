import type { CellInterner } from './cell-interner.js';

const DEAD = 0x80000000;
const EMPTY_SLOT = 0;
const TOMBSTONE = 0xffffffff;

function popcount(x: number): number {
  let n = 0;
  for (let v = x & ~DEAD; v !== 0; v &= v - 1) n++;
  return n;
}

/**
 * The rows an audience holds, as a set. Each row is one variable-length record in a Uint32Array arena:
 * a bitmask of the schema columns present, then the interned id of each present cell. An open-addressing
 * table of record offsets makes add/remove/has O(1). About 4 + 4 x (present cells) bytes per row plus
 * 8 bytes of index, so 10 million rows of 8 filled keys take about 0.5 GB (the distinct cell values live in
 * the shared CellInterner: 32 bytes each).
 *
 * Removal is exact-row: a removed row deletes the stored row with the same cells (Meta matches people; the
 * sandbox has no people, only rows).
 */
export class Membership {
  private arena = new Uint32Array(4096);
  private used = 0;
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
    return this.arena.byteLength + this.table.byteLength;
  }

  /** Adds a canonical row; false when it was already there. */
  add(cells: readonly string[]): boolean {
    const ids = cells.map((c, i) => this.interner.intern(c, this.hashedColumns[i]!));
    const record = this.encode(ids);
    if (this.findSlot(record) >= 0) return false;
    if ((this.occupied + 1) * 2 > this.table.length) this.rehash(this.table.length * 2);
    const offset = this.append(record);
    this.insertSlot(record, offset);
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
    this.arena[offset] = this.arena[offset]! | DEAD;
    this.deadWords += record.length;
    this.table[slot] = TOMBSTONE;
    this.live--;
    if (this.deadWords > 4096 && this.deadWords * 2 > this.used) this.compact();
    return true;
  }

  has(cells: readonly string[]): boolean {
    const ids = cells.map((c, i) => this.interner.find(c, this.hashedColumns[i]!));
    return !ids.includes(-1) && this.findSlot(this.encode(ids)) >= 0;
  }

  /** Live rows in insertion order, `offset` rows skipped, as canonical cells. */
  *rows(offset = 0): Generator<string[]> {
    let skipped = 0;
    for (let at = 0; at < this.used;) {
      const mask = this.arena[at]!;
      const n = popcount(mask);
      if ((mask & DEAD) === 0) {
        if (skipped < offset) skipped++;
        else {
          const row = new Array<string>(this.width).fill('');
          let k = at + 1;
          for (let c = 0; c < this.width; c++) if (mask & (1 << c)) row[c] = this.interner.cell(this.arena[k++]!);
          yield row;
        }
      }
      at += 1 + n;
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
    if (this.arena[offset] !== record[0]) return false;
    for (let k = 1; k < record.length; k++) if (this.arena[offset + k] !== record[k]) return false;
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
    if (this.used + record.length > this.arena.length) {
      const bigger = new Uint32Array(Math.max(this.arena.length * 2, this.used + record.length));
      bigger.set(this.arena.subarray(0, this.used));
      this.arena = bigger;
    }
    const offset = this.used;
    this.arena.set(record, offset);
    this.used += record.length;
    return offset;
  }

  /** Rebuilds the index (dropping tombstones) at a given capacity. */
  private rehash(capacity: number): void {
    while (this.live * 2 >= capacity) capacity *= 2;
    this.table = new Uint32Array(capacity);
    this.occupied = 0;
    for (let at = 0; at < this.used;) {
      const mask = this.arena[at]!;
      const n = popcount(mask);
      if ((mask & DEAD) === 0) this.insertSlot(this.arena.subarray(at, at + 1 + n), at);
      at += 1 + n;
    }
  }

  /** Drops dead records from the arena, keeping order. */
  private compact(): void {
    const next = new Uint32Array(Math.max(4096, this.used - this.deadWords));
    let w = 0;
    for (let at = 0; at < this.used;) {
      const mask = this.arena[at]!;
      const n = popcount(mask);
      if ((mask & DEAD) === 0) {
        next.set(this.arena.subarray(at, at + 1 + n), w);
        w += 1 + n;
      }
      at += 1 + n;
    }
    this.arena = next;
    this.used = w;
    this.deadWords = 0;
    this.rehash(this.table.length);
  }
}
