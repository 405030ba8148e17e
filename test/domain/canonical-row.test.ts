import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { buildRows, CANONICAL_SCHEMA, DropReason } from '../../src/domain/canonical-row.js';
import type { AttributeMapping } from '../../src/domain/mapping.js';

const sha256 = (text: string): string => createHash('sha256').update(text).digest('hex');

const FULL_MAPPING: AttributeMapping = {
  EXTERN_ID: { attribute: 'id' },
  EMAIL: { attribute: 'email' },
  PHONE: { attribute: 'phone' },
  DOB: { attribute: 'dob' },
  LN: { attribute: 'ln' },
  FN: { attribute: 'fn' },
  GEN: { attribute: 'gen' },
  CT: { attribute: 'ct' },
  ST: { attribute: 'st' },
  ZIP: { attribute: 'zip' },
  COUNTRY: { attribute: 'country' },
  MADID: { attribute: 'madid' },
};

const SEGMENT_ROW = {
  id: 'user-full',
  email: 'user1@example.com',
  phone: '+1-555-123-4567',
  dob: '1990-01-15',
  ln: 'Doe',
  fn: 'John',
  gen: 'male',
  ct: 'San Francisco',
  st: 'California',
  zip: '92000',
  country: 'US',
  madid: 'AB12CD-E345-FG67',
};

describe('buildRows', () => {
  it("reproduces reference 4.2's fully worked row hash for hash", () => {
    const built = buildRows([{ key: 'p-1', attributes: SEGMENT_ROW }], FULL_MAPPING, { keyIdentifier: 'EMAIL' });
    expect(built.schema).toEqual(CANONICAL_SCHEMA);
    expect(built.rows).toEqual([
      {
        profileKey: 'p-1',
        cells: [
          'user-full',
          'b36a83701f1c3191e19722d6f90274bc1b5501fe69ebf33313e440fe4b0fe210',
          'd6736136ea896c1bfdc553e0e86e702c70d060d805696ca3e4e9e0961353860a',
          'a7be8e1fe282a37cd666e0632b17d933fa13f21addf4798fc0455bc166e2488c',
          '938db8c9f82c8cb58d3f3ef4fd250036a48d26a712753d2fde5abd03a85cabf4',
          'e629fa6598d732768f7c726b4b621285f9c3b85303900aa912017db7617d8bdb',
          '799ef92a11af918e3fb741df42934f3b568ed2d93ac1df74f1b8d41a27932a6f',
          '96d9632f363564cc3032521409cf22a852f2032eec099ed5967c0d000cec607a',
          '189f40034be7a199f1fa9891668ee3ab6049f82d38c68be70f596eab2e1857b7',
          '62c66a7a5dd70c3146618063c344e531e6d4b59e379808443ce962b3abd63c5a',
          '1a6bd4d9d79dc0a79b53795c70d3349fa9e38968a3fbefbfe8783efb1d2b6aac',
          '6959097001d10501ac7d54c0bdb8db61420f658f2922cc26e46d536119a31126',
          'ad16c1a6866c5887c5b59c1803cb1fc09769f1b403b6f1d9d0f10ad6ab4d5d50',
          '79adb2a2fce5c6ba215fe5f27f532d4e7edbac4b6a5e09e1ef3a08084a904621',
          'ab12cd-e345-fg67',
          [],
          0,
          0,
        ],
      },
    ]);
    expect(built.dropped).toEqual([]);
  });

  it('keeps the same 18 columns whatever is mapped, blank where unmapped', () => {
    const built = buildRows(
      [{ key: 'p-1', attributes: SEGMENT_ROW }],
      { EMAIL: { attribute: 'email' } },
      {
        keyIdentifier: 'EMAIL',
      },
    );
    const cells = built.rows[0]!.cells;
    expect(cells).toHaveLength(CANONICAL_SCHEMA.length);
    expect(cells.filter((cell) => cell !== '')).toEqual([
      'b36a83701f1c3191e19722d6f90274bc1b5501fe69ebf33313e440fe4b0fe210',
      [],
      0,
      0,
    ]);
  });

  it('flags Limited Data Use with country and state 0 so Meta geolocates', () => {
    const built = buildRows([{ key: 'p-1', attributes: SEGMENT_ROW }], FULL_MAPPING, {
      keyIdentifier: 'EMAIL',
      limitedDataUse: true,
    });
    expect(built.rows[0]!.cells.slice(-3)).toEqual([['LDU'], 0, 0]);
  });

  it('drops profiles with the reason, counted per reason, and never throws on garbage', () => {
    const profiles = [
      { key: 'ok', attributes: { email: 'a@example.com', consent: 'yes' } },
      { key: 'missing', attributes: { email: '  ', consent: true } },
      { key: 'invalid', attributes: { email: 'not-an-email', consent: 'opted_in' } },
      { key: 'garbage', attributes: { email: { nested: ['x'] }, consent: 1 } },
      { key: 'no-consent', attributes: { email: 'b@example.com', consent: 'no' } },
      { key: 'no-consent-field', attributes: { email: 'c@example.com' } },
      { key: 'empty', attributes: {} },
    ];
    const built = buildRows(
      profiles,
      { EMAIL: { attribute: 'email' } },
      {
        keyIdentifier: 'EMAIL',
        consentAttribute: 'consent',
      },
    );
    expect(built.rows.map((row) => row.profileKey)).toEqual(['ok']);
    expect(built.dropped).toEqual([
      { profileKey: 'missing', reason: 'key_identifier_missing' },
      { profileKey: 'invalid', reason: 'key_identifier_invalid' },
      { profileKey: 'garbage', reason: 'key_identifier_invalid' },
      { profileKey: 'no-consent', reason: 'no_consent' },
      { profileKey: 'no-consent-field', reason: 'no_consent' },
      { profileKey: 'empty', reason: 'no_consent' },
    ]);
    expect(built.droppedByReason).toEqual({
      [DropReason.KEY_IDENTIFIER_MISSING]: 1,
      [DropReason.KEY_IDENTIFIER_INVALID]: 2,
      [DropReason.NO_CONSENT]: 3,
      [DropReason.NO_USABLE_CELL]: 0,
      [DropReason.PHONE_COUNTRY_UNKNOWN]: 0,
      [DropReason.PLAINTEXT_LOOKS_PERSONAL]: 0,
      [DropReason.ERASED]: 0,
    });
  });

  it('never guesses a phone’s country: without one, a national phone is dropped as phone_country_unknown', () => {
    const profiles = [
      { key: 'boston', attributes: { phone: '617.332.1387' } },
      { key: 'moscow', attributes: { phone: '8 (495) 951-28-88' } },
      { key: 'moscow-named', attributes: { phone: '8 (495) 951-28-88', country: 'Россия' } },
      { key: 'plus', attributes: { phone: '+1 617 332 1387' } },
      { key: 'double-zero', attributes: { phone: '0044 20 7946 0958', country: 'Atlantis' } },
      { key: 'number', attributes: { phone: 6173321387 } },
      { key: 'short-international', attributes: { phone: '+1 617' } },
      { key: 'blank', attributes: { phone: ' ' } },
    ];
    const mapping: AttributeMapping = { PHONE: { attribute: 'phone' }, COUNTRY: { attribute: 'country' } };
    const built = buildRows(profiles, mapping, { keyIdentifier: 'PHONE' });
    const phoneColumn = CANONICAL_SCHEMA.indexOf('PHONE');
    expect(built.rows.map((row) => [row.profileKey, row.cells[phoneColumn]])).toEqual([
      ['moscow-named', sha256('74959512888')],
      ['plus', sha256('16173321387')],
      ['double-zero', sha256('442079460958')],
    ]);
    expect(built.dropped).toEqual([
      { profileKey: 'boston', reason: 'phone_country_unknown' },
      { profileKey: 'moscow', reason: 'phone_country_unknown' },
      { profileKey: 'number', reason: 'phone_country_unknown' },
      { profileKey: 'short-international', reason: 'key_identifier_invalid' },
      { profileKey: 'blank', reason: 'key_identifier_missing' },
    ]);
    expect(built.droppedByReason[DropReason.PHONE_COUNTRY_UNKNOWN]).toBe(3);
    // With a default country the same phones are read in it; as a second key they leave only their own cell blank.
    const withDefault = buildRows(profiles, mapping, { keyIdentifier: 'PHONE', defaultCountry: 'US' });
    expect(withDefault.droppedByReason[DropReason.PHONE_COUNTRY_UNKNOWN]).toBe(0);
    expect(withDefault.rows.find((row) => row.profileKey === 'boston')!.cells[phoneColumn]).toBe(sha256('16173321387'));
    const asSecondKey = buildRows(
      [{ key: 'boston', attributes: { email: 'a@example.com', phone: '617.332.1387' } }],
      { ...mapping, EMAIL: { attribute: 'email' } },
      { keyIdentifier: 'EMAIL' },
    );
    expect(asSecondKey.rows[0]!.cells[phoneColumn]).toBe('');
  });

  it('requires name, country and ZIP or city + state for NAME_ADDRESS', () => {
    const mapping: AttributeMapping = { ...FULL_MAPPING };
    const base = { fn: 'John', ln: 'Doe', country: 'US' };
    const built = buildRows(
      [
        { key: 'zip', attributes: { ...base, zip: '92000' } },
        { key: 'city-state', attributes: { ...base, ct: 'San Francisco', st: 'CA' } },
        { key: 'city-only', attributes: { ...base, ct: 'San Francisco' } },
        { key: 'no-country', attributes: { fn: 'John', ln: 'Doe', zip: '92000' } },
        { key: 'bad-country', attributes: { ...base, country: 'Atlantis', zip: '92000' } },
        { key: 'bad-zip', attributes: { ...base, zip: 'nope' } },
      ],
      mapping,
      { keyIdentifier: 'NAME_ADDRESS' },
    );
    expect(built.rows.map((row) => row.profileKey)).toEqual(['zip', 'city-state']);
    expect(built.dropped).toEqual([
      { profileKey: 'city-only', reason: 'key_identifier_missing' },
      { profileKey: 'no-country', reason: 'key_identifier_missing' },
      { profileKey: 'bad-country', reason: 'key_identifier_invalid' },
      { profileKey: 'bad-zip', reason: 'key_identifier_invalid' },
    ]);
  });

  it('uses the row country, then the default, for phones; derives FI from FN', () => {
    const built = buildRows(
      [
        { key: 'gb', attributes: { phone: '07911 123456', country: 'United Kingdom', fn: 'Élodie' } },
        { key: 'default', attributes: { phone: '(202) 555-0123' } },
      ],
      { PHONE: { attribute: 'phone' }, COUNTRY: { attribute: 'country' }, FN: { attribute: 'fn' } },
      { keyIdentifier: 'PHONE', defaultCountry: 'US' },
    );
    expect(built.rows).toHaveLength(2);
    const phoneColumn = CANONICAL_SCHEMA.indexOf('PHONE');
    const fiColumn = CANONICAL_SCHEMA.indexOf('FI');
    const [gb, fallback] = built.rows;
    expect(gb!.cells[phoneColumn]).toBe(sha256('447911123456'));
    expect(gb!.cells[fiColumn]).toBe(sha256('é'));
    expect(fallback!.cells[fiColumn]).toBe('');
    expect(fallback!.cells[phoneColumn]).toBe(sha256('12025550123'));
  });

  it('passes declared pre-hashed columns through and treats bad ones as invalid', () => {
    const hex = 'F1904CF1A9D73A55FA5DE0AC823C4403DED71AFD4C3248D00BDCD0866552BB79';
    const built = buildRows(
      [
        { key: 'hashed', attributes: { email_sha: hex } },
        { key: 'plain', attributes: { email_sha: 'mary@example.com' } },
      ],
      { EMAIL: { attribute: 'email_sha', prehashed: true } },
      { keyIdentifier: 'EMAIL' },
    );
    expect(built.rows[0]!.cells[1]).toBe(hex.toLowerCase());
    expect(built.dropped).toEqual([{ profileKey: 'plain', reason: 'key_identifier_invalid' }]);
  });
});
