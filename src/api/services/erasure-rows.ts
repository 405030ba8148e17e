import { CANONICAL_SCHEMA, type Cell } from '../../domain/canonical-row.js';
import { hashCell, normalize } from '../../domain/normalize.js';
import {
  nameZipEntry,
  plaintextEntry,
  profileKeyEntry,
  SuppressionKind,
  type SuppressionEntry,
} from '../../domain/suppression.js';

/**
 * One way an erasure request names the person, as our rows carry it: a hashed cell (EMAIL, PHONE), a cell sent in
 * clear (EXTERN_ID, MADID), or first name, last name and ZIP together (hashed cells, and COUNTRY's when given).
 */
export type ErasureIdentifier =
  | { readonly kind: 'EMAIL' | 'PHONE'; readonly hash: string }
  | { readonly kind: 'EXTERN_ID' | 'MADID'; readonly value: string }
  | {
      readonly kind: 'NAME_ZIP';
      readonly fn: string;
      readonly ln: string;
      readonly zip: string;
      readonly country: string;
    };

export interface ErasureInput {
  email?: string | undefined;
  phone?: string | undefined;
  externId?: string | undefined;
  madid?: string | undefined;
  firstName?: string | undefined;
  lastName?: string | undefined;
  zip?: string | undefined;
  /** Country (name or code) of the phone and the ZIP. */
  country?: string | undefined;
}

/** The request's fields by the identifier kind they give. */
export type ErasureField = 'email' | 'phone' | 'externId' | 'madid' | 'firstName' | 'lastName' | 'zip';

/**
 * The identifiers a request gives, normalised as the export normalises them, and the fields that normalise to
 * nothing (so the caller can name them). A phone or ZIP without its own country is read in each of
 * `defaultCountries` (the default countries of the destinations searched), as any of those exports may have read it.
 */
export function erasureIdentifiers(
  input: ErasureInput,
  defaultCountries: readonly (string | undefined)[],
): { identifiers: ErasureIdentifier[]; unusable: ErasureField[] } {
  const identifiers: ErasureIdentifier[] = [];
  const unusable: ErasureField[] = [];
  const regions = input.country
    ? [input.country]
    : [...new Set(defaultCountries.length ? defaultCountries : [undefined])];
  const contexts = regions.map((defaultCountry) => ({ ...(defaultCountry ? { defaultCountry } : {}) }));
  const hashesIn = (key: 'PHONE' | 'ZIP', raw: string): string[] => [
    ...new Set(contexts.map((c) => hashCell(key, normalize(key, raw, c))).filter((h) => h !== '')),
  ];
  if (input.email !== undefined) {
    const hash = hashCell('EMAIL', normalize('EMAIL', input.email));
    if (hash === '') unusable.push('email');
    else identifiers.push({ kind: 'EMAIL', hash });
  }
  if (input.phone !== undefined) {
    const hashes = hashesIn('PHONE', input.phone);
    if (hashes.length === 0) unusable.push('phone');
    for (const hash of hashes) identifiers.push({ kind: 'PHONE', hash });
  }
  for (const [field, kind] of [
    ['externId', 'EXTERN_ID'],
    ['madid', 'MADID'],
  ] as const) {
    const raw = input[field];
    if (raw === undefined) continue;
    const value = normalize(kind, raw);
    if (value === '') unusable.push(field);
    else identifiers.push({ kind, value });
  }
  if (input.firstName !== undefined || input.lastName !== undefined || input.zip !== undefined) {
    const fn = hashCell('FN', normalize('FN', input.firstName ?? ''));
    const ln = hashCell('LN', normalize('LN', input.lastName ?? ''));
    const zips = hashesIn('ZIP', input.zip ?? '');
    if (fn === '') unusable.push('firstName');
    if (ln === '') unusable.push('lastName');
    if (zips.length === 0) unusable.push('zip');
    const country = input.country ? hashCell('COUNTRY', normalize('COUNTRY', input.country)) : '';
    if (fn !== '' && ln !== '') for (const zip of zips) identifiers.push({ kind: 'NAME_ZIP', fn, ln, zip, country });
  }
  return { identifiers, unusable };
}

const COLUMN = {
  EXTERN_ID: CANONICAL_SCHEMA.indexOf('EXTERN_ID'),
  EMAIL: CANONICAL_SCHEMA.indexOf('EMAIL'),
  PHONE: CANONICAL_SCHEMA.indexOf('PHONE'),
  FN: CANONICAL_SCHEMA.indexOf('FN'),
  LN: CANONICAL_SCHEMA.indexOf('LN'),
  ZIP: CANONICAL_SCHEMA.indexOf('ZIP'),
  COUNTRY: CANONICAL_SCHEMA.indexOf('COUNTRY'),
  MADID: CANONICAL_SCHEMA.indexOf('MADID'),
} as const;

/** Bytes (hex) the store looks for in snapshot cells: a hash's own bytes, a plain value's UTF-8. */
export function needlesOf(identifiers: readonly ErasureIdentifier[]): string[] {
  return identifiers.map((id) => {
    switch (id.kind) {
      case 'EMAIL':
      case 'PHONE':
        return id.hash;
      case 'EXTERN_ID':
      case 'MADID':
        return Buffer.from(id.value, 'utf8').toString('hex');
      case 'NAME_ZIP':
        return id.ln;
    }
  });
}

/** True when the row carries one of the identifiers in its own column(s) (a value elsewhere is not a match). */
export function rowHoldsIdentifier(cells: readonly Cell[], identifiers: readonly ErasureIdentifier[]): boolean {
  return identifiers.some((id) => {
    switch (id.kind) {
      case 'EMAIL':
      case 'PHONE':
        return cells[COLUMN[id.kind]] === id.hash;
      case 'EXTERN_ID':
      case 'MADID':
        return cells[COLUMN[id.kind]] === id.value;
      case 'NAME_ZIP':
        return cells[COLUMN.FN] === id.fn && cells[COLUMN.LN] === id.ln && cells[COLUMN.ZIP] === id.zip;
    }
  });
}

/** What the suppression list keeps of an identifier (domain/suppression.ts): digests only. */
export function suppressionEntryOf(id: ErasureIdentifier): SuppressionEntry {
  switch (id.kind) {
    case 'EMAIL':
      return { kind: SuppressionKind.EMAIL, hash: id.hash };
    case 'PHONE':
      return { kind: SuppressionKind.PHONE, hash: id.hash };
    case 'EXTERN_ID':
    case 'MADID':
      return plaintextEntry(id.kind, id.value);
    case 'NAME_ZIP':
      return nameZipEntry(id.fn, id.ln, id.zip);
  }
}

export { profileKeyEntry };

/**
 * A canonical row holding only the identifier, so Meta matches the person in rows we never sent (another tool's
 * upload, or a row whose snapshot is gone). The data-processing cells are the encoder's neutral values.
 */
export function identifierOnlyRow(id: ErasureIdentifier): Cell[] {
  const cells: Cell[] = CANONICAL_SCHEMA.map((column): Cell => {
    if (column === 'DATA_PROCESSING_OPTIONS') return [];
    if (column.startsWith('DATA_PROCESSING_OPTIONS_')) return 0;
    return '';
  });
  switch (id.kind) {
    case 'EMAIL':
    case 'PHONE':
      cells[COLUMN[id.kind]] = id.hash;
      break;
    case 'EXTERN_ID':
    case 'MADID':
      cells[COLUMN[id.kind]] = id.value;
      break;
    case 'NAME_ZIP':
      cells[COLUMN.FN] = id.fn;
      cells[COLUMN.LN] = id.ln;
      cells[COLUMN.ZIP] = id.zip;
      cells[COLUMN.COUNTRY] = id.country;
      break;
  }
  return cells;
}
