import { decodeSha256Hex, encodeSha256Hex, SHA256_WORDS } from './sha256-hex.js';

const EMPTY_SLOT = 0;
/** Digests live in fixed slabs (2 MiB each), so growth never copies or doubles the digest store. */
const SLAB_BITS = 16;
const SLAB_KEYS = 1 << SLAB_BITS;
const SLAB_WORDS = SLAB_KEYS * SHA256_WORDS;
/** Grow the table past 3/4 full: linear probing stays short and the table costs ~5-11 bytes per value. */
const MAX_LOAD = 0.75;
/** Ids of plaintext cells carry this bit; hashed cells' ids are below it. */
const TEXT_ID = 0x80000000;
/**
 * A table entry is a hashed id in its low bits and, above, the top bits of the digest's second word: most
 * probes that pass another digest's entry are then settled without reading that digest (a cache miss each).
 */
const ID_BITS = 27;
const ID_MASK = (1 << ID_BITS) - 1;
const tagOf = (secondWord: number): number => (secondWord >>> ID_BITS) << ID_BITS;

/**
 * Stores each distinct cell value once and names it by a non-zero uint32 id (0 is the empty cell). Hashed cells
 * are kept as their 32 raw bytes (8 uint32 words) in an open-addressing table indexed by their first word (the
 * digests are uniformly random); they are decoded from hex straight into words, with no Buffer or string per
 * cell. The few other cells (EXTERN_ID, MADID, numbers, options, as JSON text) go in a Map by text. Values are
 * never freed: a sandbox lives for a test run or a demo.
 */
export class CellInterner {
  private readonly slabs: Uint32Array[] = [];
  private table = new Uint32Array(2048);
  private hashedCount = 0;
  private readonly texts: string[] = [];
  private readonly textIds = new Map<string, number>();
  private readonly scratch = new Uint32Array(SHA256_WORDS);

  get size(): number {
    return this.hashedCount + this.texts.length;
  }

  /** Bytes held by the typed storage (not the plaintext map). */
  get bytes(): number {
    return this.slabs.length * SLAB_WORDS * 4 + this.table.byteLength;
  }

  /** The id of a canonical cell ('' -> 0), adding it when new. A hashed cell must be 64 lowercase hex. */
  intern(cell: string, hashed: boolean): number {
    if (cell === '') return 0;
    if (!hashed) return this.internText(cell);
    if (!decodeSha256Hex(cell, this.scratch, 0))
      throw new Error('CellInterner: a hashed cell must be 64 lowercase hex');
    return this.internDigest(this.scratch, 0);
  }

  /** The id of a digest given as 8 words at `words[at..]`, adding it when new. */
  internDigest(words: Uint32Array, at: number): number {
    const found = this.lookup(words, at);
    if (found !== 0) return found;
    if (this.hashedCount + 1 > this.table.length * MAX_LOAD) this.grow();
    const id = ++this.hashedCount;
    if (id > ID_MASK) throw new Error('CellInterner: too many distinct hashed cells');
    const slab = (id - 1) >>> SLAB_BITS;
    if (slab === this.slabs.length) this.slabs.push(new Uint32Array(SLAB_WORDS));
    const store = this.slabs[slab]!;
    const to = this.at(id);
    for (let w = 0; w < SHA256_WORDS; w++) store[to + w] = words[at + w]!;
    this.place(words[at]!, words[at + 1]!, id);
    return id;
  }

  /** The id of a plaintext cell's canonical JSON text, adding it when new. */
  internText(cell: string): number {
    let id = this.textIds.get(cell);
    if (id === undefined) {
      id = TEXT_ID + this.texts.length;
      this.texts.push(cell);
      this.textIds.set(cell, id);
    }
    return id;
  }

  /** The id of a canonical cell, or -1 when it was never stored (so no row can hold it). */
  find(cell: string, hashed: boolean): number {
    if (cell === '') return 0;
    if (!hashed) return this.findText(cell);
    if (!decodeSha256Hex(cell, this.scratch, 0)) return -1;
    return this.findDigest(this.scratch, 0);
  }

  /** The id of a digest (8 words at `words[at..]`), or -1 when it was never stored. */
  findDigest(words: Uint32Array, at: number): number {
    const id = this.lookup(words, at);
    return id === 0 ? -1 : id;
  }

  findText(cell: string): number {
    return this.textIds.get(cell) ?? -1;
  }

  /** The canonical cell of an id: lowercase hex for hashed cells, the JSON text otherwise. */
  cell(id: number): string {
    if (id === 0) return '';
    if (id >= TEXT_ID) return this.texts[id - TEXT_ID]!;
    return encodeSha256Hex(this.slabs[(id - 1) >>> SLAB_BITS]!, this.at(id));
  }

  /** Word offset of a hashed id in its slab. */
  private at(id: number): number {
    return ((id - 1) & (SLAB_KEYS - 1)) * SHA256_WORDS;
  }

  private lookup(key: Uint32Array, from: number): number {
    const mask = this.table.length - 1;
    const k0 = key[from]!;
    const tag = tagOf(key[from + 1]!);
    for (let slot = k0 & mask; ; slot = (slot + 1) & mask) {
      const entry = this.table[slot]!;
      if (entry === EMPTY_SLOT) return 0;
      if ((entry ^ tag) >>> ID_BITS !== 0) continue;
      const id = entry & ID_MASK;
      const slab = this.slabs[(id - 1) >>> SLAB_BITS]!;
      const at = this.at(id);
      if (
        slab[at] === k0 &&
        slab[at + 1] === key[from + 1] &&
        slab[at + 2] === key[from + 2] &&
        slab[at + 3] === key[from + 3] &&
        slab[at + 4] === key[from + 4] &&
        slab[at + 5] === key[from + 5] &&
        slab[at + 6] === key[from + 6] &&
        slab[at + 7] === key[from + 7]
      ) {
        return id;
      }
    }
  }

  private place(firstWord: number, secondWord: number, id: number): void {
    const mask = this.table.length - 1;
    let slot = firstWord & mask;
    while (this.table[slot] !== EMPTY_SLOT) slot = (slot + 1) & mask;
    this.table[slot] = tagOf(secondWord) | id;
  }

  private grow(): void {
    this.table = new Uint32Array(this.table.length * 2);
    for (let id = 1; id <= this.hashedCount; id++) {
      const slab = this.slabs[(id - 1) >>> SLAB_BITS]!;
      const at = this.at(id);
      this.place(slab[at]!, slab[at + 1]!, id);
    }
  }
}
