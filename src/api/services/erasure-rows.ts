import { CANONICAL_SCHEMA, type Cell } from '../../domain/canonical-row.js';
import { hashCell, normalize } from '../../domain/normalize.js';

/** The identifier kinds an erasure request names; both are hashed keys of the canonical schema. */
export const ErasureKey = { email: 'EMAIL', phone: 'PHONE' } as const;
export type ErasureKey = (typeof ErasureKey)[keyof typeof ErasureKey];

export interface ErasureIdentifier {
  readonly key: ErasureKey;
  /** Lowercase hex SHA-256 of the normalised value: what our rows carry in that column. */
  readonly hash: string;
}

export interface ErasureInput {
  email?: string | undefined;
  phone?: string | undefined;
  /** Country (name or code) of the phone when it has no +prefix. */
  country?: string | undefined;
  defaultCountry?: string | undefined;
}

/** Which given identifiers normalise to nothing (so the caller can name the field); the hashes of the others. */
export function erasureIdentifiers(input: ErasureInput): { identifiers: ErasureIdentifier[]; unusable: string[] } {
  const identifiers: ErasureIdentifier[] = [];
  const unusable: string[] = [];
  const context = {
    ...(input.country ? { country: input.country } : {}),
    ...(input.defaultCountry ? { defaultCountry: input.defaultCountry } : {}),
  };
  for (const [field, key] of Object.entries(ErasureKey) as [keyof typeof ErasureKey, ErasureKey][]) {
    const raw = input[field];
    if (raw === undefined) continue;
    const hash = hashCell(key, normalize(key, raw, context));
    if (hash === '') unusable.push(field);
    else identifiers.push({ key, hash });
  }
  return { identifiers, unusable };
}

const COLUMN: Readonly<Record<ErasureKey, number>> = {
  EMAIL: CANONICAL_SCHEMA.indexOf('EMAIL'),
  PHONE: CANONICAL_SCHEMA.indexOf('PHONE'),
};

/** True when the row carries one of the identifiers in its own column (a hash elsewhere is not a match). */
export function rowHoldsIdentifier(cells: readonly Cell[], identifiers: readonly ErasureIdentifier[]): boolean {
  return identifiers.some((id) => cells[COLUMN[id.key]] === id.hash);
}

/**
 * A canonical row holding only the identifier, so Meta matches the person in rows we never sent (another tool's
 * upload, or a row whose snapshot is gone). The data-processing cells are the encoder's neutral values.
 */
export function identifierOnlyRow(id: ErasureIdentifier): Cell[] {
  return CANONICAL_SCHEMA.map((column, i): Cell => {
    if (i === COLUMN[id.key]) return id.hash;
    if (column === 'DATA_PROCESSING_OPTIONS') return [];
    if (column.startsWith('DATA_PROCESSING_OPTIONS_')) return 0;
    return '';
  });
}
