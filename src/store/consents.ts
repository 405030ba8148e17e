import type { Db } from './db.js';
import { NotFoundError } from './errors.js';
import { toDate, toDateOrNull } from './rows.js';

/** An operator's agreement, for a destination, to a version of our data-processing statement. */
export interface ConsentRecord {
  readonly id: string;
  readonly destinationId: string;
  /** The operator (id or email): not a customer's personal data. */
  readonly givenBy: string;
  /** The name of the API key that recorded it (null before keys had names). */
  readonly givenByKey: string | null;
  readonly givenAt: Date;
  readonly statementVersion: string;
  readonly withdrawnAt: Date | null;
  readonly withdrawnBy: string | null;
  readonly withdrawnByKey: string | null;
}

interface ConsentRow {
  id: string;
  destination_id: string;
  given_by: string;
  given_by_key: string | null;
  given_at: Date;
  statement_version: string;
  withdrawn_at: Date | null;
  withdrawn_by: string | null;
  withdrawn_by_key: string | null;
}

const fromRow = (r: ConsentRow): ConsentRecord => ({
  id: r.id,
  destinationId: r.destination_id,
  givenBy: r.given_by,
  givenByKey: r.given_by_key,
  givenAt: toDate(r.given_at),
  statementVersion: r.statement_version,
  withdrawnAt: toDateOrNull(r.withdrawn_at),
  withdrawnBy: r.withdrawn_by,
  withdrawnByKey: r.withdrawn_by_key,
});

const COLUMNS =
  'id, destination_id, given_by, given_by_key, given_at, statement_version, withdrawn_at, withdrawn_by, withdrawn_by_key';

export type ConsentRepository = ReturnType<typeof createConsentRepository>;

/**
 * Append-only: records are never deleted or rewritten; a withdrawal only fills in `withdrawnAt`/`withdrawnBy`
 * once. Records outlive their destination, as evidence of what was agreed.
 */
export function createConsentRepository(db: Db) {
  return {
    /** @throws NotFoundError when the destination does not exist. */
    async record(
      destinationId: string,
      input: { givenBy: string; givenByKey?: string; statementVersion: string; givenAt?: Date },
    ): Promise<ConsentRecord> {
      const [row] = await db.query<ConsentRow>(
        `INSERT INTO consent_records (destination_id, given_by, given_by_key, statement_version, given_at)
         SELECT id, $2, $3, $4, COALESCE($5, now()) FROM destinations WHERE id = $1
         RETURNING ${COLUMNS}`,
        [destinationId, input.givenBy, input.givenByKey ?? null, input.statementVersion, input.givenAt ?? null],
      );
      if (!row) throw new NotFoundError('destination', destinationId);
      return fromRow(row);
    },

    /** The latest consent not withdrawn, or null: exports must not start without one. */
    async current(destinationId: string): Promise<ConsentRecord | null> {
      const [row] = await db.query<ConsentRow>(
        `SELECT ${COLUMNS} FROM consent_records WHERE destination_id = $1 AND withdrawn_at IS NULL
         ORDER BY given_at DESC, id DESC LIMIT 1`,
        [destinationId],
      );
      return row ? fromRow(row) : null;
    },

    /**
     * Withdraws every active consent of the destination. Returns the records it withdrew (empty when there was
     * nothing to withdraw, so a repeated call is harmless).
     */
    async withdraw(
      destinationId: string,
      input: { withdrawnBy: string; withdrawnByKey?: string; withdrawnAt?: Date },
    ): Promise<ConsentRecord[]> {
      const rows = await db.query<ConsentRow>(
        `UPDATE consent_records SET withdrawn_at = COALESCE($3, now()), withdrawn_by = $2, withdrawn_by_key = $4
         WHERE destination_id = $1 AND withdrawn_at IS NULL RETURNING ${COLUMNS}`,
        [destinationId, input.withdrawnBy, input.withdrawnAt ?? null, input.withdrawnByKey ?? null],
      );
      return rows.map(fromRow).sort((a, b) => b.givenAt.getTime() - a.givenAt.getTime());
    },

    /** Every record of the destination, newest first. */
    async history(destinationId: string): Promise<ConsentRecord[]> {
      const rows = await db.query<ConsentRow>(
        `SELECT ${COLUMNS} FROM consent_records WHERE destination_id = $1 ORDER BY given_at DESC, id DESC`,
        [destinationId],
      );
      return rows.map(fromRow);
    },
  };
}
