/*
 * EXTERN_ID and MADID reach Meta in clear, so a value there that is really an e-mail address or a phone number
 * would leak it unhashed. The profile source lists the columns allowed in clear; these checks catch the values of
 * those columns that still look like contact details (a mis-filled row, a column reused for something else).
 */

/** An address anywhere in the value: something, `@`, a dotted domain. */
const EMAIL_SHAPE = /[^\s@]@[^\s@.]+\.[^\s@.]/;
/** Only digits and what people write phones with. */
const PHONE_CHARACTERS = /^\+?[\d\s()./-]+$/;
/** Separators between digits: a phone as written, not an id made of digits. */
const PHONE_PUNCTUATION = /\d[\s()./-]+\d/;

/**
 * Whether a value bound for Meta in clear is shaped like an e-mail address or a phone number. A phone is digits
 * (7 to 15, E.164's longest) written with a leading `+` or with separators; a bare run of digits is not refused,
 * since numeric customer ids are common and cannot be told from an unformatted number.
 */
export function looksLikeContact(value: string): boolean {
  if (value.includes('@') && EMAIL_SHAPE.test(value)) return true;
  const trimmed = value.trim();
  if (!PHONE_CHARACTERS.test(trimmed)) return false;
  if (!trimmed.startsWith('+') && !PHONE_PUNCTUATION.test(trimmed)) return false;
  let digits = 0;
  for (let i = 0; i < trimmed.length; i++) {
    const c = trimmed.charCodeAt(i);
    if (c >= 48 && c <= 57) digits++;
  }
  return digits >= 7 && digits <= 15;
}
