import { randomBytes, randomInt } from 'node:crypto';
import type { Db } from '../../src/store/db.js';
import { createStore, type Store } from '../../src/store/index.js';
import { migrate } from '../../src/store/migrate.js';
import { openTestDb } from '../support/context.js';

export const TEST_KEY = randomBytes(32);

/** Test files share the run's database, so every ad account and audience id is unique. */
export const uniqueAdAccount = (): string => `act_${randomInt(1e9, 2 ** 47)}`;
export const uniqueAudience = (): string => String(randomInt(1e12, 2 ** 47));

export async function openTestStore(): Promise<{ db: Db; store: Store }> {
  const db = await openTestDb();
  await migrate(db);
  return { db, store: createStore(db, { encryptionKey: TEST_KEY }) };
}

export function newDestination(store: Store, audienceId: string | null = uniqueAudience()) {
  return store.destinations.create({
    displayName: 'Newsletter subscribers',
    facebookAppId: '1234567890',
    adAccountId: uniqueAdAccount(),
    audienceId,
    newAudienceName: audienceId ? null : 'Newsletter (audience-export)',
  });
}

/**
 * Whether a statement of this run's database starting with `queryPrefix` waits for a lock (PostgreSQL says so): a
 * test interleaving two transactions knows the second is blocked, not merely slow.
 */
export async function isLockWaiting(db: Db, queryPrefix: string): Promise<boolean> {
  const [waiting] = await db.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM pg_stat_activity
     WHERE datname = current_database() AND wait_event_type = 'Lock' AND starts_with(ltrim(query), $1)`,
    [queryPrefix],
  );
  return waiting!.n > 0;
}

/** Resolves once such a statement waits for a lock ({@link isLockWaiting}), or once `done()` says to stop looking. */
export async function waitForLockWait(db: Db, queryPrefix: string, done: () => boolean = () => false): Promise<void> {
  while (!done() && !(await isLockWaiting(db, queryPrefix))) await new Promise((r) => setTimeout(r, 20));
}
