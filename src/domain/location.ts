import countries from 'i18n-iso-countries';
import de from 'i18n-iso-countries/langs/de.json' with { type: 'json' };
import en from 'i18n-iso-countries/langs/en.json' with { type: 'json' };
import es from 'i18n-iso-countries/langs/es.json' with { type: 'json' };
import fr from 'i18n-iso-countries/langs/fr.json' with { type: 'json' };
import it from 'i18n-iso-countries/langs/it.json' with { type: 'json' };
import nl from 'i18n-iso-countries/langs/nl.json' with { type: 'json' };
import pt from 'i18n-iso-countries/langs/pt.json' with { type: 'json' };
import { asciiLetters, compactAlphanumeric } from './text.js';

/**
 * Country lookup by a compact form of the text (accents folded, letters only, lowercase), so `U.S.`,
 * `united states`, `USA` and `Deutschland` all resolve. Codes win over names: alpha-2 first, then alpha-3, then
 * names in English and a few other languages our customers' data comes in.
 */
const COUNTRY_BY_COMPACT: ReadonlyMap<string, string> = buildCountryTable();

function buildCountryTable(): Map<string, string> {
  const table = new Map<string, string>();
  const add = (text: string, alpha2: string): void => {
    const compact = asciiLetters(text);
    if (compact !== '' && !table.has(compact)) table.set(compact, alpha2.toLowerCase());
  };
  const alpha2Codes = Object.keys(countries.getAlpha2Codes());
  for (const alpha2 of alpha2Codes) add(alpha2, alpha2);
  for (const [alpha3, alpha2] of Object.entries(countries.getAlpha3Codes())) add(alpha3, alpha2);
  for (const locale of [en, de, fr, es, it, nl, pt]) {
    for (const [alpha2, names] of Object.entries(locale.countries as Record<string, string | string[]>)) {
      for (const name of typeof names === 'string' ? [names] : names) add(name, alpha2);
    }
  }
  // Common forms the tables miss.
  add('America', 'US');
  add('United States of America', 'US');
  add('Great Britain', 'GB');
  add('England', 'GB');
  add('Scotland', 'GB');
  add('Wales', 'GB');
  add('Northern Ireland', 'GB');
  add('Holland', 'NL');
  return table;
}

/** Lowercase ISO 3166-1 alpha-2 code for a country name or code, or `''`. */
export function normalizeCountry(text: string): string {
  return COUNTRY_BY_COMPACT.get(asciiLetters(text)) ?? '';
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
