/** The customer-list keys Meta accepts in a multi-key (`is_raw`) upload that we support. */
export const FacebookKey = {
  EXTERN_ID: 'EXTERN_ID',
  EMAIL: 'EMAIL',
  PHONE: 'PHONE',
  DOBY: 'DOBY',
  DOBM: 'DOBM',
  DOBD: 'DOBD',
  LN: 'LN',
  FN: 'FN',
  FI: 'FI',
  GEN: 'GEN',
  CT: 'CT',
  ST: 'ST',
  ZIP: 'ZIP',
  COUNTRY: 'COUNTRY',
  MADID: 'MADID',
} as const;
export type FacebookKey = (typeof FacebookKey)[keyof typeof FacebookKey];

/** Every key in the canonical order (Segment's order, EXTERN_ID first). */
export const FACEBOOK_KEYS: readonly FacebookKey[] = Object.values(FacebookKey);

/** Meta wants these two in plain text; every other key is SHA-256 hashed. */
const PLAINTEXT_KEYS: ReadonlySet<FacebookKey> = new Set([FacebookKey.MADID, FacebookKey.EXTERN_ID]);

export function isHashedKey(key: FacebookKey): boolean {
  return !PLAINTEXT_KEYS.has(key);
}
