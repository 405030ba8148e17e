import { createHash } from 'node:crypto';
import countries from 'i18n-iso-countries';
import { describe, expect, it } from 'vitest';
import { FACEBOOK_KEYS, type FacebookKey } from '../../src/domain/facebook-keys.js';
import { hashCell, normalize, normalizeDateOfBirth } from '../../src/domain/normalize.js';

const sha256 = (text: string): string => createHash('sha256').update(text).digest('hex');

describe("Meta's documented examples", () => {
  it('hashes 5.1 examples exactly', () => {
    expect(hashCell('EMAIL', normalize('EMAIL', 'mary@example.com'))).toBe(
      'f1904cf1a9d73a55fa5de0ac823c4403ded71afd4c3248d00bdcd0866552bb79',
    );
    const phone = normalize('PHONE', '15559876543', { country: 'US' });
    expect(phone).toBe('15559876543');
    expect(hashCell('PHONE', phone)).toBe('1ef970831d7963307784fa8688e8fce101a15685d62aa765fed23f3a2c576a4e');
  });

  it.each([
    ['EMAIL', '  Test@Example.COM  ', 'test@example.com'],
    ['PHONE', '+1 (650) 555-1212', '16505551212'],
    ['PHONE', '0044 207 123 4567', '442071234567'],
    ['PHONE', '+0000000000', ''],
    ['GEN', 'male', 'm'],
    ['DOBY', ' 1990 ', '1990'],
    ['DOBM', '2', '02'],
    ['DOBM', 'january', '01'],
    ['DOBD', '5', '05'],
    ['LN', "O'Brien", 'obrien'],
    ['FN', 'Anne-Marie', 'annemarie'],
    ['FN', 'Valéry', 'valéry'],
    ['LN', '정', '정'],
    ['FI', 'J', 'j'],
    ['FI', 'ABC', 'a'],
    ['CT', 'San Francisco', 'sanfrancisco'],
    ['CT', 'los_angeles', 'losangeles'],
    ['CT', 'São Paulo', 'saopaulo'],
    ['ST', 'California', 'ca'],
    ['ST', 'CA', 'ca'],
    ['ST', 'British Columbia', 'britishcolumbia'],
    ['ZIP', '90210-1234', '90210'],
    ['ZIP', 'M1 1AE', 'm11ae'],
    ['COUNTRY', 'US', 'us'],
    ['COUNTRY', 'U.S.', 'us'],
    ['COUNTRY', 'United States', 'us'],
    ['MADID', 'AB12CD-E345-FG67', 'ab12cd-e345-fg67'],
    ['EXTERN_ID', 'abc123def', 'abc123def'],
  ] as const)('%s %j → %j (reference 5.2)', (key, input, expected) => {
    expect(normalize(key, input)).toBe(expected);
  });
});

describe('email', () => {
  it.each([
    ['John.Smith+promo@Example.co.uk', 'john.smith+promo@example.co.uk'],
    ['\u00a0a.b.c@d.example\t', 'a.b.c@d.example'],
    ['two@@example.com', ''],
    ['a@b@example.com', ''],
    ['nobody@localhost', ''],
    ['john at example.com', ''],
    ['john smith@example.com', ''],
    ['@example.com', ''],
    ['john@.com', ''],
    ['john@example.', ''],
    ['', ''],
    ['   ', ''],
  ])('%j → %j', (input, expected) => expect(normalize('EMAIL', input)).toBe(expected));
});

describe('phone', () => {
  it.each([
    ['+1-555-123-4567', undefined, '15551234567'],
    ['(202) 555-0123', 'US', '12025550123'],
    ['(202) 555-0123', 'United States', '12025550123'],
    ['1 202 555 0123', 'us', '12025550123'],
    // No country and no + or 00: never guessed (these would read as Egypt's +20, Australia's +61, Russia's 8...).
    ['202.555.0123', undefined, ''],
    ['617.332.1387', undefined, ''],
    ['8 (495) 951-28-88', undefined, ''],
    ['0202 555 0123', undefined, ''],
    ['447911123456', undefined, ''],
    ['011 44 20 7123 4567', undefined, ''], // 011 is international only in North America (Buenos Aires: 011 …)
    ['011 4321-1234', 'AR', '541143211234'],
    ['8 (495) 951-28-88', 'Россия', '74959512888'],
    ['0044 20 7123 4567', undefined, '442071234567'],
    ['011 44 20 7123 4567', 'US', '442071234567'],
    ['+00 44 20 7123 4567', undefined, '442071234567'],
    ['07911 123456', 'GB', '447911123456'],
    ['07911 123456', 'United Kingdom', '447911123456'],
    ['0113 496 0000', 'GB', '441134960000'], // Leeds: 011 is not an international prefix in the UK
    ['+44 7911 123456', 'DE', '447911123456'],
    ['030 1234567', 'DE', '49301234567'],
    ['06 12 34 56 78', 'France', '33612345678'],
    ['5551234', 'US', ''], // too short to be possible
    ['12345', undefined, ''],
    ['+999 1234567', undefined, ''],
    ['call me', 'US', ''],
    ['', 'US', ''],
  ] as const)('%j in %s → %j', (input, country, expected) => {
    expect(normalize('PHONE', input, country === undefined ? undefined : { country })).toBe(expected);
  });

  it('uses the row country before the default country', () => {
    expect(normalize('PHONE', '07911 123456', { country: 'GB', defaultCountry: 'US' })).toBe('447911123456');
    expect(normalize('PHONE', '(202) 555-0123', { defaultCountry: 'US' })).toBe('12025550123');
    expect(normalize('PHONE', '(202) 555-0123', { country: 'nowhere', defaultCountry: 'US' })).toBe('12025550123');
  });

  it('reads phones stored as numbers, in their country only (a number has no + prefix)', () => {
    expect(normalize('PHONE', 15559876543)).toBe('');
    expect(normalize('PHONE', 15559876543, { defaultCountry: 'US' })).toBe('15559876543');
    expect(normalize('PHONE', 2025550123, { country: 'US' })).toBe('12025550123');
  });
});

describe('names and initials', () => {
  it.each([
    ['  JOSÉ ', 'josé'],
    ['Zoe\u0308', 'zoë'], // decomposed input comes out NFC
    ['Mary Ann', 'maryann'],
    ['Jean-Luc', 'jeanluc'],
    ['Łukasz', 'łukasz'],
    ['Александр', 'александр'],
    ['Παπαδόπουλος', 'παπαδόπουλος'],
    ['山田 太郎', '山田太郎'],
    ['John3 ☺', 'john'],
    ['', ''],
    ['!!!', ''],
  ])('FN %j → %j', (input, expected) => expect(normalize('FN', input)).toBe(expected));

  it('takes FI from the first letter of a name', () => {
    expect(normalize('FI', 'Ms.')).toBe('m');
    expect(normalize('FI', 'Élodie')).toBe('é');
    expect(normalize('FI', '  -')).toBe('');
  });
});

describe('gender', () => {
  it.each([
    ['M', 'm'],
    [' Female ', 'f'],
    ['f', 'f'],
    ['woman', 'f'],
    ['x', ''],
    ['unknown', ''],
  ])('%j → %j', (input, expected) => expect(normalize('GEN', input)).toBe(expected));
});

describe('location', () => {
  it.each([
    ['US', 'us'],
    ['usa', 'us'],
    ['United States of America', 'us'],
    ['U.S.A.', 'us'],
    ['GBR', 'gb'],
    ['United Kingdom', 'gb'],
    ['UK', 'gb'],
    ['Deutschland', 'de'],
    ['Germany', 'de'],
    ['France', 'fr'],
    ['Brasil', 'br'],
    ['Côte d’Ivoire', 'ci'],
    ['Cote dIvoire', 'ci'],
    ['Atlantis', ''],
    ['', ''],
  ])('COUNTRY %j → %j', (input, expected) => expect(normalize('COUNTRY', input)).toBe(expected));

  it.each([
    ['日本', 'jp'],
    ['Ελλάδα', 'gr'],
    ['ΕΛΛΑΔΑ', 'gr'], // capitals are written without accents
    ['Россия', 'ru'],
    ['РОССИЯ', 'ru'],
    ['中国', 'cn'],
    ['中華人民共和国', 'cn'],
    ['Polska', 'pl'],
    ['Sverige', 'se'],
    ['대한민국', 'kr'],
    ['Magyarország', 'hu'],
    ['Česko', 'cz'],
    ['Suomi', 'fi'],
    ['Україна', 'ua'],
    ['Србија', 'rs'],
    ['भारत', 'in'],
    ['Türkiye', 'tr'],
    ['TÜRKİYE', 'tr'],
    ['Việt Nam', 'vn'],
    ['Mỹ', 'us'], // Vietnamese for the US: the accent keeps it apart from MY (Malaysia)
    ['MY', 'my'],
    ['الإمارات العربية المتحدة', 'ae'],
    ['الإمارات', 'ae'],
    ['ＵＳＡ', 'us'], // full-width letters
    ["People's Republic of China", 'cn'],
    ['Russian Federation', 'ru'],
    ['England', 'gb'],
    ['Holland', 'nl'],
  ])('COUNTRY as its people write it: %j → %j', (input, expected) => {
    expect(normalize('COUNTRY', input)).toBe(expected);
  });

  it('resolves no name that means more than one country', () => {
    expect(normalize('COUNTRY', 'Congo')).toBe(''); // the Republic and the Democratic Republic
    expect(normalize('COUNTRY', 'Kongo')).toBe(''); // the Democratic Republic in German, the Republic in Czech
    expect(normalize('COUNTRY', 'Republic of the Congo')).toBe('cg');
    expect(normalize('COUNTRY', 'Democratic Republic of the Congo')).toBe('cd');
  });

  it('resolves every name of every language i18n-iso-countries ships, but names of two countries', () => {
    const languages = countries.getSupportedLanguages();
    expect(languages.length).toBeGreaterThanOrEqual(78);
    const entries = languages.flatMap((language) =>
      Object.entries(countries.getNames(language, { select: 'all' })).flatMap(([alpha2, names]) =>
        names.map((name) => ({ language, name, code: alpha2.toLowerCase() })),
      ),
    );
    expect(entries.length).toBeGreaterThan(19_000);
    // The library's own data gives some names to two countries (Congo, Kongo; a few Dhivehi names): none.
    const codesOf = new Map<string, Set<string>>();
    for (const { name, code } of entries) codesOf.set(name, (codesOf.get(name) ?? new Set()).add(code));
    // Vietnamese Nga (Russia) and Irish S.A. (the US) read as the codes NGA (Nigeria) and SA (Saudi Arabia).
    const codesFirst: Record<string, string> = { Nga: 'ng', 'S.A.': 'sa' };
    const wrong = entries.flatMap(({ language, name, code }) => {
      const expected = codesOf.get(name)!.size > 1 ? '' : (codesFirst[name] ?? code);
      const got = normalize('COUNTRY', name);
      return got === expected ? [] : [`${language} ${name}: ${got}, not ${expected}`];
    });
    expect(wrong).toEqual([]);
  });

  it('maps US state names and DC only in the US (or when the country is unknown)', () => {
    expect(normalize('ST', 'New York', { country: 'US' })).toBe('ny');
    expect(normalize('ST', 'District of Columbia')).toBe('dc');
    expect(normalize('ST', 'n.y.', { country: 'us' })).toBe('ny');
    expect(normalize('ST', 'Atlantis', { country: 'US' })).toBe('');
    expect(normalize('ST', 'Québec', { country: 'CA' })).toBe('quebec');
    expect(normalize('ST', 'Georgia', { country: 'GE' })).toBe('georgia');
  });

  it.each([
    ['94105-1234', 'US', '94105'],
    ['941051234', 'US', '94105'],
    ['94105', undefined, '94105'],
    ['94105-1234', undefined, '94105'],
    ['ABCDE', 'US', ''],
    ['SW1A 1AA', 'GB', 'sw1a1aa'],
    ['m1 1ae', undefined, 'm11ae'],
    ['H2X 1Y4', 'CA', 'h2x1y4'],
    ['01310-100', 'BR', '01310100'],
  ] as const)('ZIP %j in %s → %j', (input, country, expected) => {
    expect(normalize('ZIP', input, country === undefined ? undefined : { country })).toBe(expected);
  });

  it('restores leading zeros of a US ZIP stored as a number', () => {
    expect(normalize('ZIP', 2134, { country: 'US' })).toBe('02134');
    expect(normalize('ZIP', 2134, { country: 'DE' })).toBe('2134');
  });

  it('folds accents in cities and drops non-letters', () => {
    expect(normalize('CT', 'Saint-Étienne')).toBe('saintetienne');
    expect(normalize('CT', 'Köln 50667')).toBe('koln');
    expect(normalize('CT', 'Straßburg')).toBe('strassburg');
  });
});

describe('dates of birth', () => {
  const ymd = (d: { DOBY: string; DOBM: string; DOBD: string }): string => `${d.DOBY}-${d.DOBM}-${d.DOBD}`;

  it.each([
    ['1990-01-15', '1990-01-15'],
    ['1990/1/5', '1990-01-05'],
    ['1990-01-15T10:30:00Z', '1990-01-15'],
    ['19900115', '1990-01-15'],
    ['15/01/1990', '1990-01-15'],
    ['01/15/1990', '1990-01-15'],
    ['15.01.1990', '1990-01-15'],
    ['Jan 15 1990', '1990-01-15'],
    ['January 15th, 1990', '1990-01-15'],
    ['15 January 1990', '1990-01-15'],
    ['15-Jan-1990', '1990-01-15'],
    ['29/02/1992', '1992-02-29'],
    ['29/02/1991', '--'],
    ['31/04/1990', '--'],
    ['1899-12-31', '--'],
    ['3000-01-01', '--'],
    ['15/01/90', '--'],
    ['yesterday', '--'],
  ])('%j → %j', (input, expected) => expect(ymd(normalizeDateOfBirth(input))).toBe(expected));

  it('resolves dd/mm against mm/dd by the row country, and keeps only the year when unknown', () => {
    expect(ymd(normalizeDateOfBirth('05/06/1990', { country: 'US' }))).toBe('1990-05-06');
    expect(ymd(normalizeDateOfBirth('05/06/1990', { country: 'GB' }))).toBe('1990-06-05');
    expect(ymd(normalizeDateOfBirth('05/06/1990', { defaultCountry: 'DE' }))).toBe('1990-06-05');
    expect(ymd(normalizeDateOfBirth('05/06/1990'))).toBe('1990--');
    expect(ymd(normalizeDateOfBirth('05/05/1990'))).toBe('1990-05-05');
  });

  it('reads Date objects at UTC midnight in UTC and others in local time', () => {
    expect(ymd(normalizeDateOfBirth(new Date('1990-01-15')))).toBe('1990-01-15');
    expect(ymd(normalizeDateOfBirth(new Date(1990, 0, 15)))).toBe('1990-01-15');
    expect(ymd(normalizeDateOfBirth(new Date(Number.NaN)))).toBe('--');
  });

  it('normalises DOBY, DOBM and DOBD from parts or from a full date', () => {
    expect(normalize('DOBY', 1990)).toBe('1990');
    expect(normalize('DOBY', '1990-01-15')).toBe('1990');
    expect(normalize('DOBY', '1850')).toBe('');
    expect(normalize('DOBM', 'Sept')).toBe('09');
    expect(normalize('DOBM', '13')).toBe('');
    expect(normalize('DOBM', '15/01/1990')).toBe('01');
    expect(normalize('DOBD', 31)).toBe('31');
    expect(normalize('DOBD', '32')).toBe('');
    expect(normalize('DOBD', '0')).toBe('');
    expect(normalize('DOBD', new Date('1990-01-15'))).toBe('15');
  });
});

describe('hashCell', () => {
  it('hashes hashed keys and passes MADID and EXTERN_ID through', () => {
    expect(hashCell('FN', 'john')).toBe(sha256('john'));
    expect(hashCell('MADID', 'ab12cd-e345-fg67')).toBe('ab12cd-e345-fg67');
    expect(hashCell('EXTERN_ID', 'user-1')).toBe('user-1');
  });

  it('never hashes the empty string', () => {
    for (const key of FACEBOOK_KEYS) expect(hashCell(key, '')).toBe('');
  });

  it('passes declared pre-hashed values through lowercased, and refuses anything else', () => {
    const hex = sha256('mary@example.com');
    expect(hashCell('EMAIL', hex.toUpperCase(), { prehashed: true })).toBe(hex);
    expect(hashCell('EMAIL', ` ${hex} `, { prehashed: true })).toBe(hex);
    expect(hashCell('EMAIL', 'mary@example.com', { prehashed: true })).toBe('');
    expect(hashCell('EMAIL', hex.slice(0, 32), { prehashed: true })).toBe('');
    expect(hashCell('EMAIL', '', { prehashed: true })).toBe('');
  });
});

describe('garbage never throws', () => {
  const garbage: unknown[] = [
    null,
    undefined,
    Number.NaN,
    Number.POSITIVE_INFINITY,
    -0,
    1e21,
    0.5,
    true,
    false,
    {},
    { toString: () => 'john@example.com' },
    [],
    ['john@example.com'],
    new Map(),
    Symbol('x'),
    () => 'x',
    10n,
    new Date('invalid'),
    Object.create(null),
    'x'.repeat(1_000_000),
    '\u0000\uffff\ud800',
    '   \t\n ',
    '🙂🙂🙂',
  ];
  it.each(FACEBOOK_KEYS)('%s', (key: FacebookKey) => {
    for (const value of garbage) {
      const out = normalize(key, value, { country: value as string, defaultCountry: 'US' });
      expect(typeof out).toBe('string');
      expect(() => hashCell(key, out)).not.toThrow();
    }
    expect(normalize(key, { toString: () => 'john@example.com' })).toBe('');
    expect(normalize(key, 'x'.repeat(1_000_000))).toBe('');
  });
});
