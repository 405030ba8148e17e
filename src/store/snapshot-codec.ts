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

/** One cell of Meta's multi-key payload. */
export type Cell = string | number | readonly string[];

const VERSION = 1;
const TAG_STRING = 0x01;
const TAG_INT = 0x02;
const TAG_FLOAT = 0x03;
const TAG_STRINGS = 0x04;
const HASH_BYTES = 32;
const HEX64 = /^[0-9a-f]{64}$/;
const MAX_CELLS = 255;

export class SnapshotCodecError extends Error {
  override readonly name = 'SnapshotCodecError';
}

class Writer {
  private buf = Buffer.allocUnsafe(256);
  length = 0;
  private ensure(n: number): void {
    if (this.length + n <= this.buf.length) return;
    const next = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.length + n));
    this.buf.copy(next, 0, 0, this.length);
    this.buf = next;
  }
  byte(b: number): void {
    this.ensure(1);
    this.buf[this.length++] = b;
  }
  varint(value: number): void {
    let v = value;
    while (v >= 0x80) {
      this.byte((v % 0x80) | 0x80);
      v = Math.floor(v / 0x80);
    }
    this.byte(v);
  }
  bytes(b: Uint8Array): void {
    this.ensure(b.length);
    this.buf.set(b, this.length);
    this.length += b.length;
  }
  text(s: string): void {
    const b = Buffer.from(s, 'utf8');
    this.varint(b.length);
    this.bytes(b);
  }
  float(n: number): void {
    this.ensure(8);
    this.buf.writeDoubleBE(n, this.length);
    this.length += 8;
  }
  result(): Buffer {
    return Buffer.from(this.buf.subarray(0, this.length));
  }
}

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
  if (cells.length > MAX_CELLS) throw new SnapshotCodecError(`at most ${MAX_CELLS} cells, got ${cells.length}`);
  const maskBytes = Math.ceil(cells.length / 8);
  const present = new Uint8Array(maskBytes);
  const hashed = new Uint8Array(maskBytes);
  const body = new Writer();
  cells.forEach((cell, i) => {
    if (cell === '') return;
    present[i >> 3]! |= 1 << (i & 7);
    if (typeof cell === 'string') {
      if (HEX64.test(cell)) {
        hashed[i >> 3]! |= 1 << (i & 7);
        body.bytes(Buffer.from(cell, 'hex'));
      } else {
        body.byte(TAG_STRING);
        body.text(cell);
      }
    } else if (typeof cell === 'number') {
      // Zigzag doubles the magnitude, so only integers below 2^52 stay exact as varints.
      if (Number.isInteger(cell) && Math.abs(cell) < 2 ** 52 && !Object.is(cell, -0)) {
        body.byte(TAG_INT);
        body.varint(zigzag(cell));
      } else {
        body.byte(TAG_FLOAT);
        body.float(cell);
      }
    } else {
      body.byte(TAG_STRINGS);
      body.varint(cell.length);
      for (const s of cell) body.text(s);
    }
  });
  const out = new Writer();
  out.byte(VERSION);
  out.byte(cells.length);
  out.bytes(present);
  out.bytes(hashed);
  out.bytes(body.result());
  return out.result();
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
