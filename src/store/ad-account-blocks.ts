import type { Db } from './db.js';
import { toDate } from './rows.js';

export interface AdAccountBlock {
  readonly adAccountId: string;
  readonly blockedUntil: Date;
  readonly reason: string;
}

export type AdAccountBlockRepository = ReturnType<typeof createAdAccountBlockRepository>;

/**
 * Meta's rate limits are per ad account, so a throttle seen by one export makes every export to that account
 * wait (design "Rate limits").
 */
export function createAdAccountBlockRepository(db: Db) {
  return {
    /**
     * Blocks the ad account until `until`. Only ever extends a block (GREATEST), so concurrent throttled pages
     * reporting different waits leave the longest; the reason follows the block that sets the end time.
     * Returns the block in force afterwards.
     */
    async block(adAccountId: string, until: Date, reason: string): Promise<AdAccountBlock> {
      const [row] = await db.query<{ ad_account_id: string; blocked_until: Date; reason: string }>(
        `INSERT INTO ad_account_blocks AS b (ad_account_id, blocked_until, reason) VALUES ($1, $2, $3)
         ON CONFLICT (ad_account_id) DO UPDATE SET
           reason = CASE WHEN EXCLUDED.blocked_until > b.blocked_until THEN EXCLUDED.reason ELSE b.reason END,
           blocked_until = GREATEST(b.blocked_until, EXCLUDED.blocked_until), updated_at = now()
         RETURNING ad_account_id, blocked_until, reason`,
        [adAccountId, until, reason],
      );
      return { adAccountId: row!.ad_account_id, blockedUntil: toDate(row!.blocked_until), reason: row!.reason };
    },

    /** The end of the block in force now, or null when the account is not blocked. */
    async blockedUntil(adAccountId: string, now: Date = new Date()): Promise<Date | null> {
      const [row] = await db.query<{ blocked_until: Date }>(
        'SELECT blocked_until FROM ad_account_blocks WHERE ad_account_id = $1 AND blocked_until > $2',
        [adAccountId, now],
      );
      return row ? toDate(row.blocked_until) : null;
    },

    /** The block in force now with its reason, or null. */
    async get(adAccountId: string, now: Date = new Date()): Promise<AdAccountBlock | null> {
      const [row] = await db.query<{ blocked_until: Date; reason: string }>(
        'SELECT blocked_until, reason FROM ad_account_blocks WHERE ad_account_id = $1 AND blocked_until > $2',
        [adAccountId, now],
      );
      return row ? { adAccountId, blockedUntil: toDate(row.blocked_until), reason: row.reason } : null;
    },
  };
}
