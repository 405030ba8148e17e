import { isSupportedCountry, parsePhoneNumberFromString } from 'libphonenumber-js';

/** Regions of the North American Numbering Plan that dial 011 to call abroad. */
const NANP_REGIONS: ReadonlySet<string> = new Set([
  'us', 'ca', 'as', 'ai', 'ag', 'bs', 'bb', 'bm', 'vg', 'ky', 'dm', 'do', 'gd', 'gu', 'jm', 'ms', 'mp', 'pr', 'kn',
  'lc', 'vc', 'sx', 'tt', 'tc', 'vi',
]); // prettier-ignore

/**
 * The common written forms: digits, spaces, `()`, `-`, `.`, an optional leading `+`, blanks around. Anything else
 * (letters, extensions, `/`, other separators, Unicode spaces inside) takes the plain path.
 */
const COMMON_SHAPE = /^\s*\+?[\d ().-]+\s*$/;
/** Area code and exchange both start 2–9: libphonenumber leaves such numbers exactly as written. */
const NANP_NATIONAL = /^1?([2-9]\d{2}[2-9]\d{6})$/;
/** The plain path refuses longer text; the fast path must too. */
const MAX_TEXT_LENGTH = 64;

interface NationalPlan {
  readonly callingCode: string;
  /** The trunk prefix national numbers are written with: `0` (UK), `8` (Russia), `''` where there is none (Spain). */
  readonly trunk: '' | '0' | '8';
  /** National lengths (after the trunk prefix) that every region of this calling code finds possible. */
  readonly lengths: ReadonlySet<number>;
  /** National prefixes libphonenumber would strip again after the calling code (GB: `180020`, its text relay). */
  readonly restripped?: string;
  /** The international prefix where it is not `00` (Japan's `010`, Russia's `810`): libphonenumber strips it. */
  readonly internationalPrefix?: string;
}

const lengths = (...values: number[]): ReadonlySet<number> => new Set(values);

/**
 * Countries whose numbers are written nationally as trunk prefix + national number (`07911 123456`, `8 (495)
 * 745-65-64`, or the bare national number where there is no trunk prefix: `612 345 678` in Spain), or
 * internationally as calling code + national number after `+`, `00` (or `011` where that is the international
 * prefix). Lengths are the common ones only: for them libphonenumber strips the trunk prefix and keeps the digits
 * as written (the test proves it for every leading pair of digits); any other length takes the plain path. China
 * and Brazil are left to it: their carrier codes make the trunk prefix a pattern, not a digit.
 */
const NATIONAL_PLANS: Readonly<Record<string, NationalPlan>> = {
  gb: { callingCode: '44', trunk: '0', lengths: lengths(10), restripped: '180020' },
  de: { callingCode: '49', trunk: '0', lengths: lengths(6, 7, 8, 9, 10, 11, 12, 13) },
  fr: { callingCode: '33', trunk: '0', lengths: lengths(9) },
  es: { callingCode: '34', trunk: '', lengths: lengths(9) },
  gr: { callingCode: '30', trunk: '', lengths: lengths(10) },
  jp: { callingCode: '81', trunk: '0', lengths: lengths(9, 10), internationalPrefix: '010' },
  ae: { callingCode: '971', trunk: '0', lengths: lengths(8, 9) },
  ru: { callingCode: '7', trunk: '8', lengths: lengths(10), internationalPrefix: '810' },
};
const PLANS_BY_CALLING_CODE: ReadonlyMap<string, NationalPlan> = new Map(
  Object.values(NATIONAL_PLANS).map((plan) => [plan.callingCode, plan]),
);

/**
 * A phone number as Meta wants it: E.164 digits without the `+`, or `''`.
 *
 * A leading `+`, `00` or `+00` always marks an international number, and so does `011` in a North American
 * region (elsewhere it is national: `011` is Buenos Aires' area code with its trunk `0`, in the UK `0113` is
 * Leeds). Otherwise the number is read in `region` (the row's country, else the configured default). With no
 * region a national number is never guessed: `617.332.1387` could start with Australia's `61` or be Boston's
 * `617`, and a wrong calling code sends a wrong hash, so it gives `''` (see `needsCountry`). Numbers that are
 * *possible* (right length for the country) are accepted, not only *valid* ones: Meta's own example `15559876543`
 * is not valid.
 *
 * Common shapes of North America and of the countries in `NATIONAL_PLANS` take a fast path that skips libphonenumber;
 * `normalizePhoneByParsing` is the plain path, and a test proves both agree.
 * @param region lowercase ISO alpha-2, if known
 */
export function normalizePhone(text: string, region: string | undefined): string {
  return normalizePhoneByFastPath(text, region) ?? normalizePhoneByParsing(text, region);
}

/** The fast path alone: the number for a common shape, or undefined when only full parsing can tell. */
export function normalizePhoneByFastPath(text: string, region: string | undefined): string | undefined {
  return text.length <= MAX_TEXT_LENGTH && COMMON_SHAPE.test(text) ? fastPath(text.trim(), region) : undefined;
}

/** The E.164 digits for a common shape, or undefined to leave the number to the plain path. */
function fastPath(trimmed: string, region: string | undefined): string | undefined {
  const international = internationalRest(trimmed, region);
  if (international !== undefined) {
    // libphonenumber reads `+(44)…` and `+ (…` its own way: only a digit right after the prefix is fast.
    const first = international.trimStart().charCodeAt(0);
    return first >= 48 && first <= 57 ? internationalFastPath(international.replace(/\D/g, '')) : undefined;
  }
  if (region === undefined) return ''; // a national number without a country: never guessed
  const digits = trimmed.replace(/\D/g, '');
  if (NANP_REGIONS.has(region)) {
    const national = NANP_NATIONAL.exec(digits)?.[1];
    return national === undefined ? undefined : `1${national}`;
  }
  const plan = NATIONAL_PLANS[region];
  if (plan === undefined || !digits.startsWith(plan.trunk)) return undefined;
  if (plan.internationalPrefix !== undefined && digits.startsWith(plan.internationalPrefix)) return undefined;
  return nationalFastPath(plan, digits.slice(plan.trunk.length));
}

/** Digits after an international prefix: `1` + a North American number, or a planned country's number. */
function internationalFastPath(digits: string): string | undefined {
  if (digits.startsWith('1')) {
    if (digits.length !== 11) return undefined;
    const national = NANP_NATIONAL.exec(digits)?.[1];
    return national === undefined ? undefined : `1${national}`;
  }
  // Calling codes are a prefix code: at most one of the first one, two or three digits is one.
  for (let length = 1; length <= 3; length++) {
    const plan = PLANS_BY_CALLING_CODE.get(digits.slice(0, length));
    if (plan === undefined) continue;
    const national = digits.slice(length);
    if (plan.restripped !== undefined && national.startsWith(plan.restripped)) return undefined;
    return nationalFastPath(plan, national);
  }
  return undefined;
}

function nationalFastPath(plan: NationalPlan, national: string): string | undefined {
  // A second 0 is an international prefix (`0 044…`) to libphonenumber, and a trunk prefix after the calling code
  // is stripped again: neither is a common shape.
  if (national.startsWith('0') || (plan.trunk !== '' && national.startsWith(plan.trunk))) return undefined;
  if (!plan.lengths.has(national.length)) return undefined;
  return `${plan.callingCode}${national}`;
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
        : undefined; // a national number and no country to read it in: never guessed
  if (parsed === undefined || !parsed.isPossible()) return '';
  return parsed.number.slice(1);
}

/**
 * Whether a phone is left out only for want of a country: it is written, has no international prefix, and the row
 * has no region libphonenumber knows. Says why a blank PHONE cell is blank (drop reason `phone_country_unknown`).
 * @param region lowercase ISO alpha-2 of the row's country (else the default), if known
 */
export function needsCountry(text: string, region: string | undefined): boolean {
  const trimmed = text.trim();
  if (trimmed === '' || internationalRest(trimmed, region) !== undefined) return false;
  return region === undefined || !isSupportedCountry(region.toUpperCase());
}

/** The number after an international prefix, or undefined when the number is national. */
function internationalRest(text: string, region: string | undefined): string | undefined {
  if (text.startsWith('+')) return stripLeading(text.slice(1).trimStart(), '00') ?? text.slice(1);
  const afterDoubleZero = stripLeading(text, '00');
  if (afterDoubleZero !== undefined) return afterDoubleZero;
  return region !== undefined && NANP_REGIONS.has(region) ? stripLeading(text, '011') : undefined;
}

function stripLeading(text: string, prefix: string): string | undefined {
  return text.startsWith(prefix) ? text.slice(prefix.length) : undefined;
}
