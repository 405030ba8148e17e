import { BoundedCache } from './bounded-cache.js';
import { hasConsent } from './consent.js';
import { parseDateOfBirth } from './date-of-birth.js';
import { FacebookKey, isHashedKey } from './facebook-keys.js';
import { initialOf, normalizeInRegion, normalizeName } from './identifiers.js';
import { normalizeCountry } from './location.js';
import type { AttributeMapping, KeyIdentifier } from './mapping.js';
import { needsCountry, normalizePhone } from './phone.js';
import { sha256Hex } from './sha256.js';
import { scalarText } from './text.js';
import { hashCell } from './normalize.js';
import { looksLikeContact } from './plaintext-shape.js';

/** Column positions in the canonical schema (see canonical-row.ts, which asserts the same order). */
const COLUMN: Readonly<Record<FacebookKey, number>> = {
  EXTERN_ID: 0, EMAIL: 1, PHONE: 2, DOBY: 3, DOBM: 4, DOBD: 5, LN: 6, FN: 7, FI: 8, GEN: 9, CT: 10, ST: 11,
  ZIP: 12, COUNTRY: 13, MADID: 14,
}; // prettier-ignore
export const IDENTIFIER_COLUMNS = 15;
export const ROW_WIDTH = IDENTIFIER_COLUMNS + 3;
if (ROW_WIDTH !== 18) throw new Error('the blank row literal in createRowEncoder has 18 cells');

export const DropReason = {
  KEY_IDENTIFIER_MISSING: 'key_identifier_missing',
  KEY_IDENTIFIER_INVALID: 'key_identifier_invalid',
  NO_CONSENT: 'no_consent',
  NO_USABLE_CELL: 'no_usable_cell',
  /** The key identifier is a phone written without `+`/`00`, and neither the row nor the config gives a country. */
  PHONE_COUNTRY_UNKNOWN: 'phone_country_unknown',
  /** An EXTERN_ID or MADID (sent in clear) is shaped like an e-mail address or a phone number. */
  PLAINTEXT_LOOKS_PERSONAL: 'plaintext_looks_personal',
  /** The person was erased on request (the suppression list, domain/suppression.ts); not decided by the encoder. */
  ERASED: 'erased',
} as const;
export type DropReason = (typeof DropReason)[keyof typeof DropReason];

/** One cell of Meta's multi-key payload: a hash or plain value, a number, or a list (data processing options). */
export type Cell = string | number | readonly string[];

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

/** A row's cells, or why the profile is dropped (a string: no wrapper object per row). */
export type EncodedRow = Cell[] | DropReason;

interface Slot {
  readonly key: FacebookKey;
  readonly column: number;
  readonly attribute: string;
  readonly prehashed: boolean;
  readonly hashed: boolean;
  /** The rule reads the row's region, so the memo key carries it. */
  readonly regional: boolean;
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
  GEN: 256, DOBY: 1024, DOBM: 1024, DOBD: 1024, ST: 4096, FI: 2048, FN: 20_000, LN: 20_000, CT: 20_000,
  ZIP: 20_000,
}; // prettier-ignore
const CELL_CACHES = new Map<FacebookKey, BoundedCache<string>>(
  Object.entries(CACHE_LIMITS).map(([key, limit]) => [key as FacebookKey, new BoundedCache<string>(limit)]),
);
/** Normalised value → hash, for cells derived from another attribute (DOB parts, FI from FN). */
const DERIVED_HASHES = new Map<FacebookKey, BoundedCache<string>>(
  (['DOBY', 'DOBM', 'DOBD', 'FI'] as const).map((key) => [key, new BoundedCache<string>(2048)]),
);
/** Raw first name → FN and FI cells, when FI is derived from FN: one lookup, and the name normalised once. */
const FIRST_NAME_CACHE = new BoundedCache<FirstNameCells>(20_000);
/** Raw country → its code and its COUNTRY cell: the row's region and its cell in one lookup. */
const COUNTRY_CACHE = new BoundedCache<CountryCells>(4096);
/** Longer values are not memoised: they are rare and would make the caches heavy. */
const MAX_CACHED_KEY_LENGTH = 64;

interface FirstNameCells {
  readonly cell: string;
  /** `''` when the name is blank, as FI is then left blank. */
  readonly initial: string;
}
const BLANK_NAME: FirstNameCells = { cell: '', initial: '' };

interface CountryCells {
  /** Lowercase alpha-2, or `''` when the value names no country. */
  readonly code: string;
  readonly cell: string;
}

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
  const consentAttribute = options.consentAttribute;
  // A mapped, unhashed COUNTRY gives both the row's region and its own cell (see countryOf).
  const countryAttribute = mapping.COUNTRY?.prehashed === true ? undefined : mapping.COUNTRY?.attribute;
  const dob = mapping.DOB === undefined || mapping.DOB.prehashed === true ? undefined : mapping.DOB.attribute;
  // Meta's FI is the first name's initial: derive it when FI is not mapped itself.
  const initialSource = mapping.FI === undefined && mapping.FN?.prehashed !== true ? mapping.FN?.attribute : undefined;
  const slots: Slot[] = [];
  for (const key of Object.keys(COLUMN) as FacebookKey[]) {
    const mapped = mapping[key];
    // COUNTRY and a first name that gives FI are read apart from the slots (countryOf, firstNameOf).
    const apart = key === FacebookKey.COUNTRY ? countryAttribute : key === FacebookKey.FN ? initialSource : undefined;
    if (mapped === undefined || apart !== undefined) continue;
    const prehashed = mapped.prehashed === true && isHashedKey(key);
    slots.push({
      key,
      column: COLUMN[key],
      attribute: mapped.attribute,
      prehashed,
      hashed: isHashedKey(key),
      regional: REGION_KEYS.has(key),
      cache: useCache && !prehashed ? CELL_CACHES.get(key) : undefined,
    });
  }
  const limitedDataUse = options.limitedDataUse === true;
  const isIdentified = identifierCheck(options.keyIdentifier, mapping);

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

  const countryCells = (raw: unknown): CountryCells => {
    const code = normalizeCountry(scalarText(raw));
    return { code, cell: code === '' ? '' : hash(code) };
  };
  const countryOf = (raw: unknown): CountryCells => {
    if (typeof raw !== 'string' || raw.length > MAX_CACHED_KEY_LENGTH || !useCache) return countryCells(raw);
    let country = COUNTRY_CACHE.get(raw);
    if (country === undefined) {
      country = countryCells(raw);
      COUNTRY_CACHE.set(raw, country);
    }
    return country;
  };

  const cellFor = (slot: Slot, raw: unknown, region: string | undefined): string => {
    if (slot.prehashed) return hashCell(slot.key, scalarText(raw), { prehashed: true });
    const cache = slot.cache;
    const cacheKey = cache === undefined ? undefined : cacheKeyOf(slot, raw, region);
    if (cacheKey !== undefined) {
      const cached = cache?.get(cacheKey);
      if (cached !== undefined) return cached;
    }
    const normalized =
      slot.key === FacebookKey.PHONE ? phone(scalarText(raw), region) : normalizeInRegion(slot.key, raw, region);
    const cell = normalized === '' || !slot.hashed ? normalized : hash(normalized);
    if (cacheKey !== undefined) cache?.set(cacheKey, cell);
    return cell;
  };

  const firstNameCells = (raw: unknown): FirstNameCells => {
    const normalized = normalizeName(scalarText(raw));
    if (normalized === '') return BLANK_NAME;
    return { cell: hash(normalized), initial: derivedCell(FacebookKey.FI, initialOf(normalized)) };
  };
  const firstNameOf = (raw: unknown): FirstNameCells => {
    const cacheKey = useCache ? cacheKeyOf(FIRST_NAME_SLOT, raw, undefined) : undefined;
    if (cacheKey === undefined) return firstNameCells(raw);
    let name = FIRST_NAME_CACHE.get(cacheKey);
    if (name === undefined) {
      name = firstNameCells(raw);
      FIRST_NAME_CACHE.set(cacheKey, name);
    }
    return name;
  };

  return (attributes) => {
    if (consentAttribute !== undefined && !hasConsent(attributes[consentAttribute])) return DropReason.NO_CONSENT;
    let region: string | undefined = defaultRegion;
    // A literal (ROW_WIDTH blanks): a packed array, cheaper to make, clone and stringify than a filled `new Array`.
    const cells: Cell[] = ['', '', '', '', '', '', '', '', '', '', '', '', '', '', '', '', '', ''];
    if (countryAttribute !== undefined) {
      const country = countryOf(attributes[countryAttribute]);
      if (country.code !== '') region = country.code;
      cells[COLUMN.COUNTRY] = country.cell;
    }
    if (region === '') region = undefined;
    for (const slot of slots) {
      const cell = cellFor(slot, attributes[slot.attribute], region);
      // Cells sent in clear must not carry contact details: the profile is left out rather than leak them.
      if (!slot.hashed && cell !== '' && looksLikeContact(cell)) return DropReason.PLAINTEXT_LOOKS_PERSONAL;
      cells[slot.column] = cell;
    }
    if (dob !== undefined) {
      const parts = parseDateOfBirth(attributes[dob], region);
      cells[COLUMN.DOBY] = derivedCell(FacebookKey.DOBY, parts.DOBY);
      cells[COLUMN.DOBM] = derivedCell(FacebookKey.DOBM, parts.DOBM);
      cells[COLUMN.DOBD] = derivedCell(FacebookKey.DOBD, parts.DOBD);
    }
    if (initialSource !== undefined) {
      const name = firstNameOf(attributes[initialSource]);
      cells[COLUMN.FN] = name.cell;
      cells[COLUMN.FI] = name.initial;
    }
    const verdict = isIdentified(cells, attributes, region);
    if (verdict !== undefined) return verdict;
    if (!hasUsableCell(cells)) return DropReason.NO_USABLE_CELL;
    // With LDU, country and state 0/0 ask Meta to geolocate the person (Meta's LDU docs).
    cells[IDENTIFIER_COLUMNS] = limitedDataUse ? ['LDU'] : [];
    cells[IDENTIFIER_COLUMNS + 1] = 0;
    cells[IDENTIFIER_COLUMNS + 2] = 0;
    return cells;
  };
}

/** The first-name memo is keyed as FN's slot memo is: by the raw value alone. */
const FIRST_NAME_SLOT: Pick<Slot, 'key' | 'regional'> = { key: FacebookKey.FN, regional: false };

/**
 * The memo key of a raw value, or undefined when it is not memoised. A number shares its key with its text, so
 * only safe integers are memoised (every rule reads them as it reads the same digits in a string; `1e21` reads as
 * `''`, the text `'1e+21'` does not), and none for ZIP, whose rule restores the leading zeros a number lost.
 */
function cacheKeyOf(
  slot: Pick<Slot, 'key' | 'regional'>,
  raw: unknown,
  region: string | undefined,
): string | undefined {
  let text: string;
  if (typeof raw === 'string') text = raw;
  else if (typeof raw === 'number' && Number.isSafeInteger(raw) && slot.key !== FacebookKey.ZIP) text = String(raw);
  else return undefined;
  if (text.length > MAX_CACHED_KEY_LENGTH) return undefined;
  return slot.regional ? `${region ?? ''}\u0000${text}` : text;
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
  region: string | undefined,
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
    case 'PHONE': {
      const phone = single(FacebookKey.PHONE);
      const attribute = mapping.PHONE?.prehashed === true ? undefined : mapping.PHONE?.attribute;
      return (cells, attributes, region) => {
        const verdict = phone(cells, attributes, region);
        if (verdict !== DropReason.KEY_IDENTIFIER_INVALID || attribute === undefined) return verdict;
        return needsCountry(scalarText(attributes[attribute]), region) ? DropReason.PHONE_COUNTRY_UNKNOWN : verdict;
      };
    }
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
