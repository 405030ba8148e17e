import { describe, expect, it } from 'vitest';
import { normalizePhone, normalizePhoneByFastPath, normalizePhoneByParsing } from '../../src/domain/phone.js';
import { generateDemoProfile } from '../../src/demo/demo-profiles.js';
import { normalizeCountry } from '../../src/domain/location.js';
import { randomDigits, seededRandom } from '../support/seeded-random.js';

const REGIONS = [undefined, 'us', 'ca', 'gb', 'de', 'fr', 'br'];

/** One national number written every way the fast paths read (and a few they must leave alone). */
function shapesOf(callingCode: string, national: string): string[] {
  const [head, tail] = [national.slice(0, 3), national.slice(3)];
  const spaced = national.replace(/(\d{2})(?=\d)/g, '$1 ');
  return [
    `0${national}`,
    `0${head} ${tail}`,
    `(0${head}) ${tail}`,
    `0${spaced}`,
    ` 0${head}-${tail}.`,
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
    `0${head}\u00a0${tail}`,
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
    // The demo's North American and Western European numbers take the fast path (about 74% of them; its Japanese,
    // Chinese, Emirati, Brazilian... ones are parsed): the sample must mostly take it, or it proves little.
    expect(fastInOwnCountry / sample.length).toBeGreaterThan(0.7);
    const phones = sample.map(([phone]) => phone);
    agree(phones.flatMap((text) => REGIONS.map((region) => [text, region] as const)));
  });

  it.each(['44', '49', '33', '1'])(
    'agrees for calling code %s on numbers of every length and leading digits, in every shape',
    (callingCode) => {
      const random = seededRandom(Number(callingCode));
      const texts: string[] = [];
      for (let length = 4; length <= 15; length++) {
        for (let lead = 0; lead < 100; lead++) {
          const national = `${String(lead).padStart(2, '0')}${randomDigits(random, length - 2)}`;
          texts.push(...shapesOf(callingCode, national));
        }
      }
      // GB's text-relay prefix is stripped again after +44; keep it on the plain path.
      for (const relay of ['180020', '18002', '1800'])
        texts.push(...shapesOf(callingCode, `${relay}${randomDigits(random, 10 - relay.length)}`));
      texts.push(
        `0${randomDigits(random, 10)}${' '.repeat(60)}`,
        `${' '.repeat(30)}0${randomDigits(random, 5)}${' '.repeat(30)}${randomDigits(random, 5)}`,
      );
      const cases = texts.flatMap((text) => REGIONS.map((region) => [text, region] as const));
      const fast = agree(cases);
      expect(cases.length).toBeGreaterThan(100_000);
      expect(fast).toBeGreaterThan(cases.length / 20);
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
    ] as const;
    for (const [text, region, e164] of cases) {
      expect(normalizePhoneByFastPath(text, region)).toBe(e164);
      expect(normalizePhoneByParsing(text, region)).toBe(e164);
    }
    expect(normalizePhoneByFastPath('+55 11 91234-5678', 'br')).toBeUndefined();
  });
});
