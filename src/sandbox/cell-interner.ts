import { createHash } from 'node:crypto';

const KEY_BYTES = 32;
const EMPTY_SLOT = 0;
/** Keys live in fixed slabs (2 MiB each), so growth never copies or doubles the key store. */
const SLAB_KEYS = 65_536;
/** Grow the table past 3/4 full: linear probing stays short and the table costs ~5-11 bytes per value. */
const MAX_LOAD = 0.75;

/**
 * Stores each distinct cell value once, as a 32-byte key, and names it by a small integer id (1-based; 0 is the
 * empty cell). Hashed cells are their own key (binary SHA-256); other cells (EXTERN_ID, MADID, numbers,
 * options) are keyed by the SHA-256 of their JSON text and keep the text beside. Keys are uniformly random,
 * so their first 4 bytes index an open-addressing table directly. Values are never freed: a sandbox lives
 * for a test run or a demo.
 */
export class CellInterner {
  private readonly slabs: Buffer[] = [];
  private table = new Uint32Array(2048);
  private count = 0;
  private readonly texts = new Map<number, string>();

  get size(): number {
    return this.count;
  }

  /** Bytes held by the typed storage (not the plaintext map). */
  get bytes(): number {
    return this.slabs.length * SLAB_KEYS * KEY_BYTES + this.table.byteLength;
  }

  /** The id of a canonical cell ('' -> 0), adding it when new. */
  intern(cell: string, hashed: boolean): number {
    if (cell === '') return 0;
    const key = hashed ? Buffer.from(cell, 'hex') : createHash('sha256').update(cell).digest();
    const found = this.lookup(key);
    if (found !== 0) return found;
    if (this.count + 1 > this.table.length * MAX_LOAD) this.grow();
    const id = ++this.count;
    if (id > this.slabs.length * SLAB_KEYS) this.slabs.push(Buffer.allocUnsafe(SLAB_KEYS * KEY_BYTES));
    key.copy(this.slabOf(id), this.at(id));
    this.place(key, id);
    if (!hashed) this.texts.set(id, cell);
    return id;
  }

  /** The id of a canonical cell, or -1 when it was never stored (so no row can hold it). */
  find(cell: string, hashed: boolean): number {
    if (cell === '') return 0;
    const key = hashed ? Buffer.from(cell, 'hex') : createHash('sha256').update(cell).digest();
    const id = this.lookup(key);
    return id === 0 ? -1 : id;
  }

  /** The canonical cell of an id: lowercase hex for hashed cells, the JSON text otherwise. */
  cell(id: number): string {
    if (id === 0) return '';
    const at = this.at(id);
    return this.texts.get(id) ?? this.slabOf(id).toString('hex', at, at + KEY_BYTES);
  }

  private slabOf(id: number): Buffer {
    return this.slabs[Math.floor((id - 1) / SLAB_KEYS)]!;
  }

  private at(id: number): number {
    return ((id - 1) % SLAB_KEYS) * KEY_BYTES;
  }

  private lookup(key: Buffer): number {
    const mask = this.table.length - 1;
    for (let slot = key.readUInt32LE(0) & mask; ; slot = (slot + 1) & mask) {
      const id = this.table[slot]!;
      if (id === EMPTY_SLOT) return 0;
      const at = this.at(id);
      if (this.slabOf(id).compare(key, 0, KEY_BYTES, at, at + KEY_BYTES) === 0) return id;
    }
  }

  private place(key: Buffer, id: number): void {
    const mask = this.table.length - 1;
    let slot = key.readUInt32LE(0) & mask;
    while (this.table[slot] !== EMPTY_SLOT) slot = (slot + 1) & mask;
    this.table[slot] = id;
  }

  private grow(): void {
    this.table = new Uint32Array(this.table.length * 2);
    for (let id = 1; id <= this.count; id++) {
      const at = this.at(id);
      this.place(this.slabOf(id).subarray(at, at + KEY_BYTES), id);
    }
  }
}
