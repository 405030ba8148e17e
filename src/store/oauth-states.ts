import type { Db } from './db.js';

export type OAuthStateRepository = ReturnType<typeof createOAuthStateRepository>;

/** Nonces of OAuth `state` values already redeemed, so each signed state works once. */
export function createOAuthStateRepository(db: Db) {
  return {
    /**
     * Marks the nonce used; false when it already was (a replayed callback). Nonces of states expired over an hour
     * ago are swept first: they can no longer be redeemed anyway.
     */
    async redeem(nonce: string, destinationId: string, expiresAt: Date): Promise<boolean> {
      await db.query("DELETE FROM oauth_states_used WHERE expires_at < now() - interval '1 hour'");
      const rows = await db.query(
        `INSERT INTO oauth_states_used (nonce, destination_id, expires_at) VALUES ($1, $2, $3)
         ON CONFLICT (nonce) DO NOTHING RETURNING nonce`,
        [nonce, destinationId, expiresAt],
      );
      return rows.length > 0;
    },
  };
}
