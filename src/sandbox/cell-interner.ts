import { createHash } from 'node:crypto';

const KEY_BYTES = 32;
const EMPTY_SLOT = 0;

/**
 * Stores each distinct cell value once, as a 32-byte key, and names it by a small integer id (1-based; 0 is the
 * empty cell). Hashed cells are their own key (binary SHA-256); other cells (EXTERN_ID, MADID, numbers,
 * options) are keyed by the SHA-256 of their JSON text and keep the text beside. Keys are uniformly random,
 * so their first 4 bytes index an open-addressing table directly. Values are never freed: a sandbox lives
 * for a test run or a demo.
 */
export class CellInterner {
  private keys = Buffer.alloc(KEY_BYTES * 1024);
  private table = new Uint32Array(2048);
  private count = 0;
  private readonly texts = new Map<number, string>();

  get size(): number {
    return this.count;
  }

  /** Bytes held by the typed storage (not the plaintext map). */
  get bytes(): number {
    return this.keys.byteLength + this.table.byteLength;
  }

  /** The id of a canonical cell ('' -> 0), adding it when new. */
  intern(cell: string, hashed: boolean): number {
    if (cell === '') return 0;
    const key = hashed ? Buffer.from(cell, 'hex') : createHash('sha256').update(cell).digest();
    const found = this.lookup(key);
    if (found !== 0) return found;
    if ((this.count + 1) * 2 > this.table.length) this.grow();
    const id = ++this.count;
    if (id * KEY_BYTES > this.keys.length) {
      const bigger = Buffer.alloc(this.keys.length * 2);
      this.keys.copy(bigger);
      this.keys = bigger;
    }
    key.copy(this.keys, (id - 1) * KEY_BYTES);
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
    return this.texts.get(id) ?? this.keys.toString('hex', (id - 1) * KEY_BYTES, id * KEY_BYTES);
  }

  private lookup(key: Buffer): number {
    const mask = this.table.length - 1;
    for (let slot = key.readUInt32LE(0) & mask; ; slot = (slot + 1) & mask) {
      const id = this.table[slot]!;
      if (id === EMPTY_SLOT) return 0;
      if (this.keys.compare(key, 0, KEY_BYTES, (id - 1) * KEY_BYTES, id * KEY_BYTES) === 0) return id;
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
      this.place(this.keys.subarray((id - 1) * KEY_BYTES, id * KEY_BYTES), id);
    }
  }
}
