import { quoteIdent } from './sql-names.js';

/**
 * The layout of a run's staging table (design "One export", step 2): one row per frozen member with its dense row
 * number, profile key and fingerprint, then one column per mapped attribute, named as the attribute. The three
 * fixed columns carry a `#`, which no attribute name can (sql-names.ts), so any attribute (even `key`) fits beside
 * them.
 */
export const STAGING = { row: '"#row"', key: '"#key"', fingerprint: '"#fp"' } as const;
export const FIXED_STAGING_COLUMNS = 3;

/** A profile-table column as a staging column holds it. */
export interface StagedAttribute {
  readonly name: string;
  /**
   * `text`: text-like columns, kept as text (read back as the same string their jsonb would give). `jsonb`: every
   * other type, as its jsonb (read back as JSON.parse gives it), so numbers, booleans and dates reach the row
   * encoder exactly as they did when attributes were frozen as one jsonb object.
   */
  readonly kind: 'text' | 'jsonb';
}

/** Types kept as text: their jsonb is a string with the same characters (`char(n)` is not: its jsonb keeps padding). */
const TEXT_TYPES: ReadonlySet<string> = new Set(['text', 'varchar', 'citext', 'name']);

export const stagedKind = (typeName: string): StagedAttribute['kind'] => (TEXT_TYPES.has(typeName) ? 'text' : 'jsonb');

/** SQL: the staged value of `attribute` read from source row `alias`. */
export function stagedValueSql(alias: string, attribute: StagedAttribute): string {
  const column = `${alias}.${quoteIdent(attribute.name)}`;
  return attribute.kind === 'text' ? `${column}::text` : `to_jsonb(${column})`;
}

/**
 * SQL: the fingerprint (16 bytes) of staged values, in attribute order: what a mirror refresh compares with the
 * snapshot to find who changed. Two 64-bit record hashes with different seeds, about a fifth of the CPU of SHA-256
 * over a jsonb text; hashing is exact for text under "C" (no collation folds two strings together) and for jsonb.
 * Changing this changes every fingerprint: bump SNAPSHOT_FORMAT (domain/snapshot-basis.ts) with it.
 */
export function fingerprintSql(values: readonly { sql: string; kind: StagedAttribute['kind'] }[]): string {
  const row = `ROW(${values.map((v) => (v.kind === 'text' ? `(${v.sql}) COLLATE "C"` : v.sql)).join(', ')})`;
  return `int8send(hash_record_extended(${row}, 0)) || int8send(hash_record_extended(${row}, 1))`;
}

/**
 * SQL: attribute `name` of staging row `alias` as text (`->>` of the old jsonb object), for consent checks:
 * `to_jsonb(...) #>> '{}'` reads a text column as itself and a jsonb scalar as its text.
 */
export const stagedTextSql = (alias: string, name: string): string =>
  `(to_jsonb(${alias}.${quoteIdent(name)}) #>> '{}')`;
