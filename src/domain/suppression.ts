import type { Cell } from './canonical-row.js';
import { FacebookKey } from './facebook-keys.js';
import { sha256Hex } from './sha256.js';

/*
 * The suppression list: people erased on request, as SHA-256 digests only, checked whenever rows are built so a
 * later export does not add them back. A built row is suppressed when any of its entries is listed.
 */

export const SuppressionKind = {
  profileKey: 'profile_key',
  EMAIL: 'EMAIL',
  PHONE: 'PHONE',
  EXTERN_ID: 'EXTERN_ID',
  MADID: 'MADID',
  /** First name, last name and ZIP together. */
  NAME_ZIP: 'NAME_ZIP',
} as const;
export type SuppressionKind = (typeof SuppressionKind)[keyof typeof SuppressionKind];

export interface SuppressionEntry {
  readonly kind: SuppressionKind;
  /** Lowercase hex SHA-256. */
  readonly hash: string;
}

/** Column positions of the canonical schema (canonical-row.ts; asserted by its test). */
const COLUMN = { EXTERN_ID: 0, EMAIL: 1, PHONE: 2, LN: 6, FN: 7, ZIP: 12, MADID: 14 } as const;

export const profileKeyEntry = (profileKey: string): SuppressionEntry => ({
  kind: SuppressionKind.profileKey,
  hash: sha256Hex(profileKey),
});

/** A value Meta receives in clear (EXTERN_ID, MADID), as the cell holds it: only its hash is listed. */
export const plaintextEntry = (key: 'EXTERN_ID' | 'MADID', cell: string): SuppressionEntry => ({
  kind: key === FacebookKey.EXTERN_ID ? SuppressionKind.EXTERN_ID : SuppressionKind.MADID,
  hash: sha256Hex(cell),
});

/** The three hashed cells (FN, LN, ZIP) together: one digest, so no single name is listed. */
export const nameZipEntry = (fn: string, ln: string, zip: string): SuppressionEntry => ({
  kind: SuppressionKind.NAME_ZIP,
  hash: sha256Hex(`${fn}:${ln}:${zip}`),
});

/** Every entry that would suppress this built row: its profile key and each usable identifier cell. */
export function rowEntries(profileKey: string, cells: readonly Cell[]): SuppressionEntry[] {
  const entries = [profileKeyEntry(profileKey)];
  const text = (column: number): string => {
    const cell = cells[column];
    return typeof cell === 'string' ? cell : '';
  };
  for (const key of ['EMAIL', 'PHONE'] as const) {
    const hash = text(COLUMN[key]);
    if (hash !== '') entries.push({ kind: key, hash });
  }
  for (const key of ['EXTERN_ID', 'MADID'] as const) {
    const value = text(COLUMN[key]);
    if (value !== '') entries.push(plaintextEntry(key, value));
  }
  const [fn, ln, zip] = [text(COLUMN.FN), text(COLUMN.LN), text(COLUMN.ZIP)];
  if (fn !== '' && ln !== '' && zip !== '') entries.push(nameZipEntry(fn, ln, zip));
  return entries;
}

export const entryId = (e: SuppressionEntry): string => `${e.kind}:${e.hash}`;
