import { describe, expect, it } from 'vitest';
import { buildRows, DropReason } from '../../src/domain/canonical-row.js';
import { plaintextMappingProblems } from '../../src/domain/mapping.js';
import { looksLikeContact } from '../../src/domain/plaintext-shape.js';

describe('values sent in clear (EXTERN_ID, MADID)', () => {
  it('tells e-mail addresses and written phone numbers from ids', () => {
    for (const contact of [
      'a@example.org',
      ' Jane.Doe+ads@mail.example.co.uk ',
      'id:jane@example.org',
      '+14155550100',
      '+44 20 7946 0958',
      '(415) 555-0100',
      '415-555-0100',
      '415.555.0100',
      '06 12 34 56 78',
      ' +33 6 12 34 56 78 ',
    ]) {
      expect(looksLikeContact(contact), contact).toBe(true);
    }
    for (const id of [
      'cust-0000000001',
      '6d92078a-8246-4ba4-ae5b-76104861e7dc',
      'AEBE52E7-03EE-455A-B3C4-E57283966239',
      // Bare digits: numeric customer ids are common and cannot be told from an unformatted number.
      '4155550100',
      '12-34',
      'user@tenant',
      '+123',
      '12345678-1234-1234-1234-123456789012',
    ]) {
      expect(looksLikeContact(id), id).toBe(false);
    }
  });

  it('drops a profile whose EXTERN_ID or MADID looks like contact details, with its own reason', () => {
    const mapping = { EMAIL: { attribute: 'email' }, EXTERN_ID: { attribute: 'id' }, MADID: { attribute: 'device' } };
    const built = buildRows(
      [
        {
          key: '1',
          attributes: { email: 'a@example.org', id: 'cust-1', device: '6d92078a-8246-4ba4-ae5b-76104861e7dc' },
        },
        { key: '2', attributes: { email: 'b@example.org', id: 'b@example.org', device: null } },
        { key: '3', attributes: { email: 'c@example.org', id: 'cust-3', device: '+14155550100' } },
      ],
      mapping,
      { keyIdentifier: 'EMAIL' },
    );
    expect(built.rows.map((r) => r.profileKey)).toEqual(['1']);
    expect(built.rows[0]!.cells[0]).toBe('cust-1');
    expect(built.dropped).toEqual([
      { profileKey: '2', reason: DropReason.PLAINTEXT_LOOKS_PERSONAL },
      { profileKey: '3', reason: DropReason.PLAINTEXT_LOOKS_PERSONAL },
    ]);
    expect(built.droppedByReason[DropReason.PLAINTEXT_LOOKS_PERSONAL]).toBe(2);
  });

  it('allows EXTERN_ID and MADID only from the columns the profile source lists', () => {
    const mapping = { EMAIL: { attribute: 'email' }, EXTERN_ID: { attribute: 'email' }, MADID: { attribute: 'madid' } };
    expect(plaintextMappingProblems(mapping, ['madid']).map((p) => p.field)).toEqual(['mapping.EXTERN_ID.attribute']);
    expect(plaintextMappingProblems(mapping, []).map((p) => p.field)).toEqual([
      'mapping.EXTERN_ID.attribute',
      'mapping.MADID.attribute',
    ]);
    expect(plaintextMappingProblems(mapping, ['email', 'madid'])).toEqual([]);
    // Hashed keys are not concerned.
    expect(plaintextMappingProblems({ EMAIL: { attribute: 'email' } }, [])).toEqual([]);
  });
});
