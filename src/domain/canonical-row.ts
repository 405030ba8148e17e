import { FACEBOOK_KEYS } from './facebook-keys.js';
import { resolveRegion } from './identifiers.js';
import type { AttributeMapping } from './mapping.js';
import {
  createRowEncoder,
  DropReason,
  IDENTIFIER_COLUMNS,
  type Cell,
  type EncoderTuning,
  type RowOptions,
} from './row-encoder.js';
import { needsCountry } from './phone.js';
import { scalarText } from './text.js';

export { DropReason, type Cell, type EncoderTuning, type RowOptions } from './row-encoder.js';

/**
 * The one schema every upload to every audience uses: all supported keys, then Meta's data-processing-options
 * columns. Meta fixes an audience's schema at its first upload (error 2650 after), so cells a mapping lacks are
 * sent blank instead of changing the column set.
 */
export const CANONICAL_SCHEMA = [
  ...FACEBOOK_KEYS,
  'DATA_PROCESSING_OPTIONS',
  'DATA_PROCESSING_OPTIONS_COUNTRY',
  'DATA_PROCESSING_OPTIONS_STATE',
] as const;
export type CanonicalColumn = (typeof CANONICAL_SCHEMA)[number];

if (FACEBOOK_KEYS.length !== IDENTIFIER_COLUMNS) throw new Error('canonical schema and row encoder disagree');

export interface ProfileInput {
  readonly key: string;
  readonly attributes: Readonly<Record<string, unknown>>;
}

export interface CanonicalRow {
  readonly profileKey: string;
  /** One cell per `CANONICAL_SCHEMA` column, in order. */
  readonly cells: Cell[];
}

export interface DroppedProfile {
  readonly profileKey: string;
  readonly reason: DropReason;
}

export interface BuiltRows {
  readonly schema: CanonicalColumn[];
  readonly rows: CanonicalRow[];
  readonly dropped: DroppedProfile[];
  readonly droppedByReason: Record<DropReason, number>;
}

/**
 * Normalises, hashes and lays out profiles in the canonical schema. A profile without a usable key identifier,
 * without consent (when a consent attribute is configured) or without any usable cell is dropped with its
 * reason; no profile value makes this throw.
 */
export function buildRows(
  profiles: ReadonlyArray<ProfileInput>,
  mapping: AttributeMapping,
  options: RowOptions,
  tuning?: EncoderTuning,
): BuiltRows {
  const encode = createRowEncoder(mapping, options, tuning);
  const rows: CanonicalRow[] = [];
  const dropped: DroppedProfile[] = [];
  const droppedByReason = emptyDropCounts();
  for (const profile of profiles) {
    const encoded = encode(profile.attributes);
    if (typeof encoded === 'string') {
      dropped.push({ profileKey: profile.key, reason: encoded });
      droppedByReason[encoded] += 1;
    } else {
      rows.push({ profileKey: profile.key, cells: encoded });
    }
  }
  return { schema: [...CANONICAL_SCHEMA], rows, dropped, droppedByReason };
}

/**
 * How many profiles have a phone that is left out only for want of a country (see `needsCountry`): dropped when
 * PHONE is the key identifier, sent without it otherwise. The row's region is found as the encoder finds it.
 */
export function countPhonesWithoutCountry(
  profiles: ReadonlyArray<ProfileInput>,
  mapping: AttributeMapping,
  options: Pick<RowOptions, 'defaultCountry'>,
): number {
  const phone = mapping.PHONE?.prehashed === true ? undefined : mapping.PHONE?.attribute;
  if (phone === undefined) return 0;
  const country = mapping.COUNTRY?.prehashed === true ? undefined : mapping.COUNTRY?.attribute;
  let count = 0;
  for (const { attributes } of profiles) {
    const region = resolveRegion(country === undefined ? undefined : attributes[country], options.defaultCountry);
    if (needsCountry(scalarText(attributes[phone]), region)) count += 1;
  }
  return count;
}

export function emptyDropCounts(): Record<DropReason, number> {
  return Object.fromEntries(Object.values(DropReason).map((reason) => [reason, 0])) as Record<DropReason, number>;
}
