import { isSha256Hex } from '../sha256-hex.js';

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

/** Meta's data_source sub types: a multi-key audience never accepts single-key uploads and vice versa. */
export const DataSourceSubtype = {
  MultiHashes: 'MULTI_HASHES',
  HashesOrUserIds: 'HASHES_OR_USER_IDS',
} as const;
export type DataSourceSubtype = (typeof DataSourceSubtype)[keyof typeof DataSourceSubtype];

export interface UploadSchema {
  /** Keys as sent (a single-key schema is one key). */
  keys: readonly string[];
  kinds: readonly CellKind[];
  subtype: DataSourceSubtype;
}

/** SHA-256 of the empty string: Meta wants '' instead, so the sandbox counts it invalid. */
export const EMPTY_SHA256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';
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
export function canonicalCell(kind: CellKind, cell: unknown): string {
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

/** Keys that identify a person (a row needs one): all but LOOKALIKE_VALUE and the processing options. */
export function isIdentifying(key: string): boolean {
  return key !== 'LOOKALIKE_VALUE' && !key.startsWith('DATA_PROCESSING_OPTIONS');
}
