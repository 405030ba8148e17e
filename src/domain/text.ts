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

/** Strips accents and folds the Latin letters that do not decompose, then keeps only a–z. */
export function asciiLetters(text: string): string {
  const lower = text.toLowerCase();
  // Fast path: already plain ASCII letters and common separators.
  if (/^[\x20-\x7e]*$/.test(lower)) return lower.replace(/[^a-z]/g, '');
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

/** Lowercase ASCII letters and digits only: for codes such as postcodes. */
export function compactAlphanumeric(text: string): string {
  return text.toLowerCase().replace(/[^a-z0-9]/g, '');
}
