import type { Cell } from '../domain/canonical-row.js';
/**
 * Compact bytes for the cells of one uploaded row, as stored in `audience_snapshots.cells`: the snapshot must hold
 * exactly what was sent (so a remove posts the same cells), for millions of rows.
 *
 * Layout (version 1), for n cells:
 *   [version = 1] [n] [present bitmask: ceil(n/8) bytes] [hash bitmask: ceil(n/8) bytes] then, in cell order,
 *   for each present cell: a hash cell is its 32 raw bytes (no tag); any other cell is a tag byte and a payload:
 *     0x01 string:    varint byte length, UTF-8
 *     0x02 integer:   varint of the zigzag-encoded value (|n| < 2^52)
 *     0x03 number:    float64, big-endian
 *     0x04 string[]:  varint count, then each string as varint length + UTF-8
 * A cell is absent when it is the empty string (Meta's blank cell); a hash cell is a 64-character lower-case hex
 * string (a SHA-256). The canonical row (15 keys + 3 data-processing columns, 13 of them hashes) takes about
 * 13 × 32 + 10 bytes plus its plain cells, against ~900 bytes as JSON.
 */

const VERSION = 1;
const TAG_STRING = 0x01;
const TAG_INT = 0x02;
const TAG_FLOAT = 0x03;
const TAG_STRINGS = 0x04;
const HASH_BYTES = 32;
const MAX_CELLS = 255;

export class SnapshotCodecError extends Error {
  override readonly name = 'SnapshotCodecError';
}

/** Nibble value of each ASCII code, -1 for anything but `0-9a-f` (upper-case hex is not a hash). */
const NIBBLE = new Int8Array(128).fill(-1);
for (let c = 0; c < 16; c++) NIBBLE['0123456789abcdef'.charCodeAt(c)] = c;

/**
 * One scratch buffer per thread, reused by every call: a row is written here and copied out once, so encoding
 * allocates only its result (it was a dozen buffers a row, and the GC's work showed in the export's profile).
 * Safe because encoding is synchronous.
 */
let scratch = Buffer.allocUnsafe(4096);

class Reader {
  private pos = 0;
  constructor(private readonly buf: Buffer) {}
  private need(n: number): void {
    if (this.pos + n > this.buf.length) throw new SnapshotCodecError('snapshot cells are truncated');
  }
  byte(): number {
    this.need(1);
    return this.buf[this.pos++]!;
  }
  varint(): number {
    let value = 0;
    let scale = 1;
    for (;;) {
      const b = this.byte();
      value += (b & 0x7f) * scale;
      if (b < 0x80) return value;
      scale *= 0x80;
      if (scale > 2 ** 56) throw new SnapshotCodecError('varint too long');
    }
  }
  bytes(n: number): Buffer {
    this.need(n);
    const out = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }
  text(): string {
    return this.bytes(this.varint()).toString('utf8');
  }
  float(): number {
    this.need(8);
    const v = this.buf.readDoubleBE(this.pos);
    this.pos += 8;
    return v;
  }
  done(): boolean {
    return this.pos === this.buf.length;
  }
}

const zigzag = (n: number): number => (n >= 0 ? n * 2 : -n * 2 - 1);
const unzigzag = (n: number): number => (n % 2 === 0 ? n / 2 : -(n + 1) / 2);

export function encodeCells(cells: readonly Cell[]): Buffer {
  const bound = cellsBound(cells);
  if (bound > scratch.length) scratch = Buffer.allocUnsafe(Math.max(bound, scratch.length * 2));
  const end = writeCells(scratch, 0, cells);
  const out = Buffer.allocUnsafe(end);
  out.set(scratch.subarray(0, end));
  return out;
}

/**
 * Writes a row's cells at `pos` of `buf`, which has room for {@link cellsBound} bytes, and returns the end: how a
 * page writes all its rows into one buffer (a COPY stream, a packed parameter) with no buffer per row.
 */
export function writeCells(buf: Buffer, pos: number, cells: readonly Cell[]): number {
  const n = cells.length;
  if (n > MAX_CELLS) throw new SnapshotCodecError(`at most ${MAX_CELLS} cells, got ${n}`);
  const maskBytes = (n + 7) >> 3;
  const masks = pos + 2;
  buf[pos] = VERSION;
  buf[pos + 1] = n;
  buf.fill(0, masks, masks + 2 * maskBytes);
  let at = masks + 2 * maskBytes;
  for (let i = 0; i < n; i++) {
    const cell = cells[i];
    // A hole (never in a built row) is blank, as `forEach` skipped it before.
    if (cell === '' || cell === undefined) continue;
    const byte = i >> 3;
    const bit = 1 << (i & 7);
    buf[masks + byte]! |= bit;
    if (typeof cell === 'string') {
      if (writeHash(buf, at, cell)) {
        buf[masks + maskBytes + byte]! |= bit;
        at += HASH_BYTES;
      } else {
        buf[at++] = TAG_STRING;
        at = writeText(buf, at, cell);
      }
    } else if (typeof cell === 'number') {
      // Zigzag doubles the magnitude, so only integers below 2^52 stay exact as varints.
      if (Number.isInteger(cell) && Math.abs(cell) < 2 ** 52 && !Object.is(cell, -0)) {
        buf[at++] = TAG_INT;
        at = writeVarint(buf, at, zigzag(cell));
      } else {
        buf[at++] = TAG_FLOAT;
        at = buf.writeDoubleBE(cell, at);
      }
    } else {
      buf[at++] = TAG_STRINGS;
      at = writeVarint(buf, at, cell.length);
      for (const s of cell) at = writeText(buf, at, s);
    }
  }
  return at;
}

/** Bytes a row's cells can take at most: UTF-8 is at most 3 bytes per UTF-16 unit, a varint at most 8 here. */
export function cellsBound(cells: readonly Cell[]): number {
  let bound = 2 + 2 * ((cells.length + 7) >> 3);
  for (let i = 0; i < cells.length; i++) {
    const cell = cells[i];
    if (typeof cell === 'string') bound += 9 + 3 * cell.length;
    else if (typeof cell === 'number') bound += 9;
    else if (cell !== undefined) {
      bound += 9;
      for (const s of cell) bound += 8 + 3 * s.length;
    }
  }
  return bound;
}

/** A 64-character lower-case hex string is written as its 32 bytes; any other text gives false (bytes at `pos` left undefined). */
function writeHash(buf: Buffer, pos: number, text: string): boolean {
  if (text.length !== 2 * HASH_BYTES) return false;
  for (let i = 0; i < HASH_BYTES; i++) {
    const a = text.charCodeAt(2 * i);
    const b = text.charCodeAt(2 * i + 1);
    if ((a | b) >= 0x80) return false;
    const hi = NIBBLE[a]!;
    const lo = NIBBLE[b]!;
    if ((hi | lo) < 0) return false;
    buf[pos + i] = (hi << 4) | lo;
  }
  return true;
}

function writeVarint(buf: Buffer, pos: number, value: number): number {
  let v = value;
  while (v >= 0x80) {
    buf[pos++] = (v % 0x80) | 0x80;
    v = Math.floor(v / 0x80);
  }
  buf[pos++] = v;
  return pos;
}

/** Varint byte length then UTF-8; the caller has made room for `cellsBound`. */
function writeText(buf: Buffer, pos: number, text: string): number {
  if (3 * text.length < 0x80) {
    const length = buf.write(text, pos + 1, 'utf8');
    buf[pos] = length;
    return pos + 1 + length;
  }
  const at = writeVarint(buf, pos, Buffer.byteLength(text, 'utf8'));
  return at + buf.write(text, at, 'utf8');
}

export function decodeCells(bytes: Uint8Array): Cell[] {
  const r = new Reader(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
  const version = r.byte();
  if (version !== VERSION) throw new SnapshotCodecError(`unknown snapshot cells version ${version}`);
  const n = r.byte();
  const maskBytes = Math.ceil(n / 8);
  const present = r.bytes(maskBytes);
  const hashed = r.bytes(maskBytes);
  const cells: Cell[] = [];
  for (let i = 0; i < n; i++) {
    const bit = 1 << (i & 7);
    if (!(present[i >> 3]! & bit)) {
      cells.push('');
    } else if (hashed[i >> 3]! & bit) {
      cells.push(r.bytes(HASH_BYTES).toString('hex'));
    } else {
      const tag = r.byte();
      if (tag === TAG_STRING) cells.push(r.text());
      else if (tag === TAG_INT) cells.push(unzigzag(r.varint()));
      else if (tag === TAG_FLOAT) cells.push(r.float());
      else if (tag === TAG_STRINGS) {
        const count = r.varint();
        const list: string[] = [];
        for (let j = 0; j < count; j++) list.push(r.text());
        cells.push(list);
      } else throw new SnapshotCodecError(`unknown cell tag ${tag}`);
    }
  }
  if (!r.done()) throw new SnapshotCodecError('trailing bytes after the last cell');
  return cells;
}
