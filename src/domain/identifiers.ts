import { normalizeBirthDay, normalizeBirthMonth, normalizeBirthYear } from './date-of-birth.js';
import { FacebookKey } from './facebook-keys.js';
import { normalizeCity, normalizeCountry, normalizeState, normalizeZip } from './location.js';
import { normalizePhone } from './phone.js';
import { scalarText } from './text.js';

const EMAIL = /^[^\s@]+@[^\s@.]+(?:\.[^\s@.]+)+$/;

/** Trimmed, lowercased; exactly one `@` and a dotted domain, else `''`. Inner dots and `+tags` are kept. */
export function normalizeEmail(text: string): string {
  const email = text.trim().toLowerCase();
  return EMAIL.test(email) ? email : '';
}

/**
 * First or last name: lowercase, NFC, letters of any script (and their combining marks) only. Punctuation,
 * symbols, digits and inner spaces are removed (`Mary Ann` → `maryann`), as Meta's own SDKs do and as "a–z only"
 * reads; vendors disagree on inner spaces, so this choice is fixed here and must stay stable.
 */
export function normalizeName(text: string): string {
  const lower = text.toLowerCase();
  if (/^[\x20-\x7e]*$/.test(lower)) return lower.replace(/[^a-z]/g, '');
  return lower.normalize('NFC').replace(/[^\p{L}\p{M}]/gu, '');
}

/** The first letter (with its combining marks) of a normalised first name. */
export function initialOf(normalizedName: string): string {
  return /^\p{L}\p{M}*/u.exec(normalizedName)?.[0] ?? '';
}

const GENDERS: Readonly<Record<string, string>> = { m: 'm', male: 'm', man: 'm', f: 'f', female: 'f', woman: 'f' };

export function normalizeGender(text: string): string {
  return GENDERS[text.trim().toLowerCase()] ?? '';
}

/**
 * One identifier normalised for a row whose country is already resolved.
 * @param region lowercase ISO alpha-2 of the row's country (else the default), if known
 */
export function normalizeInRegion(key: FacebookKey, value: unknown, region: string | undefined): string {
  switch (key) {
    case FacebookKey.DOBY:
      return normalizeBirthYear(value, region);
    case FacebookKey.DOBM:
      return normalizeBirthMonth(value, region);
    case FacebookKey.DOBD:
      return normalizeBirthDay(value, region);
    case FacebookKey.EMAIL:
      return normalizeEmail(scalarText(value));
    case FacebookKey.PHONE:
      return normalizePhone(scalarText(value), region);
    case FacebookKey.FN:
    case FacebookKey.LN:
      return normalizeName(scalarText(value));
    case FacebookKey.FI:
      return initialOf(normalizeName(scalarText(value)));
    case FacebookKey.GEN:
      return normalizeGender(scalarText(value));
    case FacebookKey.CT:
      return normalizeCity(scalarText(value));
    case FacebookKey.ST:
      return normalizeState(scalarText(value), region);
    case FacebookKey.ZIP:
      return normalizeZip(scalarText(value), region, typeof value === 'number');
    case FacebookKey.COUNTRY:
      return normalizeCountry(scalarText(value));
    case FacebookKey.MADID:
      return normalizeMadid(scalarText(value));
    case FacebookKey.EXTERN_ID:
      return normalizeExternId(scalarText(value));
  }
}

/** Mobile advertiser id: trimmed and lowercased, hyphens kept, sent unhashed. */
function normalizeMadid(text: string): string {
  const madid = text.trim().toLowerCase();
  return /\s/.test(madid) ? '' : madid;
}

/** Sent exactly as the profile holds it: Meta matches EXTERN_ID byte for byte across uploads. */
function normalizeExternId(text: string): string {
  return text.trim() === '' ? '' : text;
}

/** The row's region: its own country if that resolves, else the configured default. */
export function resolveRegion(country: unknown, defaultCountry: string | undefined): string | undefined {
  const own = normalizeCountry(scalarText(country));
  if (own !== '') return own;
  const fallback = defaultCountry === undefined ? '' : normalizeCountry(defaultCountry);
  return fallback === '' ? undefined : fallback;
}
