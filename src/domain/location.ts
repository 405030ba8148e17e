import countries from 'i18n-iso-countries';
import { asciiLetters, compactAlphanumeric, foldedLetters, letters, PRINTABLE_ASCII } from './text.js';

/**
 * Common forms that are no country name in any of the library's languages, so written here: the UK's four
 * countries (ISO 3166-2 subdivisions of GB), Holland, America, and the Arabic short form of the United Arab
 * Emirates (the library has only the long form, الإمارات العربية المتحدة).
 */
const EXTRA_NAMES: Readonly<Record<string, string>> = {
  America: 'US',
  England: 'GB',
  Scotland: 'GB',
  Wales: 'GB',
  'Northern Ireland': 'GB',
  Holland: 'NL',
  الإمارات: 'AE',
};

interface CountryTables {
  /** By the letters as written (`letters`): `Mỹ` (Vietnamese for the US) is not `MY` (Malaysia). */
  readonly exact: ReadonlyMap<string, string>;
  /** By the letters with accents folded (`foldedLetters`): `ΕΛΛΑΔΑ`, `Cote dIvoire`. */
  readonly folded: ReadonlyMap<string, string>;
}

/**
 * Country lookup tables, built once from i18n-iso-countries: alpha-2 and alpha-3 codes, then every name (official,
 * long and short forms) in every language the library ships (its Node entry loads them all), so a country written
 * as its people write it (日本, Ελλάδα, Россия, 中国, Polska, Sverige, 대한민국) resolves. Codes win over names. A
 * name that means different countries (`Congo`, or `Kongo`, the Democratic Republic in German and the Republic in
 * Czech) resolves to none: a wrong country sends a wrong hash and reads the row's phone, ZIP and dates wrongly.
 */
const COUNTRY_TABLES: CountryTables = buildCountryTables();

function buildCountryTables(): CountryTables {
  const exact = new Map<string, string>();
  const folded = new Map<string, string>();
  const fixedExact = new Set<string>();
  const fixedFolded = new Set<string>();
  const addFixed = (text: string, alpha2: string): void => {
    const code = alpha2.toLowerCase();
    exact.set(letters(text), code);
    fixedExact.add(letters(text));
    folded.set(foldedLetters(text), code);
    fixedFolded.add(foldedLetters(text));
  };
  const namesInto = (table: Map<string, string>, fixed: ReadonlySet<string>) => {
    const ambiguous = new Set<string>();
    return (key: string, code: string): void => {
      if (key === '' || fixed.has(key) || ambiguous.has(key)) return;
      const known = table.get(key);
      if (known === undefined) {
        table.set(key, code);
      } else if (known !== code) {
        table.delete(key);
        ambiguous.add(key);
      }
    };
  };
  for (const alpha2 of Object.keys(countries.getAlpha2Codes())) addFixed(alpha2, alpha2);
  for (const [alpha3, alpha2] of Object.entries(countries.getAlpha3Codes())) addFixed(alpha3, alpha2);
  for (const [name, alpha2] of Object.entries(EXTRA_NAMES)) addFixed(name, alpha2);
  const addExact = namesInto(exact, fixedExact);
  const addFolded = namesInto(folded, fixedFolded);
  // Many languages share a name (Polska, Sverige, Italia): each distinct name and country is keyed once.
  const seen = new Set<string>();
  for (const language of countries.getSupportedLanguages()) {
    for (const [alpha2, names] of Object.entries(countries.getNames(language, { select: 'all' }))) {
      const code = alpha2.toLowerCase();
      for (const name of names) {
        if (seen.has(`${code}${name}`)) continue;
        seen.add(`${code}${name}`);
        const key = letters(name);
        addExact(key, code);
        addFolded(PRINTABLE_ASCII.test(name) ? key : foldedLetters(name), code);
      }
    }
  }
  return { exact, folded };
}

/**
 * Lowercase ISO 3166-1 alpha-2 code for a country code or name in any language the library knows, or `''`.
 * Punctuation, spaces and case never matter (`U.S.A.`, `united states`); the letters as written are tried first,
 * then with accents folded.
 */
export function normalizeCountry(text: string): string {
  const { exact, folded } = COUNTRY_TABLES;
  const key = letters(text);
  if (key === '') return '';
  return exact.get(key) ?? folded.get(foldedLetters(text)) ?? '';
}

const US_STATES: Readonly<Record<string, string>> = {
  alabama: 'al',
  alaska: 'ak',
  arizona: 'az',
  arkansas: 'ar',
  california: 'ca',
  colorado: 'co',
  connecticut: 'ct',
  delaware: 'de',
  districtofcolumbia: 'dc',
  washingtondc: 'dc',
  florida: 'fl',
  georgia: 'ga',
  hawaii: 'hi',
  idaho: 'id',
  illinois: 'il',
  indiana: 'in',
  iowa: 'ia',
  kansas: 'ks',
  kentucky: 'ky',
  louisiana: 'la',
  maine: 'me',
  maryland: 'md',
  massachusetts: 'ma',
  michigan: 'mi',
  minnesota: 'mn',
  mississippi: 'ms',
  missouri: 'mo',
  montana: 'mt',
  nebraska: 'ne',
  nevada: 'nv',
  newhampshire: 'nh',
  newjersey: 'nj',
  newmexico: 'nm',
  newyork: 'ny',
  northcarolina: 'nc',
  northdakota: 'nd',
  ohio: 'oh',
  oklahoma: 'ok',
  oregon: 'or',
  pennsylvania: 'pa',
  rhodeisland: 'ri',
  southcarolina: 'sc',
  southdakota: 'sd',
  tennessee: 'tn',
  texas: 'tx',
  utah: 'ut',
  vermont: 'vt',
  virginia: 'va',
  washington: 'wa',
  westvirginia: 'wv',
  wisconsin: 'wi',
  wyoming: 'wy',
  americansamoa: 'as',
  guam: 'gu',
  northernmarianaislands: 'mp',
  puertorico: 'pr',
  usvirginislands: 'vi',
};
const US_STATE_CODES: ReadonlySet<string> = new Set(Object.values(US_STATES));

/**
 * State or region. In the US (or when the country is unknown and the value names a US state) the 2-letter code;
 * elsewhere lowercase a–z with accents folded and no spaces or punctuation, like a city.
 * @param region lowercase alpha-2 of the row's country, if known
 */
export function normalizeState(text: string, region: string | undefined): string {
  const compact = asciiLetters(text);
  const usCode = US_STATE_CODES.has(compact) ? compact : US_STATES[compact];
  if (region === 'us') return usCode ?? '';
  if (region === undefined && usCode !== undefined) return usCode;
  return compact;
}

const US_ZIP = /^(\d{5})(?:-?\d{4})?$/;
const US_ZIP_PLUS_4 = /^(\d{5})-\d{4}$/;

/**
 * Postal code. US (or an unmistakable ZIP+4 anywhere) to the 5-digit ZIP; elsewhere lowercase letters and digits
 * with spaces and punctuation removed (UK `M1 1AE` → `m11ae`, the full postcode as in Meta's own example).
 * @param wasNumber the profile held a number: a US ZIP stored as a number lost its leading zeros
 */
export function normalizeZip(text: string, region: string | undefined, wasNumber = false): string {
  const trimmed = text.replace(/\s+/g, '');
  if (region === 'us') {
    if (wasNumber && /^\d{3,5}$/.test(trimmed)) return trimmed.padStart(5, '0');
    return US_ZIP.exec(trimmed)?.[1] ?? '';
  }
  const plus4 = US_ZIP_PLUS_4.exec(trimmed);
  if (plus4 && region === undefined) return plus4[1] ?? '';
  return compactAlphanumeric(trimmed);
}

/** City: lowercase a–z only, accents folded (`São Paulo` → `saopaulo`), no spaces, digits or punctuation. */
export function normalizeCity(text: string): string {
  return asciiLetters(text);
}
