import type { CellInterner } from './cell-interner.js';
import type { CheckedRows } from './rules/rows.js';
import { SHA256_WORDS } from './sha256-hex.js';

const DEAD = 0x80000000;
const EMPTY_SLOT = 0;
const TOMBSTONE = 0xffffffff;
/** Records live in slabs of 4 MiB; a record never spans two slabs, so growth never copies. */
const SLAB_BITS = 20;
const SLAB_WORDS = 1 << SLAB_BITS;
const MAX_LOAD = 0.75;

/** Where the next checked row's digests and texts start. */
interface CheckedCursor {
  digest: number;
  text: number;
}

function popcount(x: number): number {
  let n = 0;
  for (let v = x & ~DEAD; v !== 0; v &= v - 1) n++;
  return n;
}

/**
 * The rows an audience holds, as a set. Each row is one variable-length record: a bitmask of the schema
 * columns present, then the interned id of each present cell (the values themselves live once in the shared
 * CellInterner, 32 bytes each). An open-addressing table of record offsets, each beside its record's hash,
 * makes add/remove/has O(1): a probe reads a record (a cache miss) only when the hashes match.
 * Cost: 4 + 4 x (present cells) bytes per row plus ~11-21 bytes of index; see bench/sandbox-membership.ts.
 *
 * Removal is exact-row: a removed row deletes the stored row with the same cells (Meta matches people; the
 * sandbox has no people, only rows).
 */
export class Membership {
  private slabs: Uint32Array[] = [new Uint32Array(4096)];
  private slabUsed: number[] = [0];
  private usedWords = 0;
  private deadWords = 0;
  /** Slot s: [2s] = record offset + 1 (or EMPTY_SLOT, TOMBSTONE), [2s + 1] = the record's hash. */
  private table = new Uint32Array(2 * 1024);
  private occupied = 0;
  private live = 0;
  /** Scratch for the record being added or looked up, so a row allocates nothing. */
  private readonly record: Uint32Array;

  constructor(
    readonly width: number,
    private readonly interner: CellInterner,
    private readonly hashedColumns: readonly boolean[],
  ) {
    this.record = new Uint32Array(width + 1);
  }

  get size(): number {
    return this.live;
  }

  get bytes(): number {
    return this.slabs.reduce((n, s) => n + s.byteLength, 0) + this.table.byteLength;
  }

  /** Adds a canonical row; false when it was already there. */
  add(cells: readonly string[]): boolean {
    return this.insert(this.encode(cells, true));
  }

  /** Removes the row with exactly these cells; false when absent. */
  remove(cells: readonly string[]): boolean {
    const length = this.encode(cells, false);
    return length >= 0 && this.delete(length);
  }

  has(cells: readonly string[]): boolean {
    const length = this.encode(cells, false);
    return length >= 0 && this.findSlot(this.hashOf(this.record, 0, length), length) >= 0;
  }

  /** Adds checked rows (of this store's schema); returns how many were new. */
  addRows(rows: CheckedRows): number {
    let added = 0;
    const at: CheckedCursor = { digest: 0, text: 0 };
    for (let r = 0; r < rows.count; r++) if (this.insert(this.encodeChecked(rows, r, at, true))) added++;
    return added;
  }

  /** Removes the stored rows equal to checked rows (of this store's schema); returns how many were there. */
  removeRows(rows: CheckedRows): number {
    let removed = 0;
    const at: CheckedCursor = { digest: 0, text: 0 };
    for (let r = 0; r < rows.count; r++) {
      const length = this.encodeChecked(rows, r, at, false);
      if (length >= 0 && this.delete(length)) removed++;
    }
    return removed;
  }

  /** Stores the scratch record of this length; false when it was already there. */
  private insert(length: number): boolean {
    const hash = this.hashOf(this.record, 0, length);
    if (this.findSlot(hash, length) >= 0) return false;
    if (this.occupied + 1 > this.slots * MAX_LOAD) this.rehash(this.slots * 2);
    this.insertSlot(hash, this.append(this.record, 0, length));
    this.live++;
    return true;
  }

  /** Deletes the stored row equal to the scratch record of this length; false when absent. */
  private delete(length: number): boolean {
    const slot = this.findSlot(this.hashOf(this.record, 0, length), length);
    if (slot < 0) return false;
    const offset = this.table[2 * slot]! - 1;
    const slab = this.slabs[offset >>> SLAB_BITS]!;
    slab[offset & (SLAB_WORDS - 1)] = slab[offset & (SLAB_WORDS - 1)]! | DEAD;
    this.deadWords += length;
    this.table[2 * slot] = TOMBSTONE;
    this.live--;
    if (this.deadWords > 65_536 && this.deadWords * 2 > this.usedWords) this.compact();
    return true;
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

  /**
   * Writes a row's record (mask, then the id of each present cell) to the scratch `record` and returns its
   * length in words; -1 when `intern` is false and a cell was never stored (no row can hold it).
   */
  private encode(cells: readonly string[], intern: boolean): number {
    const record = this.record;
    let mask = 0;
    let k = 1;
    for (let c = 0; c < this.width; c++) {
      const cell = cells[c]!;
      if (cell === '') continue;
      const id = intern
        ? this.interner.intern(cell, this.hashedColumns[c]!)
        : this.interner.find(cell, this.hashedColumns[c]!);
      if (id < 0) return -1;
      mask |= 1 << c;
      record[k++] = id;
    }
    record[0] = mask;
    return k;
  }

  /**
   * Puts checked row `r` in the scratch record, as `encode` does for cells; returns its length, or -1 when a cell
   * is unknown (without interning). Reads the row's digests and texts from `at`, and moves `at` past them always,
   * so the next row reads its own.
   */
  private encodeChecked(rows: CheckedRows, r: number, at: CheckedCursor, intern: boolean): number {
    const record = this.record;
    const mask = rows.masks[r]!;
    let k = 1;
    let known = true;
    for (let c = 0; c < this.width; c++) {
      if ((mask & (1 << c)) === 0) continue;
      let id: number;
      if (this.hashedColumns[c]) {
        id = intern
          ? this.interner.internDigest(rows.digests, at.digest)
          : this.interner.findDigest(rows.digests, at.digest);
        at.digest += SHA256_WORDS;
      } else {
        const text = rows.texts[at.text++]!;
        id = intern ? this.interner.internText(text) : this.interner.findText(text);
      }
      if (id < 0) known = false;
      record[k++] = id;
    }
    record[0] = mask;
    return known ? k : -1;
  }

  private hashOf(words: Uint32Array, at: number, length: number): number {
    let h = 0x811c9dc5;
    for (let k = at, end = at + length; k < end; k++) h = Math.imul(h ^ words[k]!, 0x01000193) ^ (h >>> 15);
    return h >>> 0;
  }

  /** Whether the stored record at `offset` equals the scratch record of this length. */
  private matches(length: number, offset: number): boolean {
    const slab = this.slabs[offset >>> SLAB_BITS]!;
    const at = offset & (SLAB_WORDS - 1);
    const record = this.record;
    for (let k = 0; k < length; k++) if (slab[at + k] !== record[k]) return false;
    return true;
  }

  private get slots(): number {
    return this.table.length >>> 1;
  }

  /** The table slot holding the scratch record, or -1. */
  private findSlot(hash: number, length: number): number {
    const table = this.table;
    const mask = this.slots - 1;
    for (let slot = hash & mask; ; slot = (slot + 1) & mask) {
      const v = table[2 * slot]!;
      if (v === EMPTY_SLOT) return -1;
      if (v !== TOMBSTONE && table[2 * slot + 1] === hash && this.matches(length, v - 1)) return slot;
    }
  }

  private insertSlot(hash: number, offset: number): void {
    const table = this.table;
    const mask = this.slots - 1;
    let slot = hash & mask;
    while (table[2 * slot] !== EMPTY_SLOT) slot = (slot + 1) & mask;
    table[2 * slot] = offset + 1;
    table[2 * slot + 1] = hash;
    this.occupied++;
  }

  /** Appends the record `words[at..at+length)`; returns its offset. */
  private append(words: Uint32Array, at: number, length: number): number {
    let index = this.slabs.length - 1;
    let slab = this.slabs[index]!;
    let used = this.slabUsed[index]!;
    if (used + length > slab.length) {
      if (slab.length < SLAB_WORDS) {
        // The first slab starts small (most audiences in tests are tiny) and grows to full size once.
        const bigger = new Uint32Array(Math.min(SLAB_WORDS, Math.max(slab.length * 4, used + length)));
        bigger.set(slab.subarray(0, used));
        this.slabs[index] = slab = bigger;
      }
      if (used + length > slab.length) {
        this.slabs.push((slab = new Uint32Array(SLAB_WORDS)));
        this.slabUsed.push((used = 0));
        index++;
      }
    }
    for (let k = 0; k < length; k++) slab[used + k] = words[at + k]!;
    this.slabUsed[index] = used + length;
    this.usedWords += length;
    return index * SLAB_WORDS + used;
  }

  /** Rebuilds the index (dropping tombstones) with at least the given number of slots. */
  private rehash(slots: number): void {
    while (this.live + 1 > slots * MAX_LOAD) slots *= 2;
    const old = this.table;
    this.table = new Uint32Array(2 * slots);
    this.occupied = 0;
    for (let k = 0; k < old.length; k += 2) {
      const v = old[k]!;
      if (v !== EMPTY_SLOT && v !== TOMBSTONE) this.insertSlot(old[k + 1]!, v - 1);
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
    this.table = new Uint32Array(this.table.length);
    this.occupied = 0;
    for (const { slab, at, n } of this.records(oldSlabs, oldUsed)) {
      this.insertSlot(this.hashOf(slab, at, 1 + n), this.append(slab, at, 1 + n));
    }
  }
}
