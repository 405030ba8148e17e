import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { demoSourceConfig, seedDemoProfiles } from '../../src/demo/demo-seed.js';
import { SegmentTooLargeError } from '../../src/sources/errors.js';
import { createProfileSource, inlineParams, type ProfileSource } from '../../src/sources/profile-source.js';
import type { Db } from '../../src/store/db.js';
import { createStore, settledSql } from '../../src/store/index.js';
import { openPrivateDb } from '../security/private-db.js';
import { createSourceDatabase, type SourceDatabase } from '../support/source-database.js';

const TABLES = { profilesTable: 'sep_profiles', membersTable: 'sep_members' };
const ATTRIBUTES = ['email', 'first_name', 'date_of_birth', 'marketing_consent', 'updated_at'];

/**
 * A source in another database, read by a role that may only SELECT: staging tables are made in ours, the rows
 * streamed there, with the fingerprints a source in our database would give.
 */
describe('profile source in a separate database, read by a read-only role', () => {
  let ours: Awaited<ReturnType<typeof openPrivateDb>>;
  let sourceDb: SourceDatabase;
  let reader: Db;
  let source: ProfileSource;
  /** The same profiles read in place, by their owner, staged in their own database: the fast path's answers. */
  let inPlace: ProfileSource;

  beforeAll(async () => {
    ours = await openPrivateDb('sep_ours');
    sourceDb = await createSourceDatabase('sep_src');
    await seedDemoProfiles(sourceDb.owner, { ...TABLES, profiles: 2_000, seed: 11 });
    // A segment whose name needs quoting in SQL: written into the COPY's query as a literal.
    await sourceDb.owner.query(
      `INSERT INTO ${TABLES.membersTable} (segment, profile_key)
       SELECT $1, profile_key FROM ${TABLES.membersTable} WHERE segment = 'vip'`,
      [`o'brien "\\x" vip`],
    );
    await sourceDb.grantReads();
    reader = await sourceDb.openReader();
    source = await createProfileSource(reader, demoSourceConfig(TABLES), { stagingDb: ours.db });
    inPlace = await createProfileSource(sourceDb.owner, demoSourceConfig(TABLES));
  });

  afterAll(async () => {
    await reader?.close();
    await sourceDb?.drop();
    await ours?.drop();
  });

  const stagingIn = async (db: Db) =>
    (await db.query<{ t: string }>(`SELECT tablename AS t FROM pg_tables WHERE tablename LIKE 'staging_run_%'`)).map(
      (r) => r.t,
    );

  it('the reader role cannot make a staging table in the source: the fast path is refused there', async () => {
    const direct = await createProfileSource(reader, demoSourceConfig(TABLES));
    const err = await direct
      .freeze({ runId: randomUUID(), segments: ['vip'], attributes: ATTRIBUTES })
      .catch((e: unknown) => e);
    expect((err as { code?: string }).code).toBe('42501'); // permission denied for schema public
  });

  it('refuses a separate source when our tables are in the embedded database', async () => {
    const embedded = { kind: 'pglite' } as Db;
    await expect(createProfileSource(reader, demoSourceConfig(TABLES), { stagingDb: embedded })).rejects.toThrow(
      /needs DATABASE_URL/,
    );
  });

  it('freezes into our database the rows and fingerprints a source in our database would freeze', async () => {
    const runId = randomUUID();
    const here = randomUUID();
    const segments = ['vip', 'one_percent'];
    const frozen = await source.freeze({ runId, segments, attributes: ATTRIBUTES });
    const same = await inPlace.freeze({ runId: here, segments, attributes: ATTRIBUTES });
    expect(frozen).toMatchObject({ rowCount: same.rowCount, segmentSize: same.segmentSize, alreadyFrozen: false });
    expect(frozen.changeWatermark).toBe(same.changeWatermark);
    expect(await stagingIn(ours.db)).toEqual([`staging_run_${runId.replaceAll('-', '')}`]);
    expect(await stagingIn(sourceDb.owner)).toEqual([`staging_run_${here.replaceAll('-', '')}`]);

    const pageSize = 300;
    for (let page = 0; page * pageSize < same.rowCount; page++) {
      const a = await source.readPage({ runId, page, pageSize });
      const b = await inPlace.readPage({ runId: here, page, pageSize });
      expect(a).toEqual(b);
    }
    expect((await source.readPage({ runId, page: 0, pageSize: 1 }))[0]!.attributes).toMatchObject({
      updated_at: expect.any(String),
    });
    // A retried freeze finds the run frozen.
    expect(await source.freeze({ runId, segments, attributes: ATTRIBUTES })).toMatchObject({
      rowCount: same.rowCount,
      segmentSize: same.segmentSize,
      alreadyFrozen: true,
    });
    expect(await source.listFrozen()).toEqual([runId]);
    expect(await source.dropFrozen(runId)).toBe(true);
    expect(await stagingIn(ours.db)).toEqual([]);
    await inPlace.dropFrozen(here);
  });

  it('writes segment names into the read-only COPY as literals, quotes and backslashes included', async () => {
    const runId = randomUUID();
    const name = `o'brien "\\x" vip`;
    expect(inlineParams({ sql: 'x = ANY($1)', params: [[name]] })).toBe(
      `x = ANY( E'{"o''brien \\\\"\\\\\\\\x\\\\" vip"}')`,
    );
    const vip = await source.freeze({ runId, segments: [name], attributes: ['email'] });
    const [n] = await reader.query<{ n: number }>(
      `SELECT count(*)::int8 AS n FROM ${TABLES.membersTable} WHERE segment = 'vip'`,
    );
    expect(vip.rowCount).toBe(n!.n);
    await source.dropFrozen(runId);
  });

  it('refuses a segment above maxRows and leaves no table behind', async () => {
    const runId = randomUUID();
    await expect(source.freeze({ runId, segments: ['all'], attributes: ['email'], maxRows: 100 })).rejects.toThrow(
      SegmentTooLargeError,
    );
    expect(await stagingIn(ours.db)).toEqual([]);
  });

  it('a refresh reads the whole segment and keeps what the snapshot has not settled, with every key for the plan', async () => {
    const store = createStore(ours.db, { encryptionKey: undefined });
    const audience = `sep-${Date.now()}`;
    const first = randomUUID();
    await source.freeze({ runId: first, segments: ['vip'], attributes: ATTRIBUTES });
    const rows = [];
    for (let page = 0; ; page++) {
      const got = await source.readPage({ runId: first, page, pageSize: 500 });
      rows.push(...got);
      if (got.length < 500) break;
    }
    await store.snapshots.recordPage(
      audience,
      first,
      0,
      { sent: rows.map((r) => ({ profileKey: r.key, fingerprint: r.fingerprint, cells: ['x'] })), dropped: [] },
      { fresh: true },
    );
    await store.snapshots.confirmPage(audience, first, 0);
    await source.dropFrozen(first);

    const changed = [rows[3]!.key, rows[7]!.key];
    await sourceDb.owner.query(
      `UPDATE ${TABLES.profilesTable} SET first_name = first_name || 'y' WHERE key = ANY($1)`,
      [changed],
    );
    const left = rows[10]!.key;
    await sourceDb.owner.query(`DELETE FROM ${TABLES.membersTable} WHERE segment = 'vip' AND profile_key = $1`, [left]);

    const refresh = randomUUID();
    const result = await source.freeze({
      runId: refresh,
      segments: ['vip'],
      attributes: ATTRIBUTES,
      // The watermark would narrow an in-place read; a separate source reads every member regardless.
      changes: { ...settledSql(audience), changedSince: '9999-01-01' },
    });
    expect(result).toMatchObject({ rowCount: 2, segmentSize: rows.length - 1, alreadyFrozen: false });
    const staged = await source.readPage({ runId: refresh, page: 0, pageSize: 100 });
    expect(staged.map((r) => r.key).sort()).toEqual([...changed].sort());

    const member = source.memberSql(['vip'], 'v.k', refresh);
    const is = async (key: string) =>
      (await ours.db.query<{ m: boolean }>(`SELECT ${member.sql} AS m FROM (VALUES ($1::text)) AS v(k)`, [key]))[0]!.m;
    expect(await is(rows[0]!.key)).toBe(true);
    expect(await is(changed[0]!)).toBe(true);
    expect(await is(left)).toBe(false);
    expect(await source.dropFrozen(refresh)).toBe(true);
    expect(await stagingIn(ours.db)).toEqual([]);
  });
});
