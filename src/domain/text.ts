/**
 * Longest input we look at. Real identifiers are far shorter (an email is at most 254 characters); refusing
 * huge values up front keeps one absurd cell from costing a page its time budget.
 */
export const MAX_INPUT_LENGTH = 512;

/**
 * The text of a scalar profile value, or `''` for anything that is not a usable scalar (null, objects,
 * arrays, NaN, booleans, oversized strings). Numbers keep their plain decimal form: phones and ZIPs are
 * often stored as numbers.
 */
export function scalarText(value: unknown): string {
  switch (typeof value) {
    case 'string':
      return value.length > MAX_INPUT_LENGTH ? '' : value;
    case 'number':
      return Number.isFinite(value) ? numberText(value) : '';
    case 'bigint':
      return value.toString();
    default:
      return '';
  }
}

function numberText(value: number): string {
  // String(1e21) is '1e+21': no identifier is written like that, so refuse it rather than hash garbage.
  const text = String(value);
  return text.includes('e') ? '' : text;
}

export const PRINTABLE_ASCII = /^[\x20-\x7e]*$/;

/** Strips accents and folds the Latin letters that do not decompose, then keeps only a–z. */
export function asciiLetters(text: string): string {
  const lower = text.toLowerCase();
  // Fast path: already plain ASCII letters and common separators.
  if (PRINTABLE_ASCII.test(lower)) return lower.replace(/[^a-z]/g, '');
  let folded = '';
  for (const char of lower.normalize('NFD')) {
    folded += LATIN_FOLDS[char] ?? char;
  }
  return folded.replace(/[^a-z]/g, '');
}

const LATIN_FOLDS: Readonly<Record<string, string>> = {
  ß: 'ss',
  æ: 'ae',
  œ: 'oe',
  ø: 'o',
  ł: 'l',
  đ: 'd',
  ð: 'd',
  þ: 'th',
  ı: 'i',
  ħ: 'h',
};

const UNDECOMPOSED_LATIN = new RegExp(`[${Object.keys(LATIN_FOLDS).join('')}]`, 'g');
/** Combining accents (U+0300–U+036F): what NFD splits from accented Latin, Greek and Cyrillic letters. */
const COMBINING_ACCENTS = /[\u0300-\u036f]/g;

/**
 * The letters of a name as written, in any script: lowercase, compatibility forms unified (NFKC: full-width
 * `ＵＳＡ` is `usa`), every non-letter removed (`Việt Nam` → `việtnam`, `대한민국` stays `대한민국`).
 */
export function letters(text: string): string {
  if (PRINTABLE_ASCII.test(text)) return text.toLowerCase().replace(/[^a-z]/g, '');
  return text
    .normalize('NFKC')
    .toLowerCase()
    .replace(/[^\p{L}\p{M}]/gu, '');
}

/**
 * `letters` with the accents of Latin, Greek and Cyrillic letters removed and the Latin letters that do not
 * decompose folded as in `asciiLetters`, so `Ελλάδα` and `ΕΛΛΑΔΑ` (written without accents in capitals) both give
 * `ελλαδα`, and `Cote d'Ivoire` meets `Côte d’Ivoire`. Other scripts keep their marks: in Devanagari or Khmer the
 * vowel signs are marks, and dropping them would make different names equal.
 */
export function foldedLetters(text: string): string {
  if (PRINTABLE_ASCII.test(text)) return text.toLowerCase().replace(/[^a-z]/g, '');
  return text
    .normalize('NFKD')
    .toLowerCase()
    .replace(COMBINING_ACCENTS, '')
    .replace(UNDECOMPOSED_LATIN, (char) => LATIN_FOLDS[char] ?? char)
    .replace(/[^\p{L}\p{M}]/gu, '');
}

/** Lowercase ASCII letters and digits only: for codes such as postcodes. */
export function compactAlphanumeric(text: string): string {
  return text.toLowerCase().replace(/[^a-z0-9]/g, '');
}
