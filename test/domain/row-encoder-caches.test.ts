import { describe, expect, it } from 'vitest';
import { BENCH_MAPPING } from '../../bench/lib/expected-sample.js';
import { buildRows, type ProfileInput, type RowOptions } from '../../src/domain/canonical-row.js';
import type { AttributeMapping } from '../../src/domain/mapping.js';
import { normalizePhoneByParsing } from '../../src/domain/phone.js';
import { sha256HexByStream } from '../support/plain-paths.js';
import { generateDemoProfile } from '../../src/demo/demo-profiles.js';
import { randomInt, seededRandom } from '../support/seeded-random.js';

const PLAIN = { cache: false, hash: sha256HexByStream, phone: normalizePhoneByParsing } as const;

/** Values that once could share a memo key with another value that normalises differently, and other odd ones. */
const ODD_VALUES: readonly unknown[] = [
  2134, '2134', '02134', 941, 94105, '94105-1234', 1e21, '1e+21', -5, '-5', 1.5, '1.5', 0, '0', 1990, '1990',
  '1990-02-30', 12, '12', 'Jan', true, null, undefined, {}, ['x'], ' Mary ', 'MARY', 'Zoë', 'zoe\u0308', '\u0301abc',
  'Ελλάδα', 'US', 'us', 'U.S.', 'GB', 'de', 840, 'x'.repeat(65), 'Y'.repeat(600), 'CA', 'California', 'NY', '',
]; // prettier-ignore

const MAPPINGS: Record<string, AttributeMapping> = {
  'the benchmark (8 keys)': BENCH_MAPPING,
  'every key, DOB and FI derived': {
    EXTERN_ID: { attribute: 'key_copy' },
    EMAIL: { attribute: 'email' },
    PHONE: { attribute: 'phone' },
    DOB: { attribute: 'date_of_birth' },
    FN: { attribute: 'first_name' },
    LN: { attribute: 'last_name' },
    GEN: { attribute: 'gender' },
    CT: { attribute: 'city' },
    ST: { attribute: 'state' },
    ZIP: { attribute: 'zip' },
    COUNTRY: { attribute: 'country' },
    MADID: { attribute: 'madid' },
  },
  'FI mapped, COUNTRY pre-hashed': {
    EMAIL: { attribute: 'email' },
    FN: { attribute: 'first_name' },
    FI: { attribute: 'last_name' },
    ST: { attribute: 'state' },
    ZIP: { attribute: 'zip' },
    COUNTRY: { attribute: 'country', prehashed: true },
  },
  'no country attribute': {
    EMAIL: { attribute: 'email' },
    FN: { attribute: 'first_name' },
    ZIP: { attribute: 'zip' },
    ST: { attribute: 'state' },
  },
};

const OPTIONS: Record<string, RowOptions> = {
  'US default, e-mail key': { keyIdentifier: 'EMAIL', defaultCountry: 'US' },
  'no default, name-and-address key, consent, LDU': {
    keyIdentifier: 'NAME_ADDRESS',
    consentAttribute: 'marketing_consent',
    limitedDataUse: true,
  },
};

/** Demo profiles (as PostgreSQL hands them over: parsed JSON) with odd values swapped into some attributes. */
function profiles(count: number): ProfileInput[] {
  const random = seededRandom(15);
  const int = (n: number): number => randomInt(random, n);
  return Array.from({ length: count }, (_, i) => {
    const demo = generateDemoProfile(i + 1, 3);
    const attributes: Record<string, unknown> = JSON.parse(JSON.stringify(demo.attributes)) as Record<string, unknown>;
    attributes.key_copy = demo.key;
    attributes.madid = int(4) === 0 ? ` AB12-${i} ` : null;
    for (const name of ['phone', 'first_name', 'last_name', 'gender', 'date_of_birth', 'city', 'state', 'zip']) {
      if (int(3) === 0) attributes[name] = ODD_VALUES[int(ODD_VALUES.length)];
    }
    if (int(6) === 0) attributes.country = ODD_VALUES[int(ODD_VALUES.length)];
    return { key: demo.key, attributes };
  });
}

describe('row encoder memo caches', () => {
  const sample = profiles(6_000);
  for (const [mappingName, mapping] of Object.entries(MAPPINGS)) {
    for (const [optionsName, options] of Object.entries(OPTIONS)) {
      it(`give the plain path's rows in any order: ${mappingName}, ${optionsName}`, () => {
        // Forwards, then backwards over warm caches: every value meets both a cold and a warm memo, after and
        // before its look-alikes (2134 and '2134', 1e21 and '1e+21').
        for (const order of [sample, [...sample].reverse()]) {
          expect(buildRows(order, mapping, options)).toEqual(buildRows(order, mapping, options, PLAIN));
        }
      });
    }
  }

  it('keeps a number and its text apart where their rules differ', () => {
    const mapping = MAPPINGS['every key, DOB and FI derived']!;
    const options = OPTIONS['US default, e-mail key']!;
    const row = (zip: unknown, firstName: unknown) => ({
      key: `k-${String(zip)}-${String(firstName)}`,
      attributes: { email: 'a@example.com', country: 'US', zip, first_name: firstName },
    });
    const pairs = [row(2134, 1e21), row('2134', '1e+21'), row(2134, 1e21)];
    const built = buildRows(pairs, mapping, options);
    expect(built).toEqual(buildRows(pairs, mapping, options, PLAIN));
    const [a, b, c] = built.rows.map((r) => r.cells);
    expect(a![12]).not.toBe(b![12]); // ZIP 02134 vs no ZIP (4 digits of text are no US ZIP)
    expect(a![7]).not.toBe(b![7]); // FN: 1e21 reads as nothing, '1e+21' as 'e'
    expect(c).toEqual(a);
  });
});
