import { BoundedCache } from './bounded-cache.js';
import { hasConsent } from './consent.js';
import { parseDateOfBirth } from './date-of-birth.js';
import { FacebookKey, isHashedKey } from './facebook-keys.js';
import { initialOf, normalizeInRegion, normalizeName } from './identifiers.js';
import { normalizeCountry } from './location.js';
import type { AttributeMapping, KeyIdentifier } from './mapping.js';
import { normalizePhone } from './phone.js';
import { sha256Hex } from './sha256.js';
import { scalarText } from './text.js';
import { hashCell } from './normalize.js';

/** Column positions in the canonical schema (see canonical-row.ts, which asserts the same order). */
const COLUMN: Readonly<Record<FacebookKey, number>> = {
  EXTERN_ID: 0, EMAIL: 1, PHONE: 2, DOBY: 3, DOBM: 4, DOBD: 5, LN: 6, FN: 7, FI: 8, GEN: 9, CT: 10, ST: 11,
  ZIP: 12, COUNTRY: 13, MADID: 14,
}; // prettier-ignore
export const IDENTIFIER_COLUMNS = 15;
export const ROW_WIDTH = IDENTIFIER_COLUMNS + 3;

export const DropReason = {
  KEY_IDENTIFIER_MISSING: 'key_identifier_missing',
  KEY_IDENTIFIER_INVALID: 'key_identifier_invalid',
  NO_CONSENT: 'no_consent',
  NO_USABLE_CELL: 'no_usable_cell',
} as const;
export type DropReason = (typeof DropReason)[keyof typeof DropReason];

export type Cell = string | number | string[];

export interface RowOptions {
  keyIdentifier: KeyIdentifier;
  /** Country (name or code) assumed for rows without their own: phone, state, ZIP and date rules. */
  defaultCountry?: string;
  /** Profile attribute recording per-profile consent; when set, profiles without a yes are dropped. */
  consentAttribute?: string;
  /** Flag every row for Meta's Limited Data Use (US state privacy laws). @default false */
  limitedDataUse?: boolean;
}

/**
 * Switches for the fast paths, so the benchmark can measure each and a test can prove them equal to the plain
 * paths. Replacements must give byte-identical results: the caches are shared.
 */
export interface EncoderTuning {
  /** Memoise cells of low-cardinality keys. @default true */
  cache?: boolean;
  /** @default sha256Hex (one-shot `crypto.hash`) */
  hash?: (text: string) => string;
  /** @default normalizePhone (with the North American fast path) */
  phone?: (text: string, region: string | undefined) => string;
}

export type EncodedRow = { readonly cells: Cell[] } | { readonly dropReason: DropReason };

interface Slot {
  readonly key: FacebookKey;
  readonly attribute: string;
  readonly prehashed: boolean;
  /** Memo from the raw value (and the region when the rule depends on it) to the cell. */
  readonly cache: BoundedCache<string> | undefined;
}

/** Keys whose normalisation reads the row's region. */
const REGION_KEYS: ReadonlySet<FacebookKey> = new Set(['PHONE', 'ST', 'ZIP', 'DOBY', 'DOBM', 'DOBD'] as const);

/**
 * Bounds per key: low-cardinality keys fit whole; first names and cities keep their most frequent values in
 * practice. Shared by every encoder in the process, so consecutive pages of a run keep their hits.
 */
const CACHE_LIMITS: Partial<Record<FacebookKey, number>> = {
  GEN: 256, DOBY: 1024, DOBM: 1024, DOBD: 1024, COUNTRY: 2048, ST: 4096, FI: 2048, FN: 20_000, CT: 20_000,
}; // prettier-ignore
const CELL_CACHES = new Map<FacebookKey, BoundedCache<string>>(
  Object.entries(CACHE_LIMITS).map(([key, limit]) => [key as FacebookKey, new BoundedCache<string>(limit)]),
);
/** Normalised value → hash, for cells derived from another attribute (DOB parts, FI from FN). */
const DERIVED_HASHES = new Map<FacebookKey, BoundedCache<string>>(
  (['DOBY', 'DOBM', 'DOBD', 'FI'] as const).map((key) => [key, new BoundedCache<string>(2048)]),
);
const REGION_CACHE = new BoundedCache<string>(4096);
/** Longer values are not memoised: they are rare and would make the caches heavy. */
const MAX_CACHED_KEY_LENGTH = 64;

/**
 * Compiles a mapping into a function from a profile's attributes to its canonical row, or to the reason it is
 * dropped. Never throws on profile data.
 */
export function createRowEncoder(
  mapping: AttributeMapping,
  options: RowOptions,
  tuning: EncoderTuning = {},
): (attributes: Readonly<Record<string, unknown>>) => EncodedRow {
  const useCache = tuning.cache ?? true;
  const hash = tuning.hash ?? sha256Hex;
  const phone = tuning.phone ?? normalizePhone;
  const defaultRegion = options.defaultCountry === undefined ? '' : normalizeCountry(options.defaultCountry);
  const countryAttribute = mapping.COUNTRY?.prehashed === true ? undefined : mapping.COUNTRY?.attribute;
  const dob = mapping.DOB === undefined || mapping.DOB.prehashed === true ? undefined : mapping.DOB.attribute;
  // Meta's FI is the first name's initial: derive it when FI is not mapped itself.
  const initialSource = mapping.FI === undefined && mapping.FN?.prehashed !== true ? mapping.FN?.attribute : undefined;
  const slots: Slot[] = [];
  for (const key of Object.keys(COLUMN) as FacebookKey[]) {
    const mapped = mapping[key];
    if (mapped === undefined) continue;
    const prehashed = mapped.prehashed === true && isHashedKey(key);
    slots.push({
      key,
      attribute: mapped.attribute,
      prehashed,
      cache: useCache && !prehashed ? CELL_CACHES.get(key) : undefined,
    });
  }
  const limitedDataUse = options.limitedDataUse === true;
  const isIdentified = identifierCheck(options.keyIdentifier, mapping);

  const hashNormalized = (key: FacebookKey, normalized: string): string =>
    normalized === '' || !isHashedKey(key) ? normalized : hash(normalized);

  const derivedCell = (key: FacebookKey, normalized: string): string => {
    if (normalized === '') return '';
    const cache = useCache ? DERIVED_HASHES.get(key) : undefined;
    let cell = cache?.get(normalized);
    if (cell === undefined) {
      cell = hash(normalized);
      cache?.set(normalized, cell);
    }
    return cell;
  };

  const regionOf = (raw: unknown): string => {
    if (typeof raw !== 'string' || raw.length > MAX_CACHED_KEY_LENGTH || !useCache) {
      return normalizeCountry(scalarText(raw)) || defaultRegion;
    }
    let own = REGION_CACHE.get(raw);
    if (own === undefined) {
      own = normalizeCountry(raw);
      REGION_CACHE.set(raw, own);
    }
    return own || defaultRegion;
  };

  const cellFor = (slot: Slot, raw: unknown, region: string | undefined): string => {
    if (slot.prehashed) return hashCell(slot.key, scalarText(raw), { prehashed: true });
    const cacheKey =
      slot.cache !== undefined && (typeof raw === 'string' || typeof raw === 'number')
        ? cacheKeyOf(slot.key, raw, region)
        : undefined;
    if (cacheKey !== undefined) {
      const cached = slot.cache?.get(cacheKey);
      if (cached !== undefined) return cached;
    }
    const normalized =
      slot.key === FacebookKey.PHONE ? phone(scalarText(raw), region) : normalizeInRegion(slot.key, raw, region);
    const cell = hashNormalized(slot.key, normalized);
    if (cacheKey !== undefined) slot.cache?.set(cacheKey, cell);
    return cell;
  };

  return (attributes) => {
    if (options.consentAttribute !== undefined && !hasConsent(attributes[options.consentAttribute])) {
      return { dropReason: DropReason.NO_CONSENT };
    }
    const region =
      (countryAttribute === undefined ? defaultRegion : regionOf(attributes[countryAttribute])) || undefined;
    const cells: Cell[] = new Array<Cell>(ROW_WIDTH).fill('', 0, IDENTIFIER_COLUMNS);
    for (const slot of slots) {
      cells[COLUMN[slot.key]] = cellFor(slot, attributes[slot.attribute], region);
    }
    if (dob !== undefined) {
      const parts = parseDateOfBirth(attributes[dob], region);
      cells[COLUMN.DOBY] = derivedCell(FacebookKey.DOBY, parts.DOBY);
      cells[COLUMN.DOBM] = derivedCell(FacebookKey.DOBM, parts.DOBM);
      cells[COLUMN.DOBD] = derivedCell(FacebookKey.DOBD, parts.DOBD);
    }
    if (initialSource !== undefined && cells[COLUMN.FN] !== '') {
      const initial = initialOf(normalizeName(scalarText(attributes[initialSource])));
      cells[COLUMN.FI] = derivedCell(FacebookKey.FI, initial);
    }
    const verdict = isIdentified(cells, attributes);
    if (verdict !== undefined) return { dropReason: verdict };
    if (!hasUsableCell(cells)) return { dropReason: DropReason.NO_USABLE_CELL };
    // With LDU, country and state 0/0 ask Meta to geolocate the person (Meta's LDU docs).
    cells[IDENTIFIER_COLUMNS] = limitedDataUse ? ['LDU'] : [];
    cells[IDENTIFIER_COLUMNS + 1] = 0;
    cells[IDENTIFIER_COLUMNS + 2] = 0;
    return { cells };
  };
}

function cacheKeyOf(key: FacebookKey, raw: string | number, region: string | undefined): string | undefined {
  const text = typeof raw === 'string' ? raw : String(raw);
  if (text.length > MAX_CACHED_KEY_LENGTH) return undefined;
  return REGION_KEYS.has(key) ? `${region ?? ''}\u0000${text}` : text;
}

function hasUsableCell(cells: readonly Cell[]): boolean {
  for (let column = 0; column < IDENTIFIER_COLUMNS; column++) if (cells[column] !== '') return true;
  return false;
}

function isMissing(value: unknown): boolean {
  return value === undefined || value === null || (typeof value === 'string' && value.trim() === '');
}

type IdentifierCheck = (
  cells: readonly Cell[],
  attributes: Readonly<Record<string, unknown>>,
) => DropReason | undefined;

/** Whether a row carries its key identifier: undefined when it does, else why not. */
function identifierCheck(keyIdentifier: KeyIdentifier, mapping: AttributeMapping): IdentifierCheck {
  const isMissingIn =
    (attributes: Readonly<Record<string, unknown>>) =>
    (key: FacebookKey): boolean => {
      const attribute = mapping[key]?.attribute;
      return attribute === undefined || isMissing(attributes[attribute]);
    };
  const single =
    (key: FacebookKey): IdentifierCheck =>
    (cells, attributes) => {
      if (cells[COLUMN[key]] !== '') return undefined;
      return isMissingIn(attributes)(key) ? DropReason.KEY_IDENTIFIER_MISSING : DropReason.KEY_IDENTIFIER_INVALID;
    };
  switch (keyIdentifier) {
    case 'EMAIL':
      return single(FacebookKey.EMAIL);
    case 'PHONE':
      return single(FacebookKey.PHONE);
    case 'NAME_ADDRESS':
      return (cells, attributes) => {
        const usable = (key: FacebookKey): boolean => cells[COLUMN[key]] !== '';
        const hasPlace = usable('ZIP') || (usable('CT') && usable('ST'));
        if (usable('FN') && usable('LN') && usable('COUNTRY') && hasPlace) return undefined;
        const missing = isMissingIn(attributes);
        const placeMissing = missing('ZIP') && (missing('CT') || missing('ST'));
        const anyMissing = missing('FN') || missing('LN') || missing('COUNTRY') || placeMissing;
        return anyMissing ? DropReason.KEY_IDENTIFIER_MISSING : DropReason.KEY_IDENTIFIER_INVALID;
      };
  }
}
