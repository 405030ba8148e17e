import { parseDateOfBirth, type DateOfBirth } from './date-of-birth.js';
import { isHashedKey, type FacebookKey } from './facebook-keys.js';
import { normalizeInRegion, resolveRegion } from './identifiers.js';
import { sha256Hex } from './sha256.js';

export type { FacebookKey } from './facebook-keys.js';
export type { DateOfBirth } from './date-of-birth.js';

export interface NormalizeContext {
  /** The row's country as the profile holds it (a name or a code): decides phone, state, ZIP and date rules. */
  country?: string;
  /** The configured default country, used when the row has none. */
  defaultCountry?: string;
}

export interface HashOptions {
  /** The source column already holds SHA-256 hex (declared in the mapping, never guessed). */
  prehashed?: boolean;
}

/**
 * Normalises one identifier to Meta's rules. Never throws: any value that is missing or unusable (null,
 * objects, NaN, malformed text) gives `''`, which is sent as an empty cell.
 */
export function normalize(key: FacebookKey, value: unknown, context?: NormalizeContext): string {
  return normalizeInRegion(key, value, resolveRegion(context?.country, context?.defaultCountry));
}

const SHA256_HEX = /^[0-9a-f]{64}$/;

/**
 * The cell Meta receives for a normalised value: lowercase hex SHA-256 for hashed keys, the value itself for
 * MADID and EXTERN_ID. `''` stays `''`: Meta must never receive `sha256('')`. A value declared pre-hashed passes
 * through lowercased when it is 64 hex characters and is unusable (`''`) otherwise, so a hash is never hashed again.
 */
export function hashCell(key: FacebookKey, normalized: string, options?: HashOptions): string {
  if (normalized === '' || !isHashedKey(key)) return normalized;
  if (options?.prehashed === true) {
    const hex = normalized.trim().toLowerCase();
    return SHA256_HEX.test(hex) ? hex : '';
  }
  return sha256Hex(normalized);
}

/**
 * The `DOB` pseudo-key: one profile attribute holding a full date of birth gives DOBY, DOBM and DOBD together
 * (see `parseDateOfBirth` for the forms read and how day/month order is decided).
 */
export function normalizeDateOfBirth(value: unknown, context?: NormalizeContext): DateOfBirth {
  return parseDateOfBirth(value, resolveRegion(context?.country, context?.defaultCountry));
}
