import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Db } from '../../src/store/db.js';
import { changeSegmentShare, demoSourceConfig, seedDemoProfiles } from '../../src/demo/demo-seed.js';
import {
  FrozenRunNotFoundError,
  InvalidRunIdError,
  SegmentTooLargeError,
  SourceConfigError,
  UnknownAttributeError,
  UnknownSegmentError,
} from '../../src/sources/errors.js';
import { createProfileSource, type ProfileSource } from '../../src/sources/profile-source.js';
import type { ProfileSourceConfig } from '../../src/sources/profile-source-config.js';
import { createStore, migrate, settledSql } from '../../src/store/index.js';
import { openTestDb } from '../support/context.js';

// Test files share one database: every name here is this file's own.
const PROFILES = 'ps_t_profiles';
const MEMBERS = 'ps_t_members';
const STAGING = 'ps_t_staging';
const ATTRIBUTES = ['email', 'phone', 'first_name', 'country', 'marketing_consent'];
const config: ProfileSourceConfig = {
  ...demoSourceConfig({ profilesTable: PROFILES, membersTable: MEMBERS }),
  stagingSchema: STAGING,
};

let db: Db;
let source: ProfileSource;

beforeAll(async () => {
  db = await openTestDb();
  await db.query(`DROP SCHEMA IF EXISTS ${STAGING} CASCADE`);
  await db.query(`CREATE SCHEMA ${STAGING}`);
  await seedDemoProfiles(db, { profiles: 3000, seed: 7, profilesTable: PROFILES, membersTable: MEMBERS });
  source = await createProfileSource(db, config);
});

afterAll(async () => {
  await db.query(`DROP SCHEMA IF EXISTS ${STAGING} CASCADE`);
  await db.query(`DROP TABLE IF EXISTS ${MEMBERS}, ${PROFILES}`);
  await db.close();
});

async function readAll(runId: string, pageSize: number) {
  const rows = [];
  for (let page = 0; ; page++) {
    const got = await source.readPage({ runId, page, pageSize });
    rows.push(...got);
    if (got.length < pageSize) return rows;
  }
}

const stagingTables = async () =>
  (
    await db.query<{ t: string }>(`SELECT tablename AS t FROM pg_tables WHERE schemaname = $1 ORDER BY 1`, [STAGING])
  ).map((r) => r.t);

describe('profile source over a membership table', () => {
  it('lists segments with their sizes and the profile columns', async () => {
    const segments = await source.listSegments();
    expect(segments.map((s) => s.name)).toEqual(['all', 'newsletter', 'one_percent', 'vip']);
    const size = Object.fromEntries(segments.map((s) => [s.name, s.size]));
    expect(size.all).toBe(3000);
    expect(size.vip).toBeGreaterThan(90);
    expect(size.vip).toBeLessThan(220);
    const attributes = await source.listAttributes();
    expect(attributes[0]).toEqual({ name: 'key', type: 'text' });
    expect(attributes).toContainEqual({ name: 'marketing_consent', type: 'boolean' });
    expect(attributes).toContainEqual({ name: 'updated_at', type: 'timestamp with time zone' });
    expect(attributes).toHaveLength(13);
  });

  it('freezes the union of segments in key order with dense row numbers, attributes and fingerprints', async () => {
    const runId = randomUUID();
    const expected = await db.query<{ key: string }>(
      `SELECT key FROM (SELECT DISTINCT profile_key AS key FROM ${MEMBERS} WHERE segment IN ('vip', 'one_percent')) AS s
       ORDER BY key COLLATE "C"`,
    );
    const { rowCount, alreadyFrozen } = await source.freeze({
      runId,
      segments: ['vip', 'one_percent'],
      attributes: ATTRIBUTES,
    });
    expect(alreadyFrozen).toBe(false);
    expect(rowCount).toBe(expected.length);
    expect(await source.countFrozen(runId)).toBe(rowCount);
    expect(await stagingTables()).toContain(`staging_run_${runId.replaceAll('-', '')}`);

    const rows = await readAll(runId, 37);
    expect(rows.map((r) => r.key)).toEqual(expected.map((r) => r.key));
    expect(rows.map((r) => r.rowNumber)).toEqual(rows.map((_, i) => i + 1));

    const first = rows[0]!;
    const [profile] = await db.query<Record<string, unknown>>(
      `SELECT email, phone, first_name, country, marketing_consent FROM ${PROFILES} WHERE key = $1`,
      [first.key],
    );
    expect(first.attributes).toEqual(profile);
    expect(first.fingerprint).toHaveLength(16);
    // The fingerprint is a function of the attributes alone: two record hashes of the staged values, by name.
    const [again] = await db.query<{ f: Buffer }>(
      `SELECT int8send(hash_record_extended(r, 0)) || int8send(hash_record_extended(r, 1)) AS f
       FROM (SELECT ROW(country COLLATE "C", email COLLATE "C", first_name COLLATE "C", to_jsonb(marketing_consent),
                        phone COLLATE "C") AS r FROM ${PROFILES} WHERE key = $1) s`,
      [first.key],
    );
    expect(first.fingerprint.equals(again!.f)).toBe(true);
    await source.dropFrozen(runId);
  });

  it('reads the same pages after the profiles and memberships change, and a retried freeze keeps them', async () => {
    const runId = randomUUID();
    const { rowCount } = await source.freeze({ runId, segments: ['newsletter'], attributes: ATTRIBUTES });
    const before = await readAll(runId, 250);
    const page2 = await source.readPage({ runId, page: 2, pageSize: 100 });

    await changeSegmentShare(db, { segment: 'newsletter', share: 0.3, seed: 3, profilesTable: PROFILES, membersTable: MEMBERS }); // prettier-ignore
    await db.query(
      `UPDATE ${PROFILES} SET first_name = 'Changed' WHERE key IN (SELECT key FROM ${PROFILES} ORDER BY key LIMIT 500)`,
    );
    await db.query(`DELETE FROM ${PROFILES} WHERE key IN (SELECT key FROM ${PROFILES} ORDER BY key DESC LIMIT 100)`);

    expect(await source.readPage({ runId, page: 2, pageSize: 100 })).toEqual(page2);
    expect(await readAll(runId, 250)).toEqual(before);
    expect(await source.freeze({ runId, segments: ['newsletter'], attributes: ATTRIBUTES })).toEqual({
      rowCount,
      segmentSize: rowCount,
      changeWatermark: expect.any(String),
      alreadyFrozen: true,
    });
    // A fresh freeze does see the change.
    const later = randomUUID();
    const fresh = await source.freeze({ runId: later, segments: ['newsletter'], attributes: ATTRIBUTES });
    const freshKeys = new Set((await readAll(later, 500)).map((r) => r.key));
    expect(before.filter((r) => !freshKeys.has(r.key)).length).toBeGreaterThan(0);
    expect(fresh.rowCount).not.toBe(0);
    await source.dropFrozen(runId);
    await source.dropFrozen(later);
  });

  it('drops a frozen run, after which it reads as not found', async () => {
    const runId = randomUUID();
    await source.freeze({ runId, segments: ['one_percent'], attributes: ['email'] });
    expect(await source.dropFrozen(runId)).toBe(true);
    expect(await source.dropFrozen(runId)).toBe(false);
    await expect(source.readPage({ runId, page: 0, pageSize: 10 })).rejects.toBeInstanceOf(FrozenRunNotFoundError);
    await expect(source.countFrozen(runId)).rejects.toBeInstanceOf(FrozenRunNotFoundError);
  });

  it('sweeps the staging tables of runs that are not live, and only those', async () => {
    const [a, b, c] = [randomUUID(), randomUUID(), randomUUID()];
    for (const runId of [a, b, c]) await source.freeze({ runId, segments: ['one_percent'], attributes: ['email'] });
    await db.query(`CREATE TABLE ${STAGING}.staging_run_not_ours (x int)`);
    // Live ids may come in any case and with non-UUID neighbours.
    const dropped = await source.sweepFrozen([a.toUpperCase(), 'not-a-uuid']);
    expect(dropped.sort()).toEqual([b, c].sort());
    expect(await source.countFrozen(a)).toBeGreaterThan(0);
    expect(await stagingTables()).toEqual(['staging_run_not_ours', `staging_run_${a.replaceAll('-', '')}`].sort());
    expect(await source.sweepFrozen((id) => id !== a)).toEqual([a]);
    expect(await stagingTables()).toEqual(['staging_run_not_ours']);
  });

  it('refuses a segment above maxRows and leaves no staging table', async () => {
    const runId = randomUUID();
    // Membership rows may name deleted profiles, so the size to test against is what a freeze finds.
    const probe = randomUUID();
    const vip = (await source.freeze({ runId: probe, segments: ['vip'], attributes: [] })).rowCount;
    await source.dropFrozen(probe);
    const refusal = source.freeze({ runId, segments: ['vip'], attributes: ['email'], maxRows: vip - 1 });
    await expect(refusal).rejects.toBeInstanceOf(SegmentTooLargeError);
    await expect(refusal).rejects.toMatchObject({ limit: vip - 1, segments: ['vip'], code: 'SEGMENT_TOO_LARGE' });
    await expect(source.countFrozen(runId)).rejects.toBeInstanceOf(FrozenRunNotFoundError);
    expect(await source.freeze({ runId, segments: ['vip'], attributes: ['email'], maxRows: vip })).toMatchObject({
      rowCount: vip,
      segmentSize: vip,
      alreadyFrozen: false,
    });
    await source.dropFrozen(runId);
  });

  it('refuses unknown segments, unknown or hostile attributes and run ids that are not UUIDs', async () => {
    const runId = randomUUID();
    await expect(source.freeze({ runId, segments: ['vip', 'nope'], attributes: [] })).rejects.toMatchObject({
      name: 'UnknownSegmentError',
      segments: ['nope'],
    });
    await expect(source.freeze({ runId, segments: [], attributes: [] })).rejects.toBeInstanceOf(UnknownSegmentError);
    for (const attribute of ['no_such_column', 'email", (SELECT 1) AS "x', 'EMAIL']) {
      await expect(source.freeze({ runId, segments: ['vip'], attributes: [attribute] })).rejects.toBeInstanceOf(
        UnknownAttributeError,
      );
    }
    for (const bad of ['../../etc/passwd', 'x; DROP TABLE ps_t_profiles', '']) {
      await expect(source.freeze({ runId: bad, segments: ['vip'], attributes: [] })).rejects.toBeInstanceOf(
        InvalidRunIdError,
      );
      await expect(source.readPage({ runId: bad, page: 0, pageSize: 1 })).rejects.toBeInstanceOf(InvalidRunIdError);
    }
    expect(await stagingTables()).not.toContain(`staging_run_${runId.replaceAll('-', '')}`);
  });
});

describe('profile source, freezing what changed against an audience snapshot', () => {
  const audience = String(Date.now());
  const attributes = ['email', 'first_name', 'marketing_consent'];
  const keysOf = async (runId: string) => (await readAll(runId, 1000)).map((r) => r.key).sort();

  it('freezes only members the snapshot has not settled; a change column narrows the scan to what changed', async () => {
    await migrate(db);
    const store = createStore(db, { encryptionKey: undefined });
    // The same tables without the change log: joiners found by comparing every member's key with the snapshot.
    const withoutLog = await createProfileSource(db, {
      ...demoSourceConfig({ profilesTable: PROFILES, membersTable: MEMBERS }, { changeLog: false }),
      stagingSchema: STAGING,
    });
    expect(source.changeTracking).toBe(`updated_at; log ${PROFILES}_changes (profile_key, changed_at)`);
    expect(withoutLog.changeTracking).toBe('updated_at');
    // The audience as a first export left it: every member of 'vip' sent and confirmed, under one run.
    const first = randomUUID();
    const frozen = await source.freeze({ runId: first, segments: ['vip'], attributes });
    const rows = await readAll(first, 1000);
    const sent = rows.slice(2).map((r) => ({ profileKey: r.key, fingerprint: r.fingerprint, cells: ['x'] }));
    const dropped = rows.slice(0, 2).map((r) => ({ profileKey: r.key, fingerprint: r.fingerprint }));
    await store.snapshots.recordPage(audience, first, 0, { sent, dropped }, { fresh: true });
    await store.snapshots.confirmPage(audience, first, 0);
    expect(frozen.changeWatermark).toEqual(expect.any(String));
    const changes = settledSql(audience);
    const refresh = async (changedSince?: string | null, from: ProfileSource = source) => {
      const runId = randomUUID();
      const result = await from.freeze({
        runId,
        segments: ['vip'],
        attributes,
        changes: { ...changes, changedSince },
      });
      const keys = await keysOf(runId);
      await from.dropFrozen(runId);
      return { ...result, keys };
    };
    const changedKeys = async (since: string) => {
      const sql = source.changedKeysSql(since)!;
      return (await db.query<{ key: string }>(`${sql.sql} ORDER BY 1`, [...sql.params])).map((r) => r.key);
    };
    expect(await refresh()).toMatchObject({ rowCount: 0, segmentSize: frozen.rowCount, keys: [] });
    // From the first freeze's watermark (less 10 minutes): the earlier tests' changes, all settled since.
    const earlier = await changedKeys(frozen.changeWatermark!);
    expect(earlier.length).toBeLessThan(1100);
    expect((await refresh(frozen.changeWatermark)).keys).toEqual([]);
    expect(withoutLog.changedKeysSql(frozen.changeWatermark!)).toBeUndefined();

    // Two members change (one of them had been dropped), one joins, one's page is never confirmed.
    const changed = [rows[1]!.key, rows[5]!.key];
    await db.query(`UPDATE ${PROFILES} SET first_name = first_name || 'x' WHERE key = ANY($1)`, [changed]);
    const [outsider] = await db.query<{ key: string }>(
      `SELECT key FROM ${PROFILES} p WHERE NOT EXISTS (SELECT 1 FROM ${MEMBERS} m WHERE m.segment = 'vip' AND m.profile_key = p.key)
       ORDER BY key LIMIT 1`,
    );
    await db.query(`INSERT INTO ${MEMBERS} (segment, profile_key) VALUES ('vip', $1)`, [outsider!.key]);
    // One whose profile did not change lately: only the page it was on makes it differ.
    const unconfirmed = rows.find((r, i) => i > 5 && !earlier.includes(r.key))!;
    await store.snapshots.deleteRows(audience, [{ profileKey: unconfirmed.key, fingerprint: unconfirmed.fingerprint }]);
    await store.snapshots.recordPage(audience, randomUUID(), 0, {
      sent: [{ profileKey: unconfirmed.key, fingerprint: unconfirmed.fingerprint, cells: ['x'] }],
      dropped: [],
    }, { fresh: false }); // prettier-ignore
    const expected = [...changed, outsider!.key, unconfirmed.key].sort();

    const full = await refresh();
    expect(full.keys).toEqual(expected);
    expect(full.segmentSize).toBe(frozen.rowCount + 1);
    // From the first freeze's watermark: the changed profiles (change column) and the joiner (the log names it).
    // A row never confirmed is examined again only by the run after the one that failed, which starts from the
    // same watermark (a completed run confirmed every row it sent).
    expect(await changedKeys(frozen.changeWatermark!)).toEqual([...new Set([...earlier, ...changed, outsider!.key])].sort()); // prettier-ignore
    expect((await refresh(frozen.changeWatermark)).keys).toEqual([...changed, outsider!.key].sort());
    // Without the log: the same, and every member the snapshot does not know (the joiner, the unconfirmed).
    expect((await refresh(frozen.changeWatermark, withoutLog)).keys).toEqual(expected);
    const [later] = await db.query<{ w: string }>(
      `SELECT (greatest(max(updated_at), (SELECT max(changed_at) FROM ${PROFILES}_changes)) + interval '1 hour')::text AS w
       FROM ${PROFILES}`,
    );
    expect((await refresh(later!.w, withoutLog)).keys).toEqual([outsider!.key, unconfirmed.key].sort());
    // With the log, a watermark past every change examines nothing, until the log names a key after it.
    expect((await refresh(later!.w)).keys).toEqual([]);
    await db.query(`INSERT INTO ${PROFILES}_changes (profile_key, changed_at) VALUES ($1, $2::timestamptz + interval '1 minute')`, [outsider!.key, later!.w]); // prettier-ignore
    expect((await refresh(later!.w)).keys).toEqual([outsider!.key]);
    expect(await changedKeys(later!.w)).toEqual([outsider!.key]);
    await source.dropFrozen(first);
  });

  it('a change log must match the key and the change column', async () => {
    const base = { ...config, changeLog: { table: `${PROFILES}_changes`, keyColumn: 'profile_key', changedAtColumn: 'changed_at' } }; // prettier-ignore
    const refused = async (c: ProfileSourceConfig) =>
      createProfileSource(db, c).then(
        () => undefined,
        (err: unknown) => (err as SourceConfigError).field,
      );
    const { changeColumn: _, ...noChangeColumn } = base;
    expect(await refused(noChangeColumn)).toBe('changeLog');
    expect(await refused({ ...base, changeLog: { ...base.changeLog, table: 'ps_t_nope' } })).toBe('changeLog.table');
    expect(await refused({ ...base, changeLog: { ...base.changeLog, keyColumn: 'nope' } })).toBe('changeLog.keyColumn');
    expect(await refused({ ...base, changeLog: { ...base.changeLog, changedAtColumn: 'profile_key' } })).toBe(
      'changeLog.changedAtColumn',
    );
    expect(await refused(base)).toBeUndefined();
  });

  it('says which snapshot keys are members, for the removes of a refresh', async () => {
    const member = source.memberSql(['vip', 'one_percent'], 'v.k', randomUUID());
    const [vip] = await db.query<{ profile_key: string }>(
      `SELECT profile_key FROM ${MEMBERS} WHERE segment = 'vip' LIMIT 1`,
    );
    const is = async (key: string) =>
      (await db.query<{ m: boolean }>(`SELECT ${member.sql} AS m FROM (VALUES ('${key}')) AS v(k)`, [...member.params]))[0]!.m; // prettier-ignore
    expect(await is(vip!.profile_key)).toBe(true);
    expect(await is('cust-nobody')).toBe(false);
  });

  it('samples the first members in key order without a staging table, with the segment size', async () => {
    const before = await stagingTables();
    const { rows, segmentSize } = await source.sample({ segments: ['vip'], attributes, limit: 25 });
    const expected = await db.query<{ key: string }>(
      `SELECT p.key FROM ${PROFILES} p JOIN ${MEMBERS} m ON m.profile_key = p.key AND m.segment = 'vip' ORDER BY p.key LIMIT 25`,
    );
    expect(rows.map((r) => r.key)).toEqual(expected.map((r) => r.key));
    expect(rows.map((r) => r.rowNumber)).toEqual(rows.map((_, i) => i + 1));
    expect(Object.keys(rows[0]!.attributes).sort()).toEqual(attributes);
    // Members are profiles in the segment (membership rows may name deleted profiles).
    const [members] = await db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM ${PROFILES} p WHERE EXISTS (SELECT 1 FROM ${MEMBERS} m WHERE m.segment = 'vip' AND m.profile_key = p.key)`,
    );
    expect(segmentSize).toBe(members!.n);
    expect(await stagingTables()).toEqual(before);
    expect(await source.unknownSegments(['vip', 'nope'])).toEqual(['nope']);
  });
});

describe('profile source configuration', () => {
  const refusals: [string, (c: ProfileSourceConfig) => ProfileSourceConfig, string][] = [
    [
      'statement smuggled in the table',
      (c) => ({ ...c, profilesTable: `${PROFILES}; DROP TABLE ${MEMBERS}` }),
      'profilesTable',
    ],
    ['quoted table', (c) => ({ ...c, profilesTable: `"${PROFILES}"` }), 'profilesTable'],
    ['path traversal', (c) => ({ ...c, profilesTable: '../../etc/passwd' }), 'profilesTable'],
    ['three-part name', (c) => ({ ...c, profilesTable: `public.${PROFILES}.x` }), 'profilesTable'],
    ['comment', (c) => ({ ...c, profilesTable: `${PROFILES}--` }), 'profilesTable'],
    ['missing table', (c) => ({ ...c, profilesTable: 'ps_t_nowhere' }), 'profilesTable'],
    ['wrong case (names are exact)', (c) => ({ ...c, profilesTable: PROFILES.toUpperCase() }), 'profilesTable'],
    ['injected key column', (c) => ({ ...c, keyColumn: 'key" OR 1=1 --' }), 'keyColumn'],
    ['missing key column', (c) => ({ ...c, keyColumn: 'customer_id' }), 'keyColumn'],
    ['injected membership table', (c) => ({ ...c, membership: { kind: 'table', table: `${MEMBERS} m, pg_authid`, segmentColumn: 'segment', keyColumn: 'profile_key' } }), 'membership.table'], // prettier-ignore
    ['missing segment column', (c) => ({ ...c, membership: { kind: 'table', table: MEMBERS, segmentColumn: 'seg', keyColumn: 'profile_key' } }), 'membership.segmentColumn'], // prettier-ignore
    ['missing staging schema', (c) => ({ ...c, stagingSchema: 'ps_t_no_schema' }), 'stagingSchema'],
    ['injected staging schema', (c) => ({ ...c, stagingSchema: 'public"; DROP SCHEMA x; --' }), 'stagingSchema'],
    ['missing plaintext column', (c) => ({ ...c, plaintextColumns: ['key', 'device_id'] }), 'plaintextColumns.1'],
    ['injected plaintext column', (c) => ({ ...c, plaintextColumns: ['key" --'] }), 'plaintextColumns.0'],
  ];
  it.each(refusals)('refuses %s', async (_, change, field) => {
    const err = await createProfileSource(db, change(config)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SourceConfigError);
    expect((err as SourceConfigError).field).toBe(field);
    // Nothing was executed: both tables are still there.
    expect(await db.query(`SELECT count(*)::int AS n FROM ${MEMBERS}`)).not.toHaveLength(0);
  });

  it('lists the columns allowed in clear, none unless configured', async () => {
    expect((await createProfileSource(db, config)).plaintextColumns).toEqual(['key']);
    expect((await createProfileSource(db, { ...config, plaintextColumns: undefined })).plaintextColumns).toEqual([]);
  });

  it('accepts a schema-qualified table and a view', async () => {
    await db.query(`CREATE OR REPLACE VIEW ps_t_consenting AS SELECT * FROM ${PROFILES} WHERE marketing_consent`);
    const viaView = await createProfileSource(db, { ...config, profilesTable: 'public.ps_t_consenting' });
    const runId = randomUUID();
    const { rowCount } = await viaView.freeze({ runId, segments: ['vip'], attributes: ['marketing_consent'] });
    const rows = await viaView.readPage({ runId, page: 0, pageSize: 10_000 });
    expect(rows).toHaveLength(rowCount);
    expect(rows.every((r) => r.attributes.marketing_consent === true)).toBe(true);
    await viaView.dropFrozen(runId);
    await db.query('DROP VIEW ps_t_consenting');
  });
});

describe('profile source over SQL conditions', () => {
  const conditions = (segments: Record<string, string>): ProfileSourceConfig => ({
    profilesTable: PROFILES,
    keyColumn: 'key',
    membership: { kind: 'conditions', segments },
    stagingSchema: STAGING,
  });

  it('counts and freezes segments defined by conditions', async () => {
    const cond = await createProfileSource(
      db,
      conditions({ consenting: 'marketing_consent', greeks: "country IN ('GR', 'Greece', 'Ελλάδα', 'gr')" }),
    );
    const [expected] = await db.query<{ consenting: number; greeks: number; either: number }>(
      `SELECT count(*) FILTER (WHERE marketing_consent)::int AS consenting,
              count(*) FILTER (WHERE country IN ('GR', 'Greece', 'Ελλάδα', 'gr'))::int AS greeks,
              count(*) FILTER (WHERE marketing_consent OR country IN ('GR', 'Greece', 'Ελλάδα', 'gr'))::int AS either
       FROM ${PROFILES}`,
    );
    expect(await cond.listSegments()).toEqual([
      { name: 'consenting', size: expected!.consenting },
      { name: 'greeks', size: expected!.greeks },
    ]);
    const runId = randomUUID();
    expect((await cond.freeze({ runId, segments: ['greeks', 'consenting'], attributes: ['country'] })).rowCount).toBe(
      expected!.either,
    );
    await expect(cond.freeze({ runId: randomUUID(), segments: ['vip'], attributes: [] })).rejects.toBeInstanceOf(
      UnknownSegmentError,
    );
    await cond.dropFrozen(runId);
  });

  const hostile: [string, string][] = [
    ['a second statement', `true; DROP TABLE ${MEMBERS}`],
    ['a comment', 'true -- and the rest'],
    ['a block comment', 'true /* x */'],
    ['breaking out of the parentheses', 'true) OR (true'],
    ['a union', `true UNION SELECT * FROM ${PROFILES}`],
    ['a parameter', '$1 = 1'],
    ['dollar quoting', 'email = $$x$$'],
    ['an escape string', "email = E'\\x27'"],
    ['an unclosed string', "email = 'x"],
    ['not a boolean', "coalesce(email, '')"],
    ['a missing column', 'loyalty_tier = 3'],
    ['a write', `(WITH d AS (DELETE FROM ${MEMBERS} RETURNING 1) SELECT true)`],
    ['a segment name that is not plain', 'true'],
  ];
  it.each(hostile)('refuses %s', async (what, condition) => {
    const name = what.startsWith('a segment name') ? 'vip"; --' : 'bad';
    const err = await createProfileSource(db, conditions({ ok: 'true', [name]: condition })).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SourceConfigError);
    expect((err as SourceConfigError).field).toMatch(/^membership\.segments/);
    expect((await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${MEMBERS}`))[0]!.n).toBeGreaterThan(0);
  });
});

describe('changeSegmentShare', () => {
  it('changes the asked share of a segment in thirds: leave, join, e-mail change', async () => {
    const profiles = 'ps_t_change_profiles';
    const members = 'ps_t_change_members';
    await seedDemoProfiles(db, { profiles: 1200, seed: 5, profilesTable: profiles, membersTable: members });
    const all = await changeSegmentShare(db, { segment: 'all', share: 0.05, seed: 2, profilesTable: profiles, membersTable: members }); // prettier-ignore
    expect(all).toEqual({ segment: 'all', size: 1200, left: 20, joined: 20, created: 20, changedEmail: 20 });
    const [counts] = await db.query<{ profiles: number; all: number; changed: number }>(
      `SELECT (SELECT count(*) FROM ${profiles})::int AS profiles,
              (SELECT count(*) FROM ${members} WHERE segment = 'all')::int AS all,
              (SELECT count(*) FROM ${profiles} WHERE email LIKE 'changed.%')::int AS changed`,
    );
    expect(counts).toEqual({ profiles: 1220, all: 1200, changed: 20 });
    const vip = await changeSegmentShare(db, { segment: 'vip', share: 0.5, seed: 2, profilesTable: profiles, membersTable: members }); // prettier-ignore
    expect(vip.created).toBe(0);
    expect(vip.left + vip.joined + vip.changedEmail).toBe(Math.round(vip.size * 0.5));
    await expect(
      changeSegmentShare(db, { segment: 'nope', share: 0.1, profilesTable: profiles, membersTable: members }),
    ).rejects.toBeInstanceOf(UnknownSegmentError);
    await db.query(`DROP TABLE ${members}, ${profiles}`);
  });
});
