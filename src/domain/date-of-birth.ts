/** Year, month and day of birth as Meta wants them (`YYYY`, `MM`, `DD`); `''` where unknown or unusable. */
export interface DateOfBirth {
  readonly DOBY: string;
  readonly DOBM: string;
  readonly DOBD: string;
}

const UNKNOWN: DateOfBirth = { DOBY: '', DOBM: '', DOBD: '' };
const MIN_YEAR = 1900;
// Read once: a worker running across New Year would at worst refuse a newborn's birth year.
const MAX_YEAR = new Date().getUTCFullYear();

/** Countries that write dates month first; everywhere else day-first is the norm. */
const MONTH_FIRST_REGIONS: ReadonlySet<string> = new Set([
  'us',
  'pr',
  'gu',
  'vi',
  'as',
  'mp',
  'um',
  'ph',
  'fm',
  'mh',
  'pw',
]);

const MONTHS: Readonly<Record<string, number>> = {
  jan: 1, january: 1, feb: 2, february: 2, mar: 3, march: 3, apr: 4, april: 4, may: 5, jun: 6, june: 6,
  jul: 7, july: 7, aug: 8, august: 8, sep: 9, sept: 9, september: 9, oct: 10, october: 10, nov: 11,
  november: 11, dec: 12, december: 12,
}; // prettier-ignore

const ISO = /^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})(?:[t\s].*)?$/;
const COMPACT = /^(\d{4})(\d{2})(\d{2})$/;
const NUMERIC_YEAR_LAST = /^(\d{1,2})[-/.](\d{1,2})[-/.](\d{4})$/;
const NAMED_MONTH_FIRST = /^([a-z]+)\.?[\s-]+(\d{1,2})(?:st|nd|rd|th)?,?[\s-]+(\d{4})$/;
const NAMED_MONTH_SECOND = /^(\d{1,2})(?:st|nd|rd|th)?[\s-]+([a-z]+)\.?,?[\s-]+(\d{4})$/;

/**
 * Reads a full date of birth in any common form: a `Date`, ISO `1990-01-15` (a time part is ignored),
 * `19900115`, `15/01/1990` or `01/15/1990` (also with `-` or `.`), `Jan 15 1990`, `15 January 1990`.
 *
 * Day/month order: when one of the two numbers exceeds 12 the order is plain. When both are 12 or less the
 * order follows the row's region (month first in the US and a few others, day first elsewhere); with no region the
 * year is still kept but month and day are unusable, because a wrong guess sends a wrong hash.
 *
 * A `Date` is read in UTC when it falls on UTC midnight (as `new Date('1990-01-15')` does) and in local time
 * otherwise (as `pg` returns a `date` column: local midnight). Two-digit years, years before 1900 or after the
 * current year, and impossible days (31 April, 29 February 1991) are unusable.
 * @param region lowercase ISO alpha-2 of the row's country, if known
 */
export function parseDateOfBirth(value: unknown, region: string | undefined): DateOfBirth {
  if (value instanceof Date) return fromDate(value);
  if (typeof value === 'number') return Number.isInteger(value) ? parseText(String(value), region) : UNKNOWN;
  if (typeof value !== 'string' || value.length > 64) return UNKNOWN;
  return parseText(value.trim().toLowerCase(), region);
}

function fromDate(date: Date): DateOfBirth {
  if (Number.isNaN(date.getTime())) return UNKNOWN;
  const utcMidnight = date.getUTCHours() === 0 && date.getUTCMinutes() === 0 && date.getUTCSeconds() === 0;
  return utcMidnight
    ? checked(date.getUTCFullYear(), date.getUTCMonth() + 1, date.getUTCDate())
    : checked(date.getFullYear(), date.getMonth() + 1, date.getDate());
}

function parseText(text: string, region: string | undefined): DateOfBirth {
  let match = ISO.exec(text) ?? COMPACT.exec(text);
  if (match) return checked(Number(match[1]), Number(match[2]), Number(match[3]));
  match = NUMERIC_YEAR_LAST.exec(text);
  if (match) return dayMonthOrder(Number(match[1]), Number(match[2]), Number(match[3]), region);
  match = NAMED_MONTH_FIRST.exec(text);
  if (match) return checked(Number(match[3]), MONTHS[match[1] ?? ''] ?? 0, Number(match[2]));
  match = NAMED_MONTH_SECOND.exec(text);
  if (match) return checked(Number(match[3]), MONTHS[match[2] ?? ''] ?? 0, Number(match[1]));
  return UNKNOWN;
}

function dayMonthOrder(first: number, second: number, year: number, region: string | undefined): DateOfBirth {
  if (first > 12 || second > 12 || first === second) {
    return first > 12 ? checked(year, second, first) : checked(year, first, second);
  }
  if (region === undefined) {
    const yearOnly = checked(year, 1, 1);
    return { DOBY: yearOnly.DOBY, DOBM: '', DOBD: '' };
  }
  return MONTH_FIRST_REGIONS.has(region) ? checked(year, first, second) : checked(year, second, first);
}

function checked(year: number, month: number, day: number): DateOfBirth {
  if (!isYear(year) || month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) return UNKNOWN;
  return { DOBY: String(year), DOBM: twoDigits(month), DOBD: twoDigits(day) };
}

function isYear(year: number): boolean {
  return Number.isInteger(year) && year >= MIN_YEAR && year <= MAX_YEAR;
}

function daysInMonth(year: number, month: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}

function twoDigits(value: number): string {
  return value < 10 ? `0${value}` : String(value);
}

/** `DOBY` alone: a bare year (`1990`, ` 1990 `, 1990) or the year of a full date. */
export function normalizeBirthYear(value: unknown, region: string | undefined): string {
  const text = typeof value === 'number' ? String(value) : typeof value === 'string' ? value.trim() : '';
  if (/^\d{4}$/.test(text)) return isYear(Number(text)) ? text : '';
  return parseDateOfBirth(value, region).DOBY;
}

/** `DOBM` alone: `2` → `02`, `january` / `Jan` → `01`, or the month of a full date. */
export function normalizeBirthMonth(value: unknown, region: string | undefined): string {
  const text = typeof value === 'number' ? String(value) : typeof value === 'string' ? value.trim().toLowerCase() : '';
  if (/^\d{1,2}$/.test(text)) return inRange(Number(text), 12);
  const named = MONTHS[text.replace(/\.$/, '')];
  if (named !== undefined) return twoDigits(named);
  return parseDateOfBirth(value, region).DOBM;
}

/** `DOBD` alone: `5` → `05`, 1..31, or the day of a full date. */
export function normalizeBirthDay(value: unknown, region: string | undefined): string {
  const text = typeof value === 'number' ? String(value) : typeof value === 'string' ? value.trim() : '';
  if (/^\d{1,2}$/.test(text)) return inRange(Number(text), 31);
  return parseDateOfBirth(value, region).DOBD;
}

function inRange(value: number, max: number): string {
  return value >= 1 && value <= max ? twoDigits(value) : '';
}
