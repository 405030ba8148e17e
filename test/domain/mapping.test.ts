import { describe, expect, it } from 'vitest';
import { AttributeMappingSchema, mappedAttributes, validateMapping } from '../../src/domain/mapping.js';
import { hasConsent } from '../../src/domain/consent.js';

describe('validateMapping', () => {
  it('accepts a mapping that covers its key identifier', () => {
    expect(validateMapping('EMAIL', { EMAIL: { attribute: 'email' } })).toEqual([]);
    expect(
      validateMapping('NAME_ADDRESS', {
        FN: { attribute: 'f' },
        LN: { attribute: 'l' },
        COUNTRY: { attribute: 'c' },
        CT: { attribute: 'city' },
        ST: { attribute: 'state' },
      }),
    ).toEqual([]);
  });

  it('names every missing or conflicting field', () => {
    expect(validateMapping('PHONE', { EMAIL: { attribute: 'email' } }).map((p) => p.field)).toEqual(['mapping.PHONE']);
    expect(
      validateMapping('NAME_ADDRESS', { FN: { attribute: 'f' }, CT: { attribute: 'c' } }).map((p) => p.field),
    ).toEqual(['mapping.LN', 'mapping.COUNTRY', 'mapping.ZIP']);
    const problems = validateMapping('EMAIL', {
      EMAIL: { attribute: 'email' },
      DOB: { attribute: 'dob', prehashed: true },
      DOBY: { attribute: 'year' },
      MADID: { attribute: 'madid', prehashed: true },
    });
    expect(problems.map((p) => p.field)).toEqual(['mapping.DOBY', 'mapping.DOB', 'mapping.MADID.prehashed']);
    expect(validateMapping('NOPE' as 'EMAIL', {})).toEqual([{ field: 'keyIdentifier', message: expect.any(String) }]);
  });
});

describe('AttributeMappingSchema', () => {
  it('parses mappings and rejects unknown keys and empty attributes', () => {
    expect(AttributeMappingSchema.parse({ EMAIL: { attribute: ' email ' }, DOB: { attribute: 'dob' } })).toEqual({
      EMAIL: { attribute: 'email' },
      DOB: { attribute: 'dob' },
    });
    expect(AttributeMappingSchema.safeParse({ EMAILS: { attribute: 'email' } }).success).toBe(false);
    expect(AttributeMappingSchema.safeParse({ EMAIL: { attribute: '' } }).success).toBe(false);
    expect(AttributeMappingSchema.safeParse({ EMAIL: 'email' }).success).toBe(false);
  });
});

describe('mappedAttributes', () => {
  it('lists distinct attributes with consent last', () => {
    expect(
      mappedAttributes({ EMAIL: { attribute: 'email' }, FN: { attribute: 'name' }, LN: { attribute: 'name' } }, 'ok'),
    ).toEqual(['email', 'name', 'ok']);
    expect(mappedAttributes({ EMAIL: { attribute: 'email' } }, 'email')).toEqual(['email']);
  });
});

describe('hasConsent', () => {
  it.each([true, 1, 'true', ' YES ', 'y', '1', 'opt-in', 'opted_in', 'granted'])('%j is consent', (value) => {
    expect(hasConsent(value)).toBe(true);
  });
  it.each([false, 0, 2, 'no', 'false', 'opted_out', '', null, undefined, {}, ['yes']])('%j is not', (value) => {
    expect(hasConsent(value)).toBe(false);
  });
});
