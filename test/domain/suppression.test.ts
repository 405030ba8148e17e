import { describe, expect, it } from 'vitest';
import { buildRows } from '../../src/domain/canonical-row.js';
import { sha256Hex } from '../../src/domain/sha256.js';
import { nameZipEntry, profileKeyEntry, rowEntries } from '../../src/domain/suppression.js';

describe('suppression entries of a built row', () => {
  const mapping = {
    EMAIL: { attribute: 'email' },
    EXTERN_ID: { attribute: 'id' },
    FN: { attribute: 'fn' },
    LN: { attribute: 'ln' },
    ZIP: { attribute: 'zip' },
  };
  const build = (attributes: Record<string, unknown>) =>
    buildRows([{ key: 'k-1', attributes }], mapping, { keyIdentifier: 'EMAIL', defaultCountry: 'US' }).rows[0]!;

  it('lists the profile key, each identifier cell and name+ZIP, as digests only', () => {
    const row = build({ email: 'a@example.org', id: 'ext-9', fn: 'Ann', ln: 'Lee', zip: '02139' });
    const entries = rowEntries(row.profileKey, row.cells);
    expect(entries).toEqual([
      profileKeyEntry('k-1'),
      { kind: 'EMAIL', hash: sha256Hex('a@example.org') },
      { kind: 'EXTERN_ID', hash: sha256Hex('ext-9') },
      nameZipEntry(sha256Hex('ann'), sha256Hex('lee'), sha256Hex('02139')),
    ]);
    for (const e of entries) expect(e.hash).toMatch(/^[0-9a-f]{64}$/);
    expect(JSON.stringify(entries)).not.toMatch(/ext-9|k-1|example/);
  });

  it('gives no name+ZIP entry without all three, nor entries for blank cells', () => {
    const row = build({ email: 'a@example.org', fn: 'Ann', ln: 'Lee' });
    expect(rowEntries(row.profileKey, row.cells).map((e) => e.kind)).toEqual(['profile_key', 'EMAIL']);
  });
});
