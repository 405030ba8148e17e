import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Db } from '../../src/store/db.js';
import {
  createStore,
  EncryptionKeyMissingError,
  NotFoundError,
  TokenUndecryptableError,
  type Store,
} from '../../src/store/index.js';
import { newDestination, openTestStore, TEST_KEY } from './helpers.js';

describe('credentials repository', () => {
  let db: Db;
  let store: Store;
  beforeAll(async () => ({ db, store } = await openTestStore()));
  afterAll(() => db.close());

  it('saves a token, describes it without the token, and decrypts it only through getToken', async () => {
    const d = await newDestination(store);
    const token = `EAAG${randomBytes(24).toString('hex')}`;
    const expiresAt = new Date('2030-01-01T00:00:00Z');
    const info = await store.credentials.save(d.id, { kind: 'login', token, scopes: ['ads_management'], expiresAt });
    expect(info).toMatchObject({
      destinationId: d.id,
      kind: 'login',
      scopes: ['ads_management'],
      expiresAt,
      keyVersion: 1,
    });
    expect(JSON.stringify(info)).not.toContain(token);
    expect(JSON.stringify(await store.credentials.describe(d.id))).not.toContain(token);
    expect(await store.credentials.getToken(d.id)).toBe(token);

    // Replacing keeps one credential per destination.
    await store.credentials.save(d.id, { kind: 'system_user', token: `${token}-2` });
    expect(await store.credentials.getToken(d.id)).toBe(`${token}-2`);
    expect((await store.credentials.describe(d.id))?.kind).toBe('system_user');
  });

  it('never stores the token in clear: no text or bytea column of any table contains it', async () => {
    const d = await newDestination(store);
    const token = `EAAG${randomBytes(24).toString('hex')}`;
    await store.credentials.save(d.id, { kind: 'login', token, scopes: ['ads_management'] });
    expect(await store.credentials.getToken(d.id)).toBe(token);

    const columns = await db.query<{
      table_schema: string;
      table_name: string;
      column_name: string;
      data_type: string;
    }>(
      `SELECT c.table_schema, c.table_name, c.column_name, c.data_type FROM information_schema.columns c
       JOIN information_schema.tables t USING (table_schema, table_name)
       WHERE c.table_schema = current_schema() AND t.table_type = 'BASE TABLE'
         AND c.data_type IN ('text', 'character varying', 'bytea', 'jsonb', 'json', 'ARRAY')
         -- Runs' staging tables hold source attributes, and other test files drop them while this scan runs.
         AND c.table_name NOT LIKE 'staging\\_run\\_%'`,
    );
    expect(columns.some((c) => c.table_name === 'credentials' && c.column_name === 'token_sealed')).toBe(true);
    const hex = Buffer.from(token, 'utf8').toString('hex');
    let scanned = 0;
    for (const c of columns) {
      const col = `"${c.column_name}"`;
      const asText = c.data_type === 'bytea' ? `encode(${col}, 'hex')` : `${col}::text`;
      const needle = c.data_type === 'bytea' ? hex : token;
      const [row] = await db.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM "${c.table_schema}"."${c.table_name}" WHERE strpos(${asText}, $1) > 0`,
        [needle],
      );
      expect(row?.n, `${c.table_name}.${c.column_name}`).toBe(0);
      scanned++;
    }
    expect(scanned).toBeGreaterThan(10);
  });

  it('records verification and lists tokens that expire soon', async () => {
    const d = await newDestination(store);
    await store.credentials.save(d.id, { kind: 'login', token: 'EAAB-x', expiresAt: new Date('2001-02-01T00:00:00Z') });
    const verifiedAt = new Date('2001-01-01T12:00:00Z');
    const verified = await store.credentials.markVerified(d.id, verifiedAt, {
      scopes: ['ads_management', 'business_management'],
    });
    expect(verified.verifiedAt).toEqual(verifiedAt);
    expect(verified.scopes).toEqual(['ads_management', 'business_management']);
    expect(verified.expiresAt).toEqual(new Date('2001-02-01T00:00:00Z'));
    const cleared = await store.credentials.markVerified(d.id, verifiedAt, { expiresAt: null });
    expect(cleared.expiresAt).toBeNull();
    await store.credentials.markVerified(d.id, verifiedAt, { expiresAt: new Date('2001-02-01T00:00:00Z') });

    const expiring = await store.credentials.listExpiringBefore(new Date('2001-03-01T00:00:00Z'));
    expect(expiring.map((c) => c.destinationId)).toContain(d.id);
    expect(JSON.stringify(expiring)).not.toContain('EAAB-x');
    expect(
      (await store.credentials.listExpiringBefore(new Date('2001-01-15T00:00:00Z'))).map((c) => c.destinationId),
    ).not.toContain(d.id);
  });

  it('refuses a token that was tampered with in the database', async () => {
    const d = await newDestination(store);
    await store.credentials.save(d.id, { kind: 'login', token: 'EAAB-tamper' });
    await db.query(
      `UPDATE credentials SET token_sealed = set_byte(token_sealed, length(token_sealed) - 1,
         get_byte(token_sealed, length(token_sealed) - 1) # 1) WHERE destination_id = $1`,
      [d.id],
    );
    await expect(store.credentials.getToken(d.id)).rejects.toBeInstanceOf(TokenUndecryptableError);
  });

  it('re-encrypts tokens under a new key version after a rotation', async () => {
    const d = await newDestination(store);
    await store.credentials.save(d.id, { kind: 'login', token: 'EAAB-rotate' });
    const rotated = createStore(db, { encryptionKey: randomBytes(32), keyVersion: 2, previousKeys: { 1: TEST_KEY } });
    expect(await rotated.credentials.getToken(d.id)).toBe('EAAB-rotate');
    const tampered = await newDestination(store);
    await store.credentials.save(tampered.id, { kind: 'login', token: 'EAAB-other' });
    await db.query(
      'UPDATE credentials SET token_sealed = set_byte(token_sealed, 20, get_byte(token_sealed, 20) # 1) WHERE destination_id = $1',
      [tampered.id],
    );
    const result = await rotated.credentials.reencryptAll();
    expect(result.reencrypted).toBeGreaterThanOrEqual(1);
    expect(result.undecryptable).toContain(tampered.id);
    expect(result.undecryptable).not.toContain(d.id);
    expect((await rotated.credentials.describe(d.id))?.keyVersion).toBe(2);
    expect(await rotated.credentials.getToken(d.id)).toBe('EAAB-rotate');
    await expect(store.credentials.getToken(d.id)).rejects.toBeInstanceOf(TokenUndecryptableError);
    await store.credentials.delete(d.id);
  });

  it('names the missing destination, credential or key', async () => {
    const missing = '00000000-0000-4000-8000-000000000001';
    await expect(store.credentials.save(missing, { kind: 'login', token: 't' })).rejects.toMatchObject({
      entity: 'destination',
    });
    await expect(store.credentials.getToken(missing)).rejects.toBeInstanceOf(NotFoundError);
    const keyless = createStore(db, { encryptionKey: undefined });
    const d = await newDestination(store);
    await expect(keyless.credentials.save(d.id, { kind: 'login', token: 't' })).rejects.toThrow(/ENCRYPTION_KEY/);
    await store.credentials.save(d.id, { kind: 'login', token: 't' });
    await expect(keyless.credentials.getToken(d.id)).rejects.toBeInstanceOf(EncryptionKeyMissingError);
  });
});
