import type { Db, Queryable } from './db.js';
import { AudienceAlreadyUsedError, NotFoundError } from './errors.js';
import { decodeCursor, pageLimit, toPage, type Page, type PageRequest } from './paging.js';
import { isUniqueViolation, toDate } from './rows.js';

export const DestinationStatus = {
  Active: 'active',
  /** The token expired, was revoked or lacks a permission: an operator must connect Facebook again. */
  NeedsReconnect: 'needs_reconnect',
  /** The ad account has not accepted the custom audience terms. */
  NeedsTerms: 'needs_terms',
  Paused: 'paused',
  /** Being deleted: exports must stop; the row goes once in-flight work has been aborted. */
  Deleted: 'deleted',
} as const;
export type DestinationStatus = (typeof DestinationStatus)[keyof typeof DestinationStatus];

export interface Destination {
  readonly id: string;
  readonly displayName: string;
  readonly facebookAppId: string;
  /** `act_<digits>`; null while the destination is a draft (Facebook connected first, the account chosen after). */
  readonly adAccountId: string | null;
  /** Null until the audience named by `newAudienceName` has been created (or while a draft). */
  readonly audienceId: string | null;
  readonly newAudienceName: string | null;
  readonly status: DestinationStatus;
  readonly createdAt: Date;
  readonly updatedAt: Date;
}

/** A destination whose ad account and audience are chosen: what an export needs. */
export type ReadyDestination = Destination & { readonly adAccountId: string };

/** A draft has no ad account yet, or no audience (neither an existing one nor a name for a new one). */
export function isReady(d: Destination): d is ReadyDestination {
  return d.adAccountId !== null && (d.audienceId !== null || d.newAudienceName !== null);
}

/** A destination of an ad account as an erasure request sees it. */
export interface AccountDestination {
  readonly id: string;
  readonly audienceId: string | null;
  readonly hasToken: boolean;
  readonly defaultCountry: string | null;
}

/** The audience's name as we know it: the one asked for a new audience, else the audience's id, else the destination's. */
export const audienceNameOf = (d: Pick<Destination, 'newAudienceName' | 'audienceId' | 'displayName'>): string =>
  d.newAudienceName ?? d.audienceId ?? d.displayName;

export type NewDestination = Pick<Destination, 'displayName' | 'facebookAppId'> & {
  /** Leave out (with the audience) for a draft whose account is chosen once Facebook is connected. */
  readonly adAccountId?: string | null;
  /** Give an existing audience's id, or a name for one to be created at the first export. */
  readonly audienceId?: string | null;
  readonly newAudienceName?: string | null;
  readonly status?: DestinationStatus;
};

export type DestinationUpdate = Partial<
  Pick<Destination, 'displayName' | 'facebookAppId' | 'adAccountId' | 'audienceId' | 'newAudienceName' | 'status'>
>;

export interface DestinationListOptions extends PageRequest {
  status?: DestinationStatus;
}

const AUDIENCE_INDEX = 'destinations_audience_key';
const COLUMNS = `id, display_name, facebook_app_id, ad_account_id, audience_id, new_audience_name, status,
  created_at, updated_at`;

interface DestinationRow {
  id: string;
  display_name: string;
  facebook_app_id: string;
  ad_account_id: string | null;
  audience_id: string | null;
  new_audience_name: string | null;
  status: DestinationStatus;
  created_at: Date;
  updated_at: Date;
}

const fromRow = (r: DestinationRow): Destination => ({
  id: r.id,
  displayName: r.display_name,
  facebookAppId: r.facebook_app_id,
  adAccountId: r.ad_account_id,
  audienceId: r.audience_id,
  newAudienceName: r.new_audience_name,
  status: r.status,
  createdAt: toDate(r.created_at),
  updatedAt: toDate(r.updated_at),
});

const UPDATABLE: Record<keyof DestinationUpdate, string> = {
  displayName: 'display_name',
  facebookAppId: 'facebook_app_id',
  adAccountId: 'ad_account_id',
  audienceId: 'audience_id',
  newAudienceName: 'new_audience_name',
  status: 'status',
};

export type DestinationRepository = ReturnType<typeof createDestinationRepository>;

export function createDestinationRepository(db: Db) {
  /** Turns the unique-audience index refusing into the typed error the API maps to 409. */
  async function guarded<T>(adAccountId: string | null, audienceId: string | null | undefined, run: () => Promise<T>) {
    try {
      return await run();
    } catch (err) {
      if (isUniqueViolation(err, AUDIENCE_INDEX)) {
        throw new AudienceAlreadyUsedError(adAccountId ?? '', audienceId ?? '', { cause: err });
      }
      throw err;
    }
  }

  async function get(id: string, q: Queryable = db): Promise<Destination> {
    const [row] = await q.query<DestinationRow>(`SELECT ${COLUMNS} FROM destinations WHERE id = $1`, [id]);
    if (!row) throw new NotFoundError('destination', id);
    return fromRow(row);
  }

  return {
    /** @throws AudienceAlreadyUsedError when another destination already points at the audience. */
    async create(input: NewDestination): Promise<Destination> {
      const rows = await guarded(input.adAccountId ?? null, input.audienceId, () =>
        db.query<DestinationRow>(
          `INSERT INTO destinations (display_name, facebook_app_id, ad_account_id, audience_id, new_audience_name, status)
           VALUES ($1, $2, $3, $4, $5, $6) RETURNING ${COLUMNS}`,
          [
            input.displayName,
            input.facebookAppId,
            input.adAccountId ?? null,
            input.audienceId ?? null,
            input.newAudienceName ?? null,
            input.status ?? DestinationStatus.Active,
          ],
        ),
      );
      return fromRow(rows[0]!);
    },

    /** @throws NotFoundError */
    get: (id: string) => get(id),

    /** Oldest first, keyset-paged. */
    async list(options: DestinationListOptions = {}): Promise<Page<Destination>> {
      const limit = pageLimit(options.limit);
      const after = options.cursor ? decodeCursor(options.cursor) : null;
      const rows = await db.query<DestinationRow>(
        `SELECT ${COLUMNS} FROM destinations
         WHERE ($1::timestamptz IS NULL OR (created_at, id) > ($1::timestamptz, $2::uuid))
           AND ($3::text IS NULL OR status = $3)
         ORDER BY created_at, id LIMIT $4`,
        [after?.at ?? null, after?.id ?? null, options.status ?? null, limit + 1],
      );
      return toPage(rows.map(fromRow), limit, (d) => ({ at: d.createdAt, id: d.id }));
    },

    /**
     * The live destinations (not being deleted) that point at audiences of an ad account, by audience id: the
     * audience list marks those another destination owns.
     */
    async audienceOwners(adAccountId: string): Promise<Map<string, Pick<Destination, 'id' | 'displayName'>>> {
      const rows = await db.query<{ id: string; display_name: string; audience_id: string }>(
        `SELECT id, display_name, audience_id FROM destinations
         WHERE ad_account_id = $1 AND audience_id IS NOT NULL AND status <> 'deleted'`,
        [adAccountId],
      );
      return new Map(rows.map((r) => [r.audience_id, { id: r.id, displayName: r.display_name }]));
    },

    /** The ad accounts live destinations export to (drafts without one are not counted), in id order. */
    async adAccountIds(): Promise<string[]> {
      const rows = await db.query<{ ad_account_id: string }>(
        `SELECT DISTINCT ad_account_id FROM destinations
         WHERE ad_account_id IS NOT NULL AND status <> 'deleted' ORDER BY 1`,
      );
      return rows.map((r) => r.ad_account_id);
    },

    /**
     * The live destinations of an ad account, oldest first, with whether each holds a token and its export config's
     * default country: what an erasure request needs to find a connection and normalise a phone.
     */
    async ofAdAccount(adAccountId: string): Promise<AccountDestination[]> {
      const rows = await db.query<{
        id: string;
        audience_id: string | null;
        has_token: boolean;
        default_country: string | null;
      }>(
        `SELECT d.id, d.audience_id, c.destination_id IS NOT NULL AS has_token, e.default_country
         FROM destinations d
         LEFT JOIN credentials c ON c.destination_id = d.id
         LEFT JOIN export_configs e ON e.destination_id = d.id
         WHERE d.ad_account_id = $1 AND d.status <> 'deleted'
         ORDER BY d.created_at, d.id`,
        [adAccountId],
      );
      return rows.map((r) => ({
        id: r.id,
        audienceId: r.audience_id,
        hasToken: r.has_token,
        defaultCountry: r.default_country,
      }));
    },

    /** Changes only the fields given (null clears). @throws NotFoundError, AudienceAlreadyUsedError */
    async update(id: string, changes: DestinationUpdate): Promise<Destination> {
      const sets: string[] = [];
      const params: unknown[] = [id];
      for (const [field, column] of Object.entries(UPDATABLE) as [keyof DestinationUpdate, string][]) {
        if (changes[field] === undefined) continue;
        params.push(changes[field]);
        // As in setStatus: no update brings a deleted destination back.
        sets.push(
          field === 'status'
            ? `status = CASE WHEN status = 'deleted' THEN status ELSE $${params.length} END`
            : `${column} = $${params.length}`,
        );
      }
      const current = await get(id);
      if (sets.length === 0) return current;
      const rows = await guarded(
        changes.adAccountId === undefined ? current.adAccountId : changes.adAccountId,
        changes.audienceId === undefined ? current.audienceId : changes.audienceId,
        () =>
          db.query<DestinationRow>(
            `UPDATE destinations SET ${sets.join(', ')}, updated_at = now() WHERE id = $1 RETURNING ${COLUMNS}`,
            params,
          ),
      );
      if (!rows[0]) throw new NotFoundError('destination', id);
      return fromRow(rows[0]);
    },

    /**
     * Sets the status, except that a deleted destination stays deleted: only its deletion sets `deleted`, and any
     * other status for it (a token check or an export's validation that ran meanwhile) changes nothing and returns
     * it as it is, status `deleted`, so a caller flagging it on its way out keeps its own error. The guard is the
     * UPDATE's own condition, so a deletion committing meanwhile cannot be overwritten either.
     * @throws NotFoundError when there is no such destination (or its deletion has finished).
     */
    async setStatus(id: string, status: DestinationStatus): Promise<Destination> {
      const [row] = await db.query<DestinationRow>(
        `UPDATE destinations SET status = $2, updated_at = now()
         WHERE id = $1 AND (status <> 'deleted' OR $2 = 'deleted') RETURNING ${COLUMNS}`,
        [id, status],
      );
      return row ? fromRow(row) : get(id);
    },

    /**
     * Records the ad account's Custom Audience terms as Facebook reports them, as an export's validation would:
     * an active destination whose account has not accepted them becomes `needs_terms`, and one marked so goes back
     * to `active` once they are accepted. Other statuses (reconnect, paused, deleted) are left alone.
     */
    async recordTermsAccepted(id: string, accepted: boolean): Promise<void> {
      const [from, to] = accepted
        ? [DestinationStatus.NeedsTerms, DestinationStatus.Active]
        : [DestinationStatus.Active, DestinationStatus.NeedsTerms];
      await db.query('UPDATE destinations SET status = $3, updated_at = now() WHERE id = $1 AND status = $2', [
        id,
        from,
        to,
      ]);
    },

    /**
     * Records the audience created for this destination. Idempotent for the same id (a retried activity);
     * @throws NotFoundError, AudienceAlreadyUsedError
     */
    async setAudience(id: string, audienceId: string): Promise<Destination> {
      const current = await get(id);
      if (current.audienceId === audienceId) return current;
      const rows = await guarded(current.adAccountId, audienceId, () =>
        db.query<DestinationRow>(
          `UPDATE destinations SET audience_id = $2, updated_at = now() WHERE id = $1 RETURNING ${COLUMNS}`,
          [id, audienceId],
        ),
      );
      if (!rows[0]) throw new NotFoundError('destination', id);
      return fromRow(rows[0]);
    },

    /**
     * Deletes the destination with its credentials, export config and audience snapshot (hashed identifiers are
     * still personal data) in one transaction. Consent records and run history stay as evidence. An export's
     * snapshot write in flight meanwhile cannot leave rows behind: it holds the destination ({@link holdDestination}),
     * so it either commits before this transaction takes the row or finds the destination gone.
     * @returns false when there was no such destination.
     */
    async delete(id: string): Promise<boolean> {
      return db.transaction(async (tx) => {
        const [row] = await tx.query<{ audience_id: string | null }>(
          'SELECT audience_id FROM destinations WHERE id = $1 FOR UPDATE',
          [id],
        );
        if (!row) return false;
        if (row.audience_id) {
          await tx.query('DELETE FROM audience_snapshots WHERE audience_id = $1', [row.audience_id]);
          await tx.query('DELETE FROM audience_snapshot_pages WHERE audience_id = $1', [row.audience_id]);
          await tx.query('DELETE FROM audience_snapshot_recorded_pages WHERE audience_id = $1', [row.audience_id]);
          await tx.query('DELETE FROM audience_snapshot_meta WHERE audience_id = $1', [row.audience_id]);
        }
        // credentials and export_configs go by ON DELETE CASCADE.
        await tx.query('DELETE FROM destinations WHERE id = $1', [id]);
        return true;
      });
    },
  };
}

/**
 * Holds destination `id` until transaction `tx` ends, or throws NotFoundError when it is gone or being deleted
 * (status `deleted`). The hold is a share lock on its row, which the deletion's status change and its row lock wait
 * for. Each write of an export to the destination's snapshot takes it first, in the write's transaction, so no
 * snapshot row can outlive the deletion whatever the timing: a write that holds the destination first commits
 * before the deletion removes the snapshot, and a write that comes after the deletion began is refused.
 */
export async function holdDestination(tx: Queryable, id: string): Promise<void> {
  const [row] = await tx.query<{ status: DestinationStatus }>(
    'SELECT status FROM destinations WHERE id = $1 FOR SHARE',
    [id],
  );
  if (!row || row.status === DestinationStatus.Deleted) throw new NotFoundError('destination', id);
}

/**
 * Waits for every snapshot write in flight to commit, and keeps new ones waiting until transaction `tx` ends: a lock
 * on every destination's row that conflicts with {@link holdDestination}'s share lock (and not with the key share
 * lock a foreign key takes, so runs still start meanwhile). An erasure lists people on the suppression list under
 * it, so each snapshot write either commits before (and the erasure's search that follows finds its rows) or comes
 * after and re-checks the list, leaving the person out. In id order, so two erasures at once do not deadlock.
 */
export async function fenceSnapshotWrites(tx: Queryable): Promise<void> {
  await tx.query('SELECT 1 FROM destinations ORDER BY id FOR NO KEY UPDATE');
}
