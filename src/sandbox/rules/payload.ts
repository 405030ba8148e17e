import { graphErrors } from '../errors.js';
import { CellToken, ScannedRows } from '../json-rows.js';
import { decodeSha256Hex, encodeSha256Hex, isSha256Hex, SHA256_WORDS } from '../sha256-hex.js';

/** How the sandbox checks one schema key's cells. */
export const CellKind = {
  /** SHA-256 as 64 lowercase hex, or '' when unknown. */
  Hashed: 'hashed',
  /** A plaintext string (EXTERN_ID, MADID). */
  Plain: 'plain',
  /** A number (LOOKALIKE_VALUE, DATA_PROCESSING_OPTIONS_COUNTRY/_STATE). */
  Number: 'number',
  /** An array of processing options (DATA_PROCESSING_OPTIONS). */
  Options: 'options',
} as const;
export type CellKind = (typeof CellKind)[keyof typeof CellKind];

/** Multi-key schema keys the users reference and the guide list (PAGEUID/APPUID are not for customer files). */
export const MULTI_KEYS: Readonly<Record<string, CellKind>> = {
  EXTERN_ID: CellKind.Plain,
  EMAIL: CellKind.Hashed,
  PHONE: CellKind.Hashed,
  GEN: CellKind.Hashed,
  DOBY: CellKind.Hashed,
  DOBM: CellKind.Hashed,
  DOBD: CellKind.Hashed,
  LN: CellKind.Hashed,
  FN: CellKind.Hashed,
  FI: CellKind.Hashed,
  CT: CellKind.Hashed,
  ST: CellKind.Hashed,
  ZIP: CellKind.Hashed,
  MADID: CellKind.Plain,
  COUNTRY: CellKind.Hashed,
  LOOKALIKE_VALUE: CellKind.Number,
  DATA_PROCESSING_OPTIONS: CellKind.Options,
  DATA_PROCESSING_OPTIONS_COUNTRY: CellKind.Number,
  DATA_PROCESSING_OPTIONS_STATE: CellKind.Number,
};

/** Single-key schema strings and the column they stand for. */
export const SINGLE_KEYS: Readonly<Record<string, CellKind>> = {
  EMAIL_SHA256: CellKind.Hashed,
  PHONE_SHA256: CellKind.Hashed,
  MOBILE_ADVERTISER_ID: CellKind.Plain,
  EXTERN_ID: CellKind.Plain,
};

/** Meta's data_source sub types: a multi-key audience never accepts single-key uploads and vice versa. */
export const DataSourceSubtype = {
  MultiHashes: 'MULTI_HASHES',
  HashesOrUserIds: 'HASHES_OR_USER_IDS',
} as const;
export type DataSourceSubtype = (typeof DataSourceSubtype)[keyof typeof DataSourceSubtype];

/** SHA-256 of the empty string: Meta wants '' instead, so the sandbox counts it invalid. */
export const EMPTY_SHA256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';
const EMPTY_DIGEST = new Uint32Array(SHA256_WORDS);
decodeSha256Hex(EMPTY_SHA256, EMPTY_DIGEST, 0);
const PAYLOAD_FIELDS = new Set(['schema', 'data', 'is_raw', 'app_ids', 'page_ids', 'data_source']);

export interface UploadSchema {
  /** Keys as sent (a single-key schema is one key). */
  keys: readonly string[];
  kinds: readonly CellKind[];
  subtype: DataSourceSubtype;
}

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

export interface CheckedPayload {
  schema: UploadSchema;
  /** Valid rows only. */
  rows: CheckedRows;
  received: number;
  invalid: number;
}

/** Why a cell is refused, or null when it is fine. Plaintext in a hashed column is an invalid entry. */
export function cellProblem(kind: CellKind, key: string, cell: unknown): string | null {
  if (cell === '') return null;
  switch (kind) {
    case CellKind.Hashed:
      if (typeof cell !== 'string' || !isSha256Hex(cell)) return 'not a lowercase SHA-256 hex digest';
      return cell === EMPTY_SHA256 ? 'hash of the empty string' : null;
    case CellKind.Plain:
      if (typeof cell !== 'string') return 'not a string';
      if (key === 'MADID' || key === 'MOBILE_ADVERTISER_ID') {
        if (cell !== cell.toLowerCase()) return 'MADID must be lowercase';
        if (isSha256Hex(cell)) return 'MADID must not be hashed';
      }
      return cell.trim() === '' ? 'blank' : null;
    case CellKind.Number: {
      const n = typeof cell === 'string' && /^\d+(\.\d+)?$/.test(cell) ? Number(cell) : cell;
      if (typeof n !== 'number' || !Number.isFinite(n) || n < 0) return 'not a number >= 0';
      return key === 'LOOKALIKE_VALUE' || Number.isInteger(n) ? null : 'not an integer';
    }
    case CellKind.Options:
      return Array.isArray(cell) && cell.every((o) => o === 'LDU') ? null : 'options must be [] or ["LDU"]';
  }
}

/** The stored form of a valid, non-empty cell of a key that is not hashed: its JSON text. */
function canonicalCell(kind: CellKind, cell: unknown): string {
  switch (kind) {
    case CellKind.Number:
      // String() and JSON.stringify() agree on finite numbers; a number needs no Number() round trip.
      return typeof cell === 'number' ? String(cell) : JSON.stringify(Number(cell));
    case CellKind.Options:
      return (cell as unknown[]).length === 0 ? '[]' : JSON.stringify(cell);
    default:
      return JSON.stringify(cell);
  }
}

export function checkSchema(schema: unknown): UploadSchema {
  if (typeof schema === 'string') {
    const kind = SINGLE_KEYS[schema];
    if (!kind)
      throw graphErrors.invalidParameter(`payload.schema: unknown single-key schema ${JSON.stringify(schema)}`);
    return { keys: [schema], kinds: [kind], subtype: DataSourceSubtype.HashesOrUserIds };
  }
  if (!Array.isArray(schema) || schema.length === 0) {
    throw graphErrors.invalidParameter('payload.schema must be a key or a non-empty list of keys');
  }
  const kinds = schema.map((key: unknown) => {
    const kind = typeof key === 'string' ? MULTI_KEYS[key] : undefined;
    if (!kind) throw graphErrors.invalidParameter(`payload.schema: unknown key ${JSON.stringify(key)}`);
    return kind;
  });
  if (new Set(schema).size !== schema.length) throw graphErrors.invalidParameter('payload.schema lists a key twice');
  const identifying = (schema as string[]).some((k) => isIdentifying(k));
  if (!identifying) throw graphErrors.invalidParameter('payload.schema has no identifying key');
  return { keys: schema as string[], kinds, subtype: DataSourceSubtype.MultiHashes };
}

function isIdentifying(key: string): boolean {
  return key !== 'LOOKALIKE_VALUE' && !key.startsWith('DATA_PROCESSING_OPTIONS');
}

/**
 * Checks a `payload` object the way Meta does: shape errors refuse the whole request (100); bad cells make
 * their row an invalid entry (counted, never stored), as does a row with no identifying value.
 */
export function checkPayload(payload: unknown, maxRows: number): CheckedPayload {
  if (payload === undefined || payload === null)
    throw graphErrors.invalidParameter('The parameter payload is required');
  if (typeof payload !== 'object' || Array.isArray(payload)) {
    throw graphErrors.invalidParameter('Param payload must be a JSON object');
  }
  const p = payload as Record<string, unknown>;
  for (const field of Object.keys(p)) {
    if (!PAYLOAD_FIELDS.has(field)) throw graphErrors.invalidParameter(`payload has an unknown field ${field}`);
  }
  if (p.is_raw !== undefined && typeof p.is_raw !== 'boolean') {
    throw graphErrors.invalidParameter('payload.is_raw must be a boolean');
  }
  const schema = checkSchema(p.schema);
  const data = p.data;
  if (data instanceof ScannedRows) {
    if (data.count > maxRows) throw tooManyRows(data.count, maxRows);
    const { rows, invalid } = checkScannedRows(data, schema);
    return { schema, rows, received: data.count, invalid };
  }
  if (!Array.isArray(data) || data.length === 0) throw graphErrors.invalidParameter('payload.data must not be empty');
  if (data.length > maxRows) throw tooManyRows(data.length, maxRows);
  const { rows, invalid } = checkParsedRows(data, schema);
  return { schema, rows, received: data.length, invalid };
}

const tooManyRows = (n: number, maxRows: number) =>
  graphErrors.invalidParameter(`payload.data has ${n} rows; at most ${maxRows} per request`);

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
function checkParsedRows(data: unknown[], schema: UploadSchema): { rows: CheckedRows; invalid: number } {
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
function checkScannedRows(data: ScannedRows, schema: UploadSchema): { rows: CheckedRows; invalid: number } {
  const { keys, kinds } = schema;
  const width = keys.length;
  const identifying = keys.map(isIdentifying);
  const { rowStart, tokens } = data;
  // The digests of valid rows are moved down over the scan's own (never past one not yet read).
  const digests = data.takeDigests();
  const found = digests;
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
        if (token !== CellToken.Hex || isEmptyDigest(found, hex * SHA256_WORDS)) {
          ok = false;
          break;
        }
        for (let w = 0; w < SHA256_WORDS; w++) digests[at + w] = found[hex * SHA256_WORDS + w]!;
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
