import { randomBytes, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApiDeps } from '../../src/api/deps.js';
import { erasePerson } from '../../src/api/services/erasure.js';
import { identifierOnlyRow } from '../../src/api/services/erasure-rows.js';
import type { Cell } from '../../src/domain/canonical-row.js';
import { hashCell, normalize } from '../../src/domain/normalize.js';
import type { Db, Queryable } from '../../src/store/db.js';
import { createStore, migrate, type Store } from '../../src/store/index.js';
import type { SnapshotRow } from '../../src/store/snapshots.js';
import { openSchemaDb } from '../support/context.js';
import { newDestination, TEST_KEY, waitForLockWait } from '../store/helpers.js';

/** The statement an erasure's listing waits in while a snapshot write holds its destination. */
const FENCE = 'SELECT 1 FROM destinations ORDER BY id FOR NO KEY UPDATE';

const emailHash = (email: string) => hashCell('EMAIL', normalize('EMAIL', email));
/** A row as an export sends it: EXTERN_ID is the profile key, so it differs from the erasure's identifier-only row. */
function rowOf(profileKey: string, email: string): SnapshotRow {
  const cells = identifierOnlyRow({ kind: 'EMAIL', hash: emailHash(email) });
  cells[0] = profileKey;
  return { profileKey, fingerprint: randomBytes(16), cells };
}

/**
 * `db`, except that a transaction holding a destination (the `FOR SHARE` lock every snapshot write takes first) stops
 * when its work is done, before it commits, until `release()`: a page's write caught at the end of its window, its
 * rows written and checked against the suppression list but not committed.
 */
function pausingBeforeCommit(db: Db) {
  let reached!: () => void;
  let release!: () => void;
  const held = new Promise<void>((r) => (reached = r));
  const gate = new Promise<void>((r) => (release = r));
  const transaction = <T>(fn: (tx: Queryable) => Promise<T>): Promise<T> =>
    db.transaction(async (tx) => {
      let holds = false;
      const out = await fn({
        ...tx,
        query: <R extends object>(sql: string, params?: readonly unknown[]) => {
          holds ||= sql.includes('FOR SHARE');
          return tx.query<R>(sql, params);
        },
      });
      if (holds) {
        reached();
        await gate;
      }
      return out;
    });
  const paused: Db = { ...db, transaction };
  return { db: paused, held, release };
}

/**
 * Erasure against an upload page built before it (#24): the page's snapshot write and the erasure are interleaved
 * on two connections, in the two orders that left the erased person's rows in the snapshot (and sent).
 */
describe('erasure racing an upload page', () => {
  let db: Db;
  let store: Store;
  const removed: (readonly Cell[])[] = [];
  let deps: Parameters<typeof erasePerson>[0];

  beforeAll(async () => {
    // Its own schema: the people it erases would be left out of other test files' exports.
    db = await openSchemaDb('erasure_race');
    await migrate(db);
    store = createStore(db, { encryptionKey: TEST_KEY });
    const graph = {
      removeFromAllAudiences(_adAccountId: string, payload: { data: readonly (readonly Cell[])[] }) {
        removed.push(...payload.data);
        return Promise.resolve({ numReceived: payload.data.length, numInvalidEntries: 0, invalidEntrySamples: [] });
      },
    };
    deps = {
      config: {} as ApiDeps['config'],
      store,
      graph: graph as unknown as ApiDeps['graph'],
      logger: { info: () => undefined } as unknown as ApiDeps['logger'],
    };
  });
  afterAll(() => db?.close());

  async function exportedDestination() {
    const d = await newDestination(store);
    await store.credentials.save(d.id, { kind: 'system_user', token: 'EAAB-erasure-race' });
    return { ...d, audienceId: d.audienceId! };
  }
  const snapshotKeys = async (audienceId: string, state = "state <> 'dropped'") =>
    (
      await db.query<{ profile_key: string }>(
        `SELECT profile_key FROM audience_snapshots WHERE audience_id = $1 AND ${state} ORDER BY 1`,
        [audienceId],
      )
    ).map((r) => r.profile_key);

  it('waits for a page write holding the destination to commit, then finds and erases its rows', async () => {
    const d = await exportedDestination();
    const ann = rowOf('ann', 'ann@example.com');
    const bob = rowOf('bob', 'bob@example.com');
    const page = pausingBeforeCommit(db);
    const pageStore = createStore(page.db, { encryptionKey: TEST_KEY });
    // Built before the erasure: nobody is listed yet.
    const checked = await store.suppressions.size();
    const writing = pageStore.snapshots.recordPage(
      d.audienceId,
      randomUUID(),
      0,
      { sent: [ann, bob], dropped: [] },
      { fresh: true, destinationId: d.id, suppressionsChecked: checked },
    );
    await page.held;

    let erased = false;
    const erasing = erasePerson(deps, { email: 'ann@example.com' }).finally(() => (erased = true));
    // The erasure waits for the write (or, without the fence, runs to its end past it).
    await waitForLockWait(db, FENCE, () => erased);
    page.release();
    expect(await writing).toEqual(new Set());
    const result = await erasing;

    expect(await snapshotKeys(d.audienceId, 'true')).toEqual(['bob']);
    expect(result).toMatchObject({ snapshotRowsMatched: 1, snapshotRowsDeleted: 1 });
    // The row the page wrote went to Meta's removal as it was sent.
    expect(removed).toContainEqual(ann.cells);
  });

  it.each([true, false])(
    'a page built before the erasure and written after it leaves the person out (fresh %s)',
    async (fresh) => {
      const d = await exportedDestination();
      const email = `carol-${String(fresh)}@example.com`;
      const carol = rowOf(`carol-${String(fresh)}`, email);
      const dan = rowOf(`dan-${String(fresh)}`, `dan-${String(fresh)}@example.com`);
      // Built and checked against the list before the erasure.
      const checked = await store.suppressions.size();
      await erasePerson(deps, { email });

      const erasedSince = await store.snapshots.recordPage(
        d.audienceId,
        randomUUID(),
        0,
        { sent: [carol, dan], dropped: [] },
        { fresh, destinationId: d.id, suppressionsChecked: checked },
      );
      // Returned so the page does not send them; recorded as a member the run examined and did not send.
      expect(erasedSince).toEqual(new Set([carol.profileKey]));
      expect(await snapshotKeys(d.audienceId)).toEqual([dan.profileKey]);
      expect(await snapshotKeys(d.audienceId, "state = 'dropped'")).toEqual([carol.profileKey]);
    },
  );

  it("keeps the list's size beside it: new entries move it, entries listed already do not", async () => {
    const listedNow = async () =>
      Number((await db.query<{ n: number }>('SELECT count(*)::int AS n FROM erasure_suppressions'))[0]!.n);
    const before = await store.suppressions.size();
    expect(before).toBe(await listedNow());
    const entry = () => ({ kind: 'EMAIL' as const, hash: randomBytes(32).toString('hex') });
    const [a, b] = [entry(), entry()];
    expect(await store.suppressions.add([a, b])).toBe(2);
    expect(await store.suppressions.add([a, entry()])).toBe(1);
    expect(await store.suppressions.size()).toBe(before + 3);
    expect(await store.suppressions.size()).toBe(await listedNow());
  });

  it('tells a page posted before an erasure whom of its rows the list took since they were checked', async () => {
    const erin = rowOf('erin', 'erin@example.com');
    const finn = rowOf('finn', 'finn@example.com');
    const checked = await store.suppressions.size();
    expect(await store.suppressions.listedSince([erin, finn], checked)).toEqual(new Set());
    await store.suppressions.add([{ kind: 'EMAIL', hash: emailHash('erin@example.com') }]);
    expect(await store.suppressions.listedSince([erin, finn], checked)).toEqual(new Set(['erin']));
    // Checked at the size it has now, nobody is looked up.
    expect(await store.suppressions.listedSince([erin, finn], checked + 1)).toEqual(new Set());
  });
});
