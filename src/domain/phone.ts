import { isSupportedCountry, parsePhoneNumberFromString } from 'libphonenumber-js';

/** Regions of the North American Numbering Plan that dial 011 to call abroad. */
const NANP_REGIONS: ReadonlySet<string> = new Set([
  'us', 'ca', 'as', 'ai', 'ag', 'bs', 'bb', 'bm', 'vg', 'ky', 'dm', 'do', 'gd', 'gu', 'jm', 'ms', 'mp', 'pr', 'kn',
  'lc', 'vc', 'sx', 'tt', 'tc', 'vi',
]); // prettier-ignore

/** The common written forms of a North American number: digits, spaces, `()`, `-`, `.`, an optional `+`. */
const NANP_SHAPE = /^\+?[\d\s().-]+$/;
/** Area code and exchange both start 2–9: libphonenumber leaves such numbers exactly as written. */
const NANP_NATIONAL = /^1?([2-9]\d{2}[2-9]\d{6})$/;

/**
 * A phone number as Meta wants it: E.164 digits without the `+`, or `''`.
 *
 * A leading `+`, `00` or `+00` always marks an international number, and so does `011` where that is the
 * international prefix (no region, or a North American one; in the UK `0113` is Leeds). Otherwise the number is
 * read in `region` (the row's country, else the configured default). With no region, the digits must already
 * start with a calling code. Numbers that are *possible* (right length for the country) are accepted, not only
 * *valid* ones: Meta's own example `15559876543` is not valid.
 *
 * Common North American shapes take a fast path that skips libphonenumber; `normalizePhoneByParsing` is the
 * plain path, and a test proves both agree.
 * @param region lowercase ISO alpha-2, if known
 */
export function normalizePhone(text: string, region: string | undefined): string {
  if (NANP_SHAPE.test(text)) {
    const fast = nanpFastPath(text, region);
    if (fast !== undefined) return fast;
  }
  return normalizePhoneByParsing(text, region);
}

function nanpFastPath(text: string, region: string | undefined): string | undefined {
  const international = text.trimStart().startsWith('+');
  if (!international && (region === undefined || !NANP_REGIONS.has(region))) return undefined;
  const digits = text.replace(/\D/g, '');
  if (international && (digits.length !== 11 || !digits.startsWith('1'))) return undefined;
  const national = NANP_NATIONAL.exec(digits)?.[1];
  return national === undefined ? undefined : `1${national}`;
}

/** The plain path: international prefixes handled here, the rest by libphonenumber-js. */
export function normalizePhoneByParsing(text: string, region: string | undefined): string {
  const trimmed = text.trim();
  if (trimmed === '' || trimmed.length > 64) return '';
  const international = internationalRest(trimmed, region);
  const country = region?.toUpperCase();
  const parsed =
    international !== undefined
      ? parsePhoneNumberFromString(`+${international.trimStart()}`)
      : country !== undefined && isSupportedCountry(country)
        ? parsePhoneNumberFromString(trimmed, country)
        : parsePhoneNumberFromString(`+${trimmed.replace(/\D/g, '')}`);
  if (parsed === undefined || !parsed.isPossible()) return '';
  return parsed.number.slice(1);
}

/** The number after an international prefix, or undefined when the number is national. */
function internationalRest(text: string, region: string | undefined): string | undefined {
  if (text.startsWith('+')) return stripLeading(text.slice(1).trimStart(), '00') ?? text.slice(1);
  const afterDoubleZero = stripLeading(text, '00');
  if (afterDoubleZero !== undefined) return afterDoubleZero;
  if (region === undefined || NANP_REGIONS.has(region)) return stripLeading(text, '011');
  return undefined;
}

function stripLeading(text: string, prefix: string): string | undefined {
  return text.startsWith(prefix) ? text.slice(prefix.length) : undefined;
}
