import { decodeSha256Ascii, SHA256_WORDS } from './sha256-hex.js';

/**
 * A fast path for the one big thing the sandbox reads: `payload.data` of an upload, 10,000 rows of hex digests
 * in a JSON body. JSON.parse would make a string per cell and an array per row, the payload check would read
 * each digest again, and the request log would JSON.stringify the rows to hash them. Here the rows are read
 * once, from the body's bytes, into typed arrays (digests already decoded).
 *
 * It reads only the plainest form of JSON, the form JSON.stringify writes for such rows: arrays of rows, rows
 * of cells, each cell a string of printable ASCII without escapes, a safe integer in canonical form, or a list
 * of such strings; no whitespace. So the bytes of `data` are exactly JSON.stringify of its value, and hashing
 * them gives the request log's dataHash. Anything else (`[]`, a bare value as a row, whitespace, escapes,
 * non-ASCII, decimals, objects, literals) makes `parseJsonBody` (json-body.ts) fall back to JSON.parse, and the
 * upload takes the reference path: every error and every invalid entry still comes from the same checks.
 */

/** What a cell of scanned rows holds. */
export const CellToken = {
  /** `""` */
  Empty: 0,
  /** A string of 64 lowercase hex digits, decoded in `digests`. */
  Hex: 1,
  /** Any other string. */
  Text: 2,
  /** A safe integer. */
  Int: 3,
  /** A list of strings. */
  List: 4,
} as const;
export type CellToken = (typeof CellToken)[keyof typeof CellToken];

export const QUOTE = 0x22;
export const BACKSLASH = 0x5c;
export const COMMA = 0x2c;
const MINUS = 0x2d;
const ZERO = 0x30;
const NINE = 0x39;
export const OPEN_LIST = 0x5b;
export const CLOSE_LIST = 0x5d;
/** Digits of the largest integers the scan takes: 15 are always below 2^53, so exact and printed back alike. */
const MAX_DIGITS = 15;

/** `payload.data` read from the request bytes: one token per cell, hex cells decoded. */
export class ScannedRows {
  private taken = false;

  constructor(
    private readonly bytes: Uint8Array,
    /** Where the rows array starts and ends in the body. */
    readonly start: number,
    readonly end: number,
    /** Number of rows. */
    readonly count: number,
    /** Index of each row's first cell (count + 1 entries). */
    readonly rowStart: Uint32Array,
    /** A CellToken per cell. */
    readonly tokens: Uint8Array,
    /** Per cell, where its JSON text starts in the body. */
    private readonly starts: Uint32Array,
    private readonly digests: Uint32Array,
  ) {}

  /** The JSON text of the rows as sent: exactly JSON.stringify of their value (the scan takes no other form). */
  get json(): Uint8Array {
    return this.bytes.subarray(this.start, this.end);
  }

  /**
   * The Hex cells' digests, SHA256_WORDS words each, in cell order. Once only: the caller may write over them
   * (the payload check compacts them into its checked rows rather than copying megabytes per request).
   */
  takeDigests(): Uint32Array {
    if (this.taken) throw new Error('ScannedRows: the digests were already taken');
    this.taken = true;
    return this.digests;
  }

  /** The value JSON.parse gives cell `i` (a string, a number or a list of strings). */
  value(i: number): unknown {
    const b = this.bytes;
    const from = this.starts[i]!;
    switch (this.tokens[i]) {
      case CellToken.Empty:
        return '';
      case CellToken.Int:
        return intAt(b, from);
      case CellToken.List: {
        if (b[from + 1] === CLOSE_LIST) return NO_OPTIONS;
        const list: string[] = [];
        for (let p = from + 1; b[p - 1] !== CLOSE_LIST;) {
          const end = scanText(b, p);
          list.push(latin1(b, p + 1, end - 1));
          p = end + 1;
        }
        return list;
      }
      default:
        return latin1(b, from + 1, scanText(b, from) - 1);
    }
  }
}

export function latin1(bytes: Uint8Array, from: number, to: number): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset + from, to - from).toString('latin1');
}

/** The value of every `[]` cell (most rows have one): read only, so one array serves them all. */
const NO_OPTIONS: readonly string[] = Object.freeze([]);

/** The integer the scan took at `from` (at most MAX_DIGITS digits, so exact). */
function intAt(b: Uint8Array, from: number): number {
  const negative = b[from] === MINUS;
  let n = 0;
  for (let p = negative ? from + 1 : from; b[p]! >= ZERO && b[p]! <= NINE; p++) n = n * 10 + (b[p]! - ZERO);
  return negative ? -n : n;
}

/** Growable typed storage for the tokens of one scan. */
class Tokens {
  count = 0;
  rows = 0;
  hexes = 0;
  tokens: Uint8Array;
  starts: Uint32Array;
  digests: Uint32Array;
  rowStart: Uint32Array;

  constructor(
    readonly view: DataView,
    bytes: number,
  ) {
    // A hashed cell takes 67 bytes, so the digests never outgrow this; rows of mostly hashed cells average
    // ~32 bytes a cell, so the tokens rarely do.
    const cells = Math.max(64, Math.ceil(bytes / 24));
    this.tokens = new Uint8Array(cells);
    this.starts = new Uint32Array(cells);
    this.digests = new Uint32Array((bytes >>> 6) * SHA256_WORDS + SHA256_WORDS);
    this.rowStart = new Uint32Array(Math.max(16, bytes >>> 8));
  }

  startRow(): void {
    if (this.rows + 2 > this.rowStart.length) this.rowStart = grown(this.rowStart, this.rowStart.length * 2);
    this.rowStart[this.rows++] = this.count;
  }

  /** Room for one more digest; returns where it goes. */
  digestAt(): number {
    const at = this.hexes * SHA256_WORDS;
    if (at + SHA256_WORDS > this.digests.length) this.digests = grown(this.digests, this.digests.length * 2);
    return at;
  }

  add(token: CellToken, from: number): void {
    if (this.count === this.tokens.length) {
      this.tokens = grown(this.tokens, this.count * 2);
      this.starts = grown(this.starts, this.count * 2);
    }
    if (token === CellToken.Hex) this.hexes++;
    this.tokens[this.count] = token;
    this.starts[this.count] = from;
    this.count++;
  }
}

function grown<T extends Uint8Array | Uint32Array>(a: T, length: number): T {
  const b = new (a.constructor as new (n: number) => T)(length);
  b.set(a);
  return b;
}

/** Scans the rows array at `at` (see the module comment); undefined when it is not in the plain form. */
export function scanRows(b: Uint8Array, at: number): ScannedRows | undefined {
  const t = new Tokens(new DataView(b.buffer, b.byteOffset, b.byteLength), b.length - at);
  let p = at;
  if (b[p++] !== OPEN_LIST || b[p] === CLOSE_LIST) return undefined;
  for (;;) {
    if (b[p++] !== OPEN_LIST) return undefined;
    t.startRow();
    if (b[p] === CLOSE_LIST) p++;
    else {
      for (;;) {
        p = scanCell(b, p, t);
        if (p < 0) return undefined;
        const c = b[p++];
        if (c === CLOSE_LIST) break;
        if (c !== COMMA) return undefined;
      }
    }
    const c = b[p++];
    if (c === CLOSE_LIST) break;
    if (c !== COMMA) return undefined;
  }
  t.rowStart[t.rows] = t.count;
  return new ScannedRows(b, at, p, t.rows, t.rowStart, t.tokens, t.starts, t.digests);
}

/** Scans one cell at `at`; returns where it ends, or -1. */
function scanCell(b: Uint8Array, at: number, t: Tokens): number {
  const first = b[at];
  if (first === QUOTE) {
    if (b[at + 65] === QUOTE && decodeSha256Ascii(t.view, at + 1, t.digests, t.digestAt())) {
      t.add(CellToken.Hex, at);
      return at + 66;
    }
    const end = scanText(b, at);
    if (end > 0) t.add(end === at + 2 ? CellToken.Empty : CellToken.Text, at);
    return end;
  }
  if (first === OPEN_LIST) {
    let p = at + 1;
    if (b[p] !== CLOSE_LIST) {
      for (;;) {
        if (b[p] !== QUOTE) return -1;
        p = scanText(b, p);
        if (p < 0) return -1;
        const c = b[p++];
        if (c === CLOSE_LIST) break;
        if (c !== COMMA) return -1;
      }
    } else p++;
    t.add(CellToken.List, at);
    return p;
  }
  // -?(0|[1-9][0-9]*), at most MAX_DIGITS digits; "-0" is out (JSON.stringify(-0) is "0").
  let p = first === MINUS ? at + 1 : at;
  const lead = b[p];
  if (lead === undefined || lead < ZERO || lead > NINE || (lead === ZERO && p > at)) return -1;
  const digitsFrom = p++;
  if (lead !== ZERO) while (b[p] !== undefined && b[p]! >= ZERO && b[p]! <= NINE) p++;
  if (p - digitsFrom > MAX_DIGITS) return -1;
  t.add(CellToken.Int, at);
  return p;
}

/** Where a string of printable ASCII without escapes starting at `at` ends (after its quote), or -1. */
function scanText(b: Uint8Array, at: number): number {
  for (let p = at + 1; p < b.length; p++) {
    const c = b[p]!;
    if (c === QUOTE) return p + 1;
    if (c < 0x20 || c > 0x7e || c === BACKSLASH) return -1;
  }
  return -1;
}
