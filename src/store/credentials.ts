import type { TokenCipher } from './crypto.js';
import type { Db } from './db.js';
import { NotFoundError } from './errors.js';
import { toBuffer, toDate, toDateOrNull } from './rows.js';

export const CredentialKind = {
  /** A Business Manager system user's token: does not expire unless revoked. */
  SystemUser: 'system_user',
  /** A person's token from Facebook Login: long-lived, about 60 days. */
  Login: 'login',
} as const;
export type CredentialKind = (typeof CredentialKind)[keyof typeof CredentialKind];

/** Everything about a stored credential except the token itself. */
export interface CredentialInfo {
  readonly destinationId: string;
  readonly kind: CredentialKind;
  readonly scopes: readonly string[];
  readonly expiresAt: Date | null;
  readonly verifiedAt: Date | null;
  /** Which key the token is sealed under; older than the current one means it awaits re-encryption. */
  readonly keyVersion: number | undefined;
  readonly createdAt: Date;
  readonly updatedAt: Date;
}

export interface SaveCredential {
  readonly kind: CredentialKind;
  readonly token: string;
  readonly scopes?: readonly string[];
  readonly expiresAt?: Date | null;
  readonly verifiedAt?: Date | null;
}

interface CredentialRow {
  destination_id: string;
  kind: CredentialKind;
  token_sealed: Uint8Array;
  scopes: string[];
  expires_at: Date | null;
  verified_at: Date | null;
  created_at: Date;
  updated_at: Date;
}

const INFO_COLUMNS =
  'destination_id, kind, substring(token_sealed from 1 for 1) AS token_sealed, scopes, expires_at, verified_at, created_at, updated_at';

export type CredentialRepository = ReturnType<typeof createCredentialRepository>;

/**
 * Facebook tokens, sealed with AES-256-GCM. Only `getToken` ever decrypts, and it is meant for activities that call
 * the Graph API; nothing else returns the token (the API describes credentials with `describe`).
 */
export function createCredentialRepository(db: Db, cipher: TokenCipher) {
  const toInfo = (r: CredentialRow): CredentialInfo => ({
    destinationId: r.destination_id,
    kind: r.kind,
    scopes: r.scopes,
    expiresAt: toDateOrNull(r.expires_at),
    verifiedAt: toDateOrNull(r.verified_at),
    // Only the version byte is selected for descriptions: the sealed token never leaves the database for them.
    keyVersion: toBuffer(r.token_sealed)[0],
    createdAt: toDate(r.created_at),
    updatedAt: toDate(r.updated_at),
  });

  return {
    /** Stores (or replaces) the destination's token. @throws NotFoundError, EncryptionKeyMissingError */
    async save(destinationId: string, input: SaveCredential): Promise<CredentialInfo> {
      const sealed = cipher.encrypt(input.token, destinationId);
      const rows = await db.query<CredentialRow>(
        `INSERT INTO credentials (destination_id, kind, token_sealed, scopes, expires_at, verified_at)
         SELECT id, $2, $3, $4, $5, $6 FROM destinations WHERE id = $1
         ON CONFLICT (destination_id) DO UPDATE SET kind = EXCLUDED.kind, token_sealed = EXCLUDED.token_sealed,
           scopes = EXCLUDED.scopes, expires_at = EXCLUDED.expires_at, verified_at = EXCLUDED.verified_at,
           updated_at = now()
         RETURNING ${INFO_COLUMNS}`,
        [destinationId, input.kind, sealed, input.scopes ?? [], input.expiresAt ?? null, input.verifiedAt ?? null],
      );
      if (!rows[0]) throw new NotFoundError('destination', destinationId);
      return toInfo(rows[0]);
    },

    /** The credential without its token, or null when none is stored. */
    async describe(destinationId: string): Promise<CredentialInfo | null> {
      const [row] = await db.query<CredentialRow>(`SELECT ${INFO_COLUMNS} FROM credentials WHERE destination_id = $1`, [
        destinationId,
      ]);
      return row ? toInfo(row) : null;
    },

    /**
     * The clear token, for activities calling the Graph API only. Never log it or pass it through Temporal.
     * @throws NotFoundError, EncryptionKeyMissingError, TokenUndecryptableError
     */
    async getToken(destinationId: string): Promise<string> {
      const [row] = await db.query<Pick<CredentialRow, 'token_sealed'>>(
        'SELECT token_sealed FROM credentials WHERE destination_id = $1',
        [destinationId],
      );
      if (!row) throw new NotFoundError('credential', destinationId);
      return cipher.decrypt(toBuffer(row.token_sealed), destinationId);
    },

    /** Records a successful check of the token (debug_token / permissions), optionally with what it showed. */
    async markVerified(
      destinationId: string,
      at: Date,
      facts: { scopes?: readonly string[]; expiresAt?: Date | null } = {},
    ): Promise<CredentialInfo> {
      const [row] = await db.query<CredentialRow>(
        `UPDATE credentials SET verified_at = $2, scopes = COALESCE($3, scopes),
           expires_at = CASE WHEN $4::boolean THEN $5 ELSE expires_at END, updated_at = now()
         WHERE destination_id = $1 RETURNING ${INFO_COLUMNS}`,
        [destinationId, at, facts.scopes ?? null, facts.expiresAt !== undefined, facts.expiresAt ?? null],
      );
      if (!row) throw new NotFoundError('credential', destinationId);
      return toInfo(row);
    },

    /** Credentials expiring before `before` (the daily token check warns about these), soonest first. */
    async listExpiringBefore(before: Date): Promise<CredentialInfo[]> {
      const rows = await db.query<CredentialRow>(
        `SELECT ${INFO_COLUMNS} FROM credentials WHERE expires_at < $1 ORDER BY expires_at, destination_id`,
        [before],
      );
      return rows.map(toInfo);
    },

    /**
     * Re-seals every token not under the current key (after a rotation). A token that cannot be decrypted (a key
     * no longer held, or tampering) is left as it is and named in `undecryptable` (its destination must reconnect).
     */
    async reencryptAll(): Promise<{ reencrypted: number; undecryptable: string[] }> {
      const rows = await db.query<Pick<CredentialRow, 'destination_id' | 'token_sealed'>>(
        `SELECT destination_id, token_sealed FROM credentials WHERE get_byte(token_sealed, 0) <> $1`,
        [cipher.currentKeyVersion],
      );
      const undecryptable: string[] = [];
      let reencrypted = 0;
      for (const r of rows) {
        let token: string;
        try {
          token = cipher.decrypt(toBuffer(r.token_sealed), r.destination_id);
        } catch {
          undecryptable.push(r.destination_id);
          continue;
        }
        // Compare-and-set on the old bytes: a token saved meanwhile is already under the current key.
        const done = await db.query(
          `UPDATE credentials SET token_sealed = $3, updated_at = now()
           WHERE destination_id = $1 AND token_sealed = $2 RETURNING 1`,
          [r.destination_id, toBuffer(r.token_sealed), cipher.encrypt(token, r.destination_id)],
        );
        reencrypted += done.length;
      }
      return { reencrypted, undecryptable };
    },

    /** @returns false when none was stored. */
    async delete(destinationId: string): Promise<boolean> {
      const rows = await db.query('DELETE FROM credentials WHERE destination_id = $1 RETURNING destination_id', [
        destinationId,
      ]);
      return rows.length > 0;
    },
  };
}
