import { describe, expect, it } from 'vitest';
import { buildRows, CANONICAL_SCHEMA } from '../../src/domain/canonical-row.js';
import { isHashedKey, type FacebookKey } from '../../src/domain/facebook-keys.js';
import { normalize, normalizeDateOfBirth } from '../../src/domain/normalize.js';
import { normalizePhone, normalizePhoneByParsing } from '../../src/domain/phone.js';
import { sha256Hex } from '../../src/domain/sha256.js';
import { sha256HexByStream } from '../support/plain-paths.js';
import { DEMO_MAPPING, generateDemoProfile } from '../../src/demo/demo-profiles.js';

const SAMPLE_SIZE = 20_000;
const profiles = Array.from({ length: SAMPLE_SIZE }, (_, index) => generateDemoProfile(index, 7));

const OPTIONS = { keyIdentifier: 'EMAIL', defaultCountry: 'US', consentAttribute: 'marketing_consent' } as const;

describe('fast paths give byte-identical results', () => {
  it('generates the same profiles for the same seed, and others for another', () => {
    expect(generateDemoProfile(42, 7)).toEqual(profiles[42]);
    expect(generateDemoProfile(42, 7).key).toBe('cust-0000000042');
    expect(generateDemoProfile(42, 8)).not.toEqual(profiles[42]);
  });

  it('crypto.hash equals createHash', () => {
    const texts = profiles.flatMap(({ attributes }) => Object.values(attributes).map(String));
    expect(texts.map(sha256Hex)).toEqual(texts.map(sha256HexByStream));
  });

  it('the North American phone fast path equals full parsing', () => {
    const regions = [undefined, 'us', 'ca', 'jm', 'pr', 'gb', 'de'];
    const shapes: string[] = profiles.flatMap(({ attributes }) =>
      attributes.phone === null ? [] : [attributes.phone],
    );
    // Every leading digit of area code and exchange, written in the common shapes, with and without 1 and +.
    for (let a = 0; a <= 9; a++) {
      for (let e = 0; e <= 9; e++) {
        const n = `${a}${(a * 7) % 10}${e}${e}${a}${e}5${a}1${e}`;
        const [area, exchange, line] = [n.slice(0, 3), n.slice(3, 6), n.slice(6)];
        shapes.push(n, `1${n}`, `+1${n}`, `+${n}`, `(${area}) ${exchange}-${line}`, `1-${area}-${exchange}-${line}`);
        shapes.push(`+1 (${area}) ${exchange}.${line}`, ` ${area} ${exchange} ${line} `, `+1 ${n}0`, `1 ${n.slice(1)}`);
      }
    }
    const cases = shapes.flatMap((text) => regions.map((region) => [text, region] as const));
    const fast = cases.map(([text, region]) => `${text} in ${region} → ${normalizePhone(text, region)}`);
    const plain = cases.map(([text, region]) => `${text} in ${region} → ${normalizePhoneByParsing(text, region)}`);
    expect(fast).toEqual(plain);
    expect(cases.length).toBeGreaterThan(100_000);
  });

  it('buildRows (caches, fast hash, fast phone) equals the plain normalize + createHash path', () => {
    const fast = buildRows(profiles, DEMO_MAPPING, OPTIONS);
    const plain = buildRows(profiles, DEMO_MAPPING, OPTIONS, {
      cache: false,
      hash: sha256HexByStream,
      phone: normalizePhoneByParsing,
    });
    expect(fast).toEqual(plain);
    // Again with warm caches: hits must give what misses gave.
    expect(buildRows(profiles, DEMO_MAPPING, OPTIONS)).toEqual(fast);
    // The demo data: about 55% consent and 7% lack an e-mail, so about half the sample is compared row by row.
    expect(fast.rows.length).toBeGreaterThan(SAMPLE_SIZE * 0.45);

    // And cell by cell against the public one-value functions, independent of the row encoder.
    const columns = new Map<string, number>(CANONICAL_SCHEMA.map((name, index) => [name, index]));
    const byKey = new Map(fast.rows.map((row) => [row.profileKey, row.cells]));
    for (const { key, attributes } of profiles) {
      const cells = byKey.get(key);
      if (cells === undefined) continue;
      const context = { country: attributes.country ?? undefined, defaultCountry: 'US' };
      const expected = (facebookKey: FacebookKey, normalized: string): string =>
        normalized === '' || !isHashedKey(facebookKey) ? normalized : sha256HexByStream(normalized);
      for (const [facebookKey, attribute] of Object.entries(DEMO_MAPPING)) {
        if (facebookKey === 'DOB') continue;
        const k = facebookKey as FacebookKey;
        expect(cells[columns.get(k)!]).toBe(
          expected(k, normalize(k, (attributes as Record<string, unknown>)[attribute.attribute], context)),
        );
      }
      const dob = normalizeDateOfBirth(attributes.date_of_birth, context);
      for (const part of ['DOBY', 'DOBM', 'DOBD'] as const) {
        expect(cells[columns.get(part)!]).toBe(expected(part, dob[part]));
      }
      const initial = normalize('FI', attributes.first_name);
      expect(cells[columns.get('FI')!]).toBe(expected('FI', initial));
    }
  });
});
