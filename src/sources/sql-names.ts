import { randomBytes } from 'node:crypto';
import { InvalidRunIdError } from './errors.js';

/**
 * A plain SQL identifier: what PostgreSQL accepts unquoted, in either case, at most 63 bytes. Names are always
 * quoted when used, so they are exact and case-sensitive (`Profiles` is not `profiles`); the regex only keeps
 * quotes, dots, spaces, `..` and the like out of configuration altogether.
 */
export const IDENTIFIER_PATTERN = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/;

/** A table or view name, optionally schema-qualified: `profiles` or `crm.profiles`. */
export const QUALIFIED_NAME_PATTERN = /^[A-Za-z_][A-Za-z0-9_]{0,62}(\.[A-Za-z_][A-Za-z0-9_]{0,62})?$/;

export const isIdentifier = (name: string): boolean => IDENTIFIER_PATTERN.test(name);

/** Quotes an identifier that already passed {@link isIdentifier}; throws otherwise, so nothing unchecked reaches SQL. */
export function quoteIdent(name: string): string {
  if (!isIdentifier(name)) throw new TypeError('refusing to quote an unchecked SQL identifier');
  return `"${name}"`;
}

export interface QualifiedName {
  schema?: string;
  name: string;
}

export function parseQualifiedName(value: string): QualifiedName {
  if (!QUALIFIED_NAME_PATTERN.test(value)) throw new TypeError('refusing to parse an unchecked qualified name');
  const [first, second] = value.split('.') as [string, string | undefined];
  return second === undefined ? { name: first } : { schema: first, name: second };
}

export const quoteQualified = (q: QualifiedName): string =>
  q.schema === undefined ? quoteIdent(q.name) : `${quoteIdent(q.schema)}.${quoteIdent(q.name)}`;

const UUID_PATTERN = /^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$/i;
export const STAGING_PREFIX = 'staging_run_';
/**
 * A run's staging table, the upload plan's `_adds` / `_removes` tables derived from it, and `_members` (the keys of
 * the whole segment, when a refresh froze a separate source's segment: profile-source.ts).
 */
export const STAGING_TABLE_PATTERN = /^staging_run_([0-9a-f]{32})(?:_adds|_removes|_members)?$/;

/** The canonical (lower-case, dashed) form of a run id; throws {@link InvalidRunIdError} unless it is a UUID. */
export function canonicalRunId(runId: string): string {
  if (!UUID_PATTERN.test(runId)) throw new InvalidRunIdError();
  const hex = runId.replaceAll('-', '').toLowerCase();
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** `staging_run_<32 hex digits>`: derived from a validated UUID, so it is always a safe identifier. */
export const stagingTableName = (runId: string): string =>
  `${STAGING_PREFIX}${canonicalRunId(runId).replaceAll('-', '')}`;

/** The run id a staging table belongs to, or undefined when the name is not one of ours. */
export function runIdOfStagingTable(table: string): string | undefined {
  const hex = STAGING_TABLE_PATTERN.exec(table)?.[1];
  return hex === undefined ? undefined : canonicalRunId(hex);
}

/**
 * A time-ordered (version 7) UUID for staging tables that have no export run record, such as a preview's: the
 * daily sweep can tell a young one (in use) from an abandoned one by the time in its first 48 bits.
 */
export function timeOrderedRunId(now = Date.now()): string {
  const bytes = randomBytes(16);
  bytes.writeUIntBE(now, 0, 6);
  bytes[6] = (bytes[6]! & 0x0f) | 0x70; // version 7
  bytes[8] = (bytes[8]! & 0x3f) | 0x80; // RFC 9562 variant
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** The creation time (ms) of a version 7 run id; undefined for any other kind of UUID. */
export function timeOfRunId(runId: string): number | undefined {
  const hex = runId.replaceAll('-', '');
  if (hex.length !== 32 || hex[12] !== '7') return undefined;
  return parseInt(hex.slice(0, 12), 16);
}
