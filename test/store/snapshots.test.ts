import { createHash, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Db } from '../../src/store/db.js';
import type { Cell } from '../../src/domain/canonical-row.js';
import { NotFoundError, type SnapshotRow, type Store } from '../../src/store/index.js';
import { holdDestination } from '../../src/store/destinations.js';
import { confirmedSentSql, settledSql } from '../../src/store/snapshots.js';
import { newDestination, openTestStore, uniqueAudience } from './helpers.js';

const fp = (s: string) => createHash('md5').update(s).digest();
const sha = (s: string) => createHash('sha256').update(s).digest('hex');
const cellsFor = (key: string, version = 1): Cell[] => [key, sha(`${key}@${version}`), '', ['LDU'], 1, 1000];
const row = (key: string, version = 1): SnapshotRow => ({
  profileKey: key,
  fingerprint: fp(`${key}:${version}`),
  cells: cellsFor(key, version),
});

describe('audience snapshots repository', () => {
  let db: Db;
  let store: Store;
  beforeAll(async () => ({ db, store } = await openTestStore()));
  afterAll(() => db.close());

  it('records possibly-sent rows in bulk, commits a run, and reads cells back exactly', async () => {
    const audience = uniqueAudience();
    const run1 = randomUUID();
    const rows = Array.from({ length: 2_500 }, (_, i) => row(`p${i}`));
    expect(await store.snapshots.recordPossiblySent(audience, run1, rows)).toBe(2_500);
    expect(await store.snapshots.count(audience)).toEqual({
      sent: 0,
      possiblySent: 2_500,
      removing: 0,
      total: 2_500,
      dropped: 0,
    });

    expect(await store.snapshots.commitRun(audience, run1)).toEqual({ committed: 2_500, removed: 0 });
    expect(await store.snapshots.commitRun(audience, run1)).toEqual({ committed: 0, removed: 0 });
    expect((await store.snapshots.count(audience)).sent).toBe(2_500);

    const read = await store.snapshots.read(audience, [rows[7]!, rows[2_499]!, row('absent')]);
    expect(read).toEqual([
      { ...rows[2_499], fingerprint: Buffer.from(rows[2_499]!.fingerprint), state: 'sent', runId: run1 },
      { ...rows[7], fingerprint: Buffer.from(rows[7]!.fingerprint), state: 'sent', runId: run1 },
    ]);
  });

  it('confirms a page’s rows with one record: only that run’s rows of that page, idempotently', async () => {
    const audience = uniqueAudience();
    const run1 = randomUUID();
    const run2 = randomUUID();
    await store.snapshots.recordPossiblySent(audience, run1, [row('x'), row('y')], { page: 0 });
    await store.snapshots.recordPossiblySent(audience, run1, [row('w')], { page: 1 });
    await store.snapshots.recordPossiblySent(audience, run2, [row('z')], { page: 0 });
    await store.snapshots.confirmPage(audience, run1, 0);
    await store.snapshots.confirmPage(audience, run1, 0);
    const states = await store.snapshots.read(audience, [row('w'), row('x'), row('y'), row('z')]);
    expect(states.map((e) => [e.profileKey, e.state])).toEqual([
      ['w', 'possibly_sent'],
      ['x', 'sent'],
      ['y', 'sent'],
      ['z', 'possibly_sent'],
    ]);
    expect(await store.snapshots.count(audience)).toEqual({
      sent: 2,
      possiblySent: 2,
      removing: 0,
      total: 4,
      dropped: 0,
    });
    // A paged row is settled by its page alone: committing the run leaves the unconfirmed page possibly sent.
    expect(await store.snapshots.commitRun(audience, run1)).toEqual({ committed: 0, removed: 0 });
    expect((await store.snapshots.read(audience, [row('w')]))[0]?.state).toBe('possibly_sent');
  });

  it('keeps a confirmed row sent when a later run re-records it on a page Meta has not accepted', async () => {
    const audience = uniqueAudience();
    const run1 = randomUUID();
    await store.snapshots.recordPossiblySent(audience, run1, [row('a'), row('b')], { page: 0 });
    await store.snapshots.confirmPage(audience, run1, 0);
    const run2 = randomUUID();
    const a2 = { ...row('a'), cells: cellsFor('a', 2) };
    expect(await store.snapshots.recordPossiblySent(audience, run2, [a2, row('c')], { page: 0 })).toBe(2);
    const entries = await store.snapshots.read(audience, [row('a'), row('b'), row('c')]);
    expect(entries.map((e) => [e.profileKey, e.state, e.runId === run2])).toEqual([
      ['a', 'sent', true],
      ['b', 'sent', false],
      ['c', 'possibly_sent', true],
    ]);
    expect(entries[0]?.cells).toEqual(cellsFor('a', 2));
  });

  it('forgets an audience’s confirmed pages with the audience, and refuses fingerprints of the wrong size', async () => {
    const audience = uniqueAudience();
    const run = randomUUID();
    await store.snapshots.recordPossiblySent(audience, run, [row('a')], { page: 0 });
    await store.snapshots.confirmPage(audience, run, 0);
    expect(await store.snapshots.deleteAudience(audience)).toBe(1);
    const pages = await db.query('SELECT 1 FROM audience_snapshot_pages WHERE audience_id = $1', [audience]);
    expect(pages).toEqual([]);
    // The page is gone with the audience: the same row recorded again is possibly sent, not confirmed.
    await store.snapshots.recordPossiblySent(audience, run, [row('a')], { page: 0 });
    expect((await store.snapshots.count(audience)).possiblySent).toBe(1);
    expect(await store.snapshots.isEmpty(audience)).toBe(false);
    expect(await store.snapshots.isEmpty(uniqueAudience())).toBe(true);

    const short = { ...row('s'), fingerprint: Buffer.alloc(8) };
    await expect(store.snapshots.recordPossiblySent(audience, run, [short], { page: 0 })).rejects.toThrow(
      /16 bytes, got 8/,
    );
  });

  it('keeps a changed member’s old row, keeps sent rows sent when re-sent, and takes the last duplicate', async () => {
    const audience = uniqueAudience();
    const run1 = randomUUID();
    await store.snapshots.recordPossiblySent(audience, run1, [row('a'), row('b')]);
    await store.snapshots.commitRun(audience, run1);

    const run2 = randomUUID();
    const dup = { ...row('c'), cells: ['first'] };
    expect(await store.snapshots.recordPossiblySent(audience, run2, [row('a', 2), row('b'), dup, row('c')])).toBe(3);
    const entries = await store.snapshots.read(audience, [row('a'), row('a', 2), row('b'), row('c')]);
    expect(entries.map((e) => [e.profileKey, e.state, e.runId === run2])).toEqual(
      expect.arrayContaining([
        ['a', 'sent', false],
        ['a', 'possibly_sent', true],
        ['b', 'sent', true],
        ['c', 'possibly_sent', true],
      ]),
    );
    expect(entries.find((e) => e.profileKey === 'c')?.cells).toEqual(cellsFor('c'));
    expect(await store.snapshots.count(audience)).toMatchObject({ sent: 2, possiblySent: 2, total: 4 });
  });

  it('marks rows removing, deletes them when the run commits, and re-adding a removing row makes it possibly sent', async () => {
    const audience = uniqueAudience();
    const run1 = randomUUID();
    await store.snapshots.recordPossiblySent(
      audience,
      run1,
      ['a', 'b', 'c', 'd'].map((k) => row(k)),
    );
    await store.snapshots.commitRun(audience, run1);

    const run2 = randomUUID();
    expect(await store.snapshots.markRemoving(audience, run2, [row('a'), row('b'), row('zz')])).toBe(2);
    expect((await store.snapshots.count(audience)).removing).toBe(2);
    // A run that fails leaves its removing rows for the next run to retry.
    const run3 = randomUUID();
    await store.snapshots.recordPossiblySent(audience, run3, [row('b')]);
    await store.snapshots.markRemoving(audience, run3, [row('a')]);
    expect(await store.snapshots.commitRun(audience, run3)).toEqual({ committed: 1, removed: 1 });
    expect((await store.snapshots.read(audience, [row('a'), row('b')])).map((e) => [e.profileKey, e.state])).toEqual([
      ['b', 'sent'],
    ]);

    expect(await store.snapshots.deleteRows(audience, [row('c'), row('nope')])).toBe(1);
    expect(await store.snapshots.deleteAudience(audience)).toBe(2);
    expect((await store.snapshots.count(audience)).total).toBe(0);
  });

  it('supports the mirror diff as set operations against a staging table', async () => {
    const audience = uniqueAudience();
    const run1 = randomUUID();
    await store.snapshots.recordPossiblySent(
      audience,
      run1,
      ['a', 'b', 'c'].map((k) => row(k)),
      { page: 0 },
    );
    await store.snapshots.confirmPage(audience, run1, 0);
    const failed = randomUUID();
    await store.snapshots.recordPossiblySent(audience, failed, [row('d')], { page: 0 });

    // Next segment: a unchanged, b changed, c left, d (possibly sent by a failed run) still in, e joined.
    const staging = `staging_${randomUUID().replaceAll('-', '')}`;
    await db.query(
      `CREATE UNLOGGED TABLE ${staging} (row_number bigint, profile_key text, fingerprint bytea, attributes jsonb)`,
    );
    const members = [row('a'), row('b', 2), row('d'), row('e')];
    for (const [i, m] of members.entries()) {
      await db.query(`INSERT INTO ${staging} VALUES ($1, $2, $3, '{}')`, [
        i + 1,
        m.profileKey,
        Buffer.from(m.fingerprint),
      ]);
    }
    const toAdd = await db.query<{ profile_key: string }>(
      `SELECT s.profile_key FROM ${staging} s WHERE NOT EXISTS (SELECT 1 FROM audience_snapshots a
         WHERE a.audience_id = $1 AND a.profile_key = s.profile_key AND a.fingerprint = s.fingerprint
           AND ${confirmedSentSql('a')})
       ORDER BY s.row_number`,
      [audience],
    );
    const toRemove = await db.query<{ profile_key: string }>(
      `SELECT a.profile_key FROM audience_snapshots a WHERE a.audience_id = $1
         AND (a.state = 'removing' OR NOT EXISTS (SELECT 1 FROM ${staging} s WHERE s.profile_key = a.profile_key))
       ORDER BY a.profile_key, a.fingerprint`,
      [audience],
    );
    await db.query(`DROP TABLE ${staging}`);
    expect(toAdd.map((r) => r.profile_key)).toEqual(['b', 'd', 'e']);
    expect(toRemove.map((r) => r.profile_key)).toEqual(['c']);
  });

  it('writes a fresh page once: its rows possibly sent, its drops dropped; a retried page writes nothing', async () => {
    const audience = uniqueAudience();
    const run = randomUUID();
    const sent = Array.from({ length: 1_000 }, (_, i) => row(`f${i}`));
    const dropped = [row('nokey1'), row('nokey2')].map(({ profileKey, fingerprint }) => ({ profileKey, fingerprint }));
    await store.snapshots.recordPage(audience, run, 0, { sent, dropped }, { fresh: true });
    // The retry carries the same rows (the run froze them); were they written again, COPY would fail on the key.
    await store.snapshots.recordPage(audience, run, 0, { sent, dropped }, { fresh: true });
    expect(await store.snapshots.count(audience)).toEqual({
      sent: 0,
      possiblySent: 1_000,
      removing: 0,
      total: 1_000,
      dropped: 2,
    });
    const read = await store.snapshots.read(audience, [sent[999]!, dropped[0]!]);
    expect(read.map((e) => [e.profileKey, e.state, e.cells])).toEqual([
      ['f999', 'possibly_sent', sent[999]!.cells],
      ['nokey1', 'dropped', []],
    ]);
    await store.snapshots.confirmPage(audience, run, 0);
    expect((await store.snapshots.count(audience)).sent).toBe(1_000);
    // A run's record of pages written whole goes when it ends; the rows stay.
    await store.snapshots.forgetRecordedPages(run);
    expect((await store.snapshots.count(audience)).total).toBe(1_000);
  });

  it('never lets a dropped member overwrite a row at Meta, and sends a dropped member once it is usable', async () => {
    const audience = uniqueAudience();
    const [run1, run2] = [randomUUID(), randomUUID()];
    const key = ({ profileKey, fingerprint }: SnapshotRow) => ({ profileKey, fingerprint });
    await store.snapshots.recordPage(
      audience,
      run1,
      0,
      { sent: [row('a')], dropped: [key(row('b'))] },
      { fresh: false },
    );
    await store.snapshots.confirmPage(audience, run1, 0);
    await store.snapshots.recordPage(
      audience,
      run2,
      0,
      { sent: [row('b')], dropped: [key(row('a'))] },
      { fresh: false },
    );
    const states = await store.snapshots.read(audience, [row('a'), row('b')]);
    expect(states.map((e) => [e.profileKey, e.state, e.runId])).toEqual([
      ['a', 'sent', run1],
      ['b', 'possibly_sent', run2],
    ]);
  });

  it('settles a key and fingerprint when it was confirmed sent or dropped, not while it may still be missing', async () => {
    const audience = uniqueAudience();
    const [run, failed] = [randomUUID(), randomUUID()];
    const key = ({ profileKey, fingerprint }: SnapshotRow) => ({ profileKey, fingerprint });
    await store.snapshots.recordPage(audience, run, 0, { sent: [row('sent')], dropped: [key(row('dropped'))] }, { fresh: false }); // prettier-ignore
    await store.snapshots.confirmPage(audience, run, 0);
    await store.snapshots.recordPage(audience, failed, 0, { sent: [row('unconfirmed')], dropped: [] }, { fresh: false }); // prettier-ignore
    await store.snapshots.recordPossiblySent(audience, run, [row('removing')]);
    await store.snapshots.commitRun(audience, run);
    await store.snapshots.markRemoving(audience, failed, [row('removing')]);
    const filter = settledSql(audience);
    const probe = async (k: string, version = 1) => {
      const settled = filter.settled('$2', '$3');
      const known = filter.knownKey('$2');
      const [r] = await db.query<{ settled: boolean; known: boolean }>(
        `SELECT ${settled.sql} AS settled, ${known.sql} AS known`,
        [audience, k, Buffer.from(row(k, version).fingerprint)],
      );
      return [r!.settled, r!.known];
    };
    expect(await probe('sent')).toEqual([true, true]);
    expect(await probe('sent', 2)).toEqual([false, true]); // changed since
    expect(await probe('dropped')).toEqual([true, true]);
    expect(await probe('unconfirmed')).toEqual([false, false]);
    expect(await probe('removing')).toEqual([false, false]);
    expect(await probe('absent')).toEqual([false, false]);
  });

  it('starts an audience over for a replace, under the replace’s basis', async () => {
    const audience = uniqueAudience();
    const run = randomUUID();
    await store.snapshots.recordPage(audience, run, 0, { sent: [row('a'), row('b')], dropped: [] }, { fresh: true });
    await store.snapshots.confirmPage(audience, run, 0);
    await store.snapshots.putMeta(audience, { basis: 'old', changeColumn: 'updated_at', changeWatermark: 'w' });
    expect(await store.snapshots.resetAudience(audience, 'new')).toBe(2);
    expect(await store.snapshots.isEmpty(audience)).toBe(true);
    expect(await store.snapshots.meta(audience)).toEqual({ basis: 'new', changeColumn: null, changeWatermark: null });
    // Its pages are forgotten too: the replace's batch 1, retried, records its rows again.
    await store.snapshots.recordPage(audience, run, 0, { sent: [row('a')], dropped: [] }, { fresh: true });
    expect((await store.snapshots.count(audience)).possiblySent).toBe(1);
    expect(await store.snapshots.meta(uniqueAudience())).toBeUndefined();
  });

  it("an export's writes hold its destination: none outlives the destination's deletion, whatever the order", async () => {
    const rowsOf = async (audience: string) => {
      const counts = await Promise.all(
        [
          'audience_snapshots',
          'audience_snapshot_pages',
          'audience_snapshot_recorded_pages',
          'audience_snapshot_meta',
        ].map(
          async (table) =>
            (
              await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${table} WHERE audience_id = $1`, [
                audience,
              ])
            )[0]!.n,
        ),
      );
      return counts.reduce((a, b) => a + b, 0);
    };
    const writes = (audience: string, destinationId: string) => {
      const run = randomUUID();
      const writer = { destinationId };
      const meta = { basis: 'b', changeColumn: null, changeWatermark: null };
      return [
        () =>
          store.snapshots.recordPage(audience, run, 0, { sent: [row('a')], dropped: [] }, { fresh: true, ...writer }),
        () =>
          store.snapshots.recordPage(audience, run, 1, { sent: [row('b')], dropped: [] }, { fresh: false, ...writer }),
        () => store.snapshots.confirmPage(audience, run, 0, writer),
        () => store.snapshots.resetAudience(audience, 'b', writer),
        () => store.snapshots.putMeta(audience, meta, writer),
      ];
    };

    // Live: every write goes through.
    const live = await newDestination(store);
    for (const write of writes(live.audienceId!, live.id)) await write();
    expect(await rowsOf(live.audienceId!)).toBeGreaterThan(0);

    // A write that holds the destination first: the deletion waits for it, then removes what it wrote.
    let release!: () => void;
    let held!: () => void;
    const holding = new Promise<void>((r) => (held = r));
    const writing = db.transaction(async (tx) => {
      await holdDestination(tx, live.id);
      await tx.query(`INSERT INTO audience_snapshot_pages (audience_id, run_id, page) VALUES ($1, $2, 7)`, [
        live.audienceId,
        randomUUID(),
      ]);
      held();
      await new Promise<void>((r) => (release = r));
    });
    await holding;
    const deleting = store.destinations.delete(live.id);
    // The deletion is blocked on the held row (PostgreSQL says so), not merely slow.
    for (;;) {
      const [waiting] = await db.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM pg_stat_activity
         WHERE wait_event_type = 'Lock' AND query LIKE 'SELECT audience_id FROM destinations WHERE id = $1 FOR UPDATE%'`,
      );
      if (waiting!.n > 0) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    release();
    await writing;
    expect(await deleting).toBe(true);
    expect(await rowsOf(live.audienceId!)).toBe(0);

    // Once the deletion began (status deleted) or ended (row gone), every write is refused and writes nothing.
    const going = await newDestination(store);
    await store.destinations.setStatus(going.id, 'deleted');
    for (const d of [going, live]) {
      for (const write of writes(d.audienceId!, d.id)) await expect(write()).rejects.toBeInstanceOf(NotFoundError);
      expect(await rowsOf(d.audienceId!)).toBe(0);
    }
  });
});
