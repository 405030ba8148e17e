import { graphErrors } from '../errors.js';
import { CellToken, type ScannedRows } from '../json-rows.js';
import { decodeSha256Hex, encodeSha256Hex, SHA256_WORDS } from '../sha256-hex.js';
import {
  canonicalCell,
  CellKind,
  cellProblem,
  DataSourceSubtype,
  EMPTY_SHA256,
  isIdentifying,
  type UploadSchema,
} from './cells.js';

/**
 * The valid rows of a payload, compactly (no array or string per row): which cells each row has, its hashed
 * cells decoded once, its other cells as canonical JSON text. The member store takes them as they are.
 */
export interface CheckedRows {
  count: number;
  /** Per row, bit c set when column c holds a value. */
  masks: Uint32Array;
  /** The hashed cells present, SHA256_WORDS words each, row after row in column order. */
  digests: Uint32Array;
  /** The other cells present as canonical JSON text, row after row in column order. */
  texts: string[];
}

const EMPTY_DIGEST = new Uint32Array(SHA256_WORDS);
decodeSha256Hex(EMPTY_SHA256, EMPTY_DIGEST, 0);

const badRow = (i: number, width: number) =>
  graphErrors.invalidParameter(
    `payload.data[${i}] must be a list of ${width} cells, one per schema key, in schema order`,
  );

/** Where checked rows go, sized for `rows` rows of this schema. */
function rowsFor(rows: number, schema: UploadSchema): CheckedRows {
  const hashed = schema.kinds.filter((k) => k === CellKind.Hashed).length;
  return { count: 0, masks: new Uint32Array(rows), digests: new Uint32Array(rows * hashed * SHA256_WORDS), texts: [] };
}

/** The rows of a parsed `data` array (the reference path: any JSON). */
export function checkParsedRows(data: unknown[], schema: UploadSchema): { rows: CheckedRows; invalid: number } {
  const { keys, kinds } = schema;
  const width = keys.length;
  const identifying = keys.map(isIdentifying);
  const single = schema.subtype === DataSourceSubtype.HashesOrUserIds;
  const out = rowsFor(data.length, schema);
  const { masks, digests, texts } = out;
  let stored = 0;
  let invalid = 0;
  for (let i = 0; i < data.length; i++) {
    let row: unknown = data[i];
    if (single && !Array.isArray(row)) row = [row];
    if (!Array.isArray(row) || row.length !== width) throw badRow(i, width);
    const cells = row as unknown[];
    const textsBefore = texts.length;
    let at = stored;
    let mask = 0;
    let ok = true;
    let identified = false;
    for (let c = 0; c < width; c++) {
      const cell = cells[c];
      if (cell === '') continue;
      const kind = kinds[c]!;
      if (kind === CellKind.Hashed) {
        // cellProblem's rule for hashed cells, decoding as it checks.
        if (typeof cell !== 'string' || !decodeSha256Hex(cell, digests, at) || cell === EMPTY_SHA256) {
          ok = false;
          break;
        }
        at += SHA256_WORDS;
      } else {
        if (cellProblem(kind, keys[c]!, cell) !== null) {
          ok = false;
          break;
        }
        texts.push(canonicalCell(kind, cell));
      }
      mask |= 1 << c;
      if (identifying[c]) identified = true;
    }
    if (!ok || !identified) {
      invalid++;
      texts.length = textsBefore;
      continue;
    }
    masks[out.count++] = mask;
    stored = at;
  }
  return { rows: out, invalid };
}

/** The rows of a scanned `data` array: the same rules as checkParsedRows, read from tokens. */
export function checkScannedRows(data: ScannedRows, schema: UploadSchema): { rows: CheckedRows; invalid: number } {
  const { keys, kinds } = schema;
  const width = keys.length;
  const identifying = keys.map(isIdentifying);
  const { rowStart, tokens } = data;
  // The digests of valid rows are moved down over the scan's own (never past one not yet read).
  const digests = data.takeDigests();
  const out: CheckedRows = { count: 0, masks: new Uint32Array(data.count), digests, texts: [] };
  const { masks, texts } = out;
  let hex = 0;
  let stored = 0;
  let invalid = 0;
  for (let r = 0; r < data.count; r++) {
    const first = rowStart[r]!;
    if (rowStart[r + 1]! - first !== width) throw badRow(r, width);
    const textsBefore = texts.length;
    let at = stored;
    let mask = 0;
    let ok = true;
    let identified = false;
    let c = 0;
    for (; c < width; c++) {
      const token = tokens[first + c];
      if (token === CellToken.Empty) continue;
      const kind = kinds[c]!;
      if (kind === CellKind.Hashed) {
        // Only 64 lowercase hex digits other than the empty string's hash.
        if (token !== CellToken.Hex || isEmptyDigest(digests, hex * SHA256_WORDS)) {
          ok = false;
          break;
        }
        const from = hex * SHA256_WORDS;
        if (from !== at) for (let w = 0; w < SHA256_WORDS; w++) digests[at + w] = digests[from + w]!;
        at += SHA256_WORDS;
        hex++;
      } else {
        const cell = data.value(first + c);
        if (cellProblem(kind, keys[c]!, cell) !== null) {
          ok = false;
          break;
        }
        texts.push(canonicalCell(kind, cell));
        if (token === CellToken.Hex) hex++;
      }
      mask |= 1 << c;
      if (identifying[c]) identified = true;
    }
    if (!ok || !identified) {
      // Keep counting the row's digests, so the next row reads its own.
      for (; c < width; c++) if (tokens[first + c] === CellToken.Hex) hex++;
      invalid++;
      texts.length = textsBefore;
      continue;
    }
    masks[out.count++] = mask;
    stored = at;
  }
  return { rows: out, invalid };
}

function isEmptyDigest(words: Uint32Array, at: number): boolean {
  for (let w = 0; w < SHA256_WORDS; w++) if (words[at + w] !== EMPTY_DIGEST[w]) return false;
  return true;
}

/** Checked rows as canonical cells ('' when empty; hex for hashed cells, JSON text for the others). */
export function rowCells(rows: CheckedRows, schema: UploadSchema): string[][] {
  const out: string[][] = [];
  let d = 0;
  let t = 0;
  for (let r = 0; r < rows.count; r++) {
    const mask = rows.masks[r]!;
    out.push(
      schema.kinds.map((kind, c) => {
        if ((mask & (1 << c)) === 0) return '';
        if (kind !== CellKind.Hashed) return rows.texts[t++]!;
        d += SHA256_WORDS;
        return encodeSha256Hex(rows.digests, d - SHA256_WORDS);
      }),
    );
  }
  return out;
}
