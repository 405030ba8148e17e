import { describe, expect, it } from 'vitest';
import { normalizePhone, normalizePhoneByFastPath, normalizePhoneByParsing } from '../../src/domain/phone.js';
import { generateDemoProfile } from '../../src/demo/demo-profiles.js';
import { normalizeCountry } from '../../src/domain/location.js';
import { randomDigits, seededRandom } from '../support/seeded-random.js';

const REGIONS = [undefined, 'us', 'ca', 'gb', 'de', 'fr', 'br'] as const;

/** One national number written every way the fast paths read (and a few they must leave alone). */
function shapesOf(callingCode: string, national: string, trunk = '0'): string[] {
  const [head, tail] = [national.slice(0, 3), national.slice(3)];
  const spaced = national.replace(/(\d{2})(?=\d)/g, '$1 ');
  return [
    `${trunk}${national}`,
    `${trunk}${head} ${tail}`,
    `(${trunk}${head}) ${tail}`,
    `${trunk}${spaced}`,
    ` ${trunk}${head}-${tail}.`,
    `+${callingCode}${national}`,
    `+${callingCode} ${head} ${tail}`,
    ` + ${callingCode} ${spaced} `,
    `00${callingCode} ${national}`,
    `+00${callingCode}${national}`,
    `011 ${callingCode} ${head} ${tail}`,
    `+${callingCode} (0) ${head} ${tail}`,
    `+(${callingCode}) ${national}`,
    `0 0${callingCode}${national}`,
    `${callingCode}${national}`,
    `+${callingCode}.${head}..${tail}`,
    `${trunk}${head}\u00a0${tail}`,
    // A trunk prefix other than 0 leaves 0 and the country's own international prefixes to try.
    ...(trunk === '0' ? [] : [`0${national}`, `${trunk}${trunk}${national}`]),
    `010 ${callingCode} ${national}`,
    `810 ${callingCode}${national}`,
  ];
}

/** Every case gives the same cell both ways; returns how many the fast path answered alone. */
function agree(cases: ReadonlyArray<readonly [string, string | undefined]>): number {
  const fast = cases.map(([text, region]) => `${text} in ${region} → ${normalizePhone(text, region)}`);
  const plain = cases.map(([text, region]) => `${text} in ${region} → ${normalizePhoneByParsing(text, region)}`);
  expect(fast).toEqual(plain);
  return cases.filter(([text, region]) => normalizePhoneByFastPath(text, region) !== undefined).length;
}

describe('phone fast paths give byte-identical results to full parsing', () => {
  it('agrees on every phone of a generated sample, in its own country and in every other', () => {
    // Each phone in its profile's country, or the export's default (US) without one, as the row encoder reads it.
    const sample = Array.from({ length: 20_000 }, (_, index) => generateDemoProfile(index + 1, 5).attributes).flatMap(
      ({ phone, country }) => (phone === null ? [] : [[phone, normalizeCountry(country ?? '') || 'us'] as const]),
    );
    const fastInOwnCountry = agree(sample);
    // Most of the demo's numbers take the fast path (about 91%; its Chinese, Brazilian and impossible ones are
    // parsed): the sample must mostly take it, or it proves little.
    expect(fastInOwnCountry / sample.length).toBeGreaterThan(0.9);
    const phones = sample.map(([phone]) => phone);
    agree(phones.flatMap((text) => REGIONS.map((region) => [text, region] as const)));
  });

  it.each([
    ['44', '0', REGIONS],
    ['49', '0', REGIONS],
    ['33', '0', REGIONS],
    ['1', '0', REGIONS],
    // Each in its own region, beside no region, North America and a trunk-0 country.
    ['34', '', [undefined, 'us', 'de', 'es']],
    ['30', '', [undefined, 'us', 'de', 'gr']],
    ['81', '0', [undefined, 'us', 'de', 'jp']],
    ['971', '0', [undefined, 'us', 'de', 'ae']],
    ['7', '8', [undefined, 'us', 'de', 'ru', 'kz']],
  ] as const)(
    'agrees for calling code %s (trunk %j) on numbers of every length and leading digits, in every shape',
    (callingCode, trunk, regions) => {
      const random = seededRandom(Number(callingCode));
      const texts: string[] = [];
      for (let length = 4; length <= 15; length++) {
        for (let lead = 0; lead < 100; lead++) {
          const national = `${String(lead).padStart(2, '0')}${randomDigits(random, length - 2)}`;
          texts.push(...shapesOf(callingCode, national, trunk));
        }
      }
      // GB's text-relay prefix is stripped again after +44; keep it on the plain path.
      for (const relay of ['180020', '18002', '1800'])
        texts.push(...shapesOf(callingCode, `${relay}${randomDigits(random, 10 - relay.length)}`, trunk));
      texts.push(
        `${trunk}${randomDigits(random, 10)}${' '.repeat(60)}`,
        `${' '.repeat(30)}${trunk}${randomDigits(random, 5)}${' '.repeat(30)}${randomDigits(random, 5)}`,
      );
      const cases = texts.flatMap((text) => regions.map((region) => [text, region] as const));
      const fast = agree(cases);
      expect(cases.length).toBeGreaterThan(80_000);
      expect(fast).toBeGreaterThan(cases.length / 40);
    },
  );

  it('answers the demo shapes on the fast path alone', () => {
    const cases = [
      ['07911 123456', 'gb', '447911123456'],
      ['+44 20 7946 0958', 'us', '442079460958'],
      ['0044 7911123456', 'de', '447911123456'],
      ['0161 496 0000', 'gb', '441614960000'],
      ['089 1234567', 'de', '49891234567'],
      ['+49 89 1234567', undefined, '49891234567'],
      ['0049 151 12345678', 'fr', '4915112345678'],
      ['06 12 34 56 78', 'fr', '33612345678'],
      ['+33 1 23456789', 'gb', '33123456789'],
      ['011 1 212 555 1234', 'us', '12125551234'],
      ['011 1 212 555 1234', undefined, ''], // 011 is international only in North America
      ['(212) 555-1234', 'ca', '12125551234'],
      ['612 345 678', 'es', '34612345678'],
      ['+34 612 345 678', 'us', '34612345678'],
      ['2101234567', 'gr', '302101234567'],
      ['090-1234-5678', 'jp', '819012345678'],
      ['+81 3-1234-5678', undefined, '81312345678'],
      ['050 123 4567', 'ae', '971501234567'],
      ['00971 501234567', 'gb', '971501234567'],
      ['8 (495) 1234567', 'ru', '74951234567'],
      ['+7 916 1234567', 'de', '79161234567'],
    ] as const;
    for (const [text, region, e164] of cases) {
      expect(normalizePhoneByFastPath(text, region)).toBe(e164);
      expect(normalizePhoneByParsing(text, region)).toBe(e164);
    }
    expect(normalizePhoneByFastPath('+55 11 91234-5678', 'br')).toBeUndefined();
    expect(normalizePhoneByFastPath('138 1234 5678', 'cn')).toBeUndefined();
    // Dialled abroad from Japan and Russia: libphonenumber reads these prefixes, so the fast path leaves them.
    expect(normalizePhoneByFastPath('010 44 20 7946 0958', 'jp')).toBeUndefined();
    expect(normalizePhoneByFastPath('810 44 20 7946 0958', 'ru')).toBeUndefined();
  });
});
