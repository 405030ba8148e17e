import type { Db } from './db.js';
import { toBuffer } from './rows.js';
import { decodeCells, encodeCells, type Cell } from './snapshot-codec.js';

/*
 * Audience membership snapshots: what each audience holds, as far as we know (design "Modes").
 *
 * Table audience_snapshots (audience_id, profile_key, fingerprint bytea(16), cells bytea, state, run_id),
 * primary key (audience_id, profile_key, fingerprint). A changed member gets a second row (new fingerprint) and
 * keeps the old one until the profile leaves, because a remove and an add of one person in one run can race at Meta.
 *
 * States: `possibly_sent` is written *before* a page is posted, so rows of a run that failed half-way are still
 * known (and removed later); `sent` once the run commits; `removing` before a remove is posted.
 *
 * The mirror diff is the integrator's SQL, run against a run's frozen staging table
 * staging(row_number bigint, profile_key text, fingerprint bytea, attributes jsonb). Intended shape:
 *
 *   -- to add: members whose current fingerprint was never confirmed sent (joined, changed, or possibly sent)
 *   SELECT s.row_number, s.profile_key, s.fingerprint, s.attributes FROM staging s
 *   WHERE NOT EXISTS (SELECT 1 FROM audience_snapshots a WHERE a.audience_id = $1
 *     AND a.profile_key = s.profile_key AND a.fingerprint = s.fingerprint AND a.state = 'sent')
 *   ORDER BY s.row_number;
 *
 *   -- to remove: rows for profiles that left the segment (every fingerprint of theirs), and rows left
 *   -- `removing` by an earlier run; a changed member's old row stays while the profile is still a member
 *   SELECT a.profile_key, a.fingerprint, a.cells FROM audience_snapshots a
 *   WHERE a.audience_id = $1
 *     AND (a.state = 'removing' OR NOT EXISTS (SELECT 1 FROM staging s WHERE s.profile_key = a.profile_key))
 *   ORDER BY a.profile_key, a.fingerprint;
 *
 * Both are anti-joins on indexed keys (the primary key here; staging needs an index on profile_key, and on
 * (profile_key, fingerprint) for the add side), so PostgreSQL plans them as hash or merge anti-joins over
 * millions of rows. Profiles whose per-profile consent is withdrawn are left out of staging, so they fall into the
 * remove side too. Add-diff rows are recorded with `recordPossiblySent` before their page is posted; remove
 * rows are marked `removing` before theirs; `commitRun` then settles both.
 */

export const SnapshotState = {
  Sent: 'sent',
  PossiblySent: 'possibly_sent',
  Removing: 'removing',
} as const;
export type SnapshotState = (typeof SnapshotState)[keyof typeof SnapshotState];

export interface SnapshotKey {
  readonly profileKey: string;
  /** 16 bytes is plenty: a digest of the mapped raw attributes, computed when the run froze its members. */
  readonly fingerprint: Uint8Array;
}

export interface SnapshotRow extends SnapshotKey {
  /** The row's cells exactly as posted to Meta, in the audience's canonical schema. */
  readonly cells: readonly Cell[];
}

export interface SnapshotEntry extends SnapshotRow {
  readonly state: SnapshotState;
  readonly runId: string;
}

export interface SnapshotCounts {
  readonly sent: number;
  readonly possiblySent: number;
  readonly removing: number;
  readonly total: number;
}

const hex = (b: Uint8Array): string => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');

export type SnapshotRepository = ReturnType<typeof createSnapshotRepository>;

export function createSnapshotRepository(db: Db) {
  /** Keys travel as two parallel arrays (profile keys, hex fingerprints) so one statement handles thousands. */
  const keyArrays = (keys: readonly SnapshotKey[]): [string[], string[]] => [
    keys.map((k) => k.profileKey),
    keys.map((k) => hex(k.fingerprint)),
  ];

  return {
    /**
     * Records rows as possibly sent by `runId`, before their page is posted. A row already `sent` stays sent (it
     * is at Meta whatever this post does) but takes the new cells and run; a `removing` row is possibly sent again.
     * Duplicate keys within one call keep the last. Returns the number of rows written.
     */
    async recordPossiblySent(audienceId: string, runId: string, rows: readonly SnapshotRow[]): Promise<number> {
      if (rows.length === 0) return 0;
      const [keys, fingerprints] = keyArrays(rows);
      const cells = rows.map((r) => encodeCells(r.cells).toString('hex'));
      const result = await db.query<{ n: number }>(
        `WITH input AS (
           SELECT DISTINCT ON (k, f) k, f, c FROM unnest($3::text[], $4::text[], $5::text[]) WITH ORDINALITY AS t(k, f, c, i)
           ORDER BY k, f, i DESC
         ), written AS (
           INSERT INTO audience_snapshots AS a (audience_id, profile_key, fingerprint, cells, state, run_id)
           SELECT $1, k, decode(f, 'hex'), decode(c, 'hex'), 'possibly_sent', $2::uuid FROM input
           ON CONFLICT (audience_id, profile_key, fingerprint) DO UPDATE SET cells = EXCLUDED.cells,
             run_id = EXCLUDED.run_id, state = CASE WHEN a.state = 'sent' THEN 'sent' ELSE 'possibly_sent' END
           RETURNING 1
         ) SELECT count(*)::int AS n FROM written`,
        [audienceId, runId, keys, fingerprints, cells],
      );
      return result[0]?.n ?? 0;
    },

    /** Marks rows as being removed by `runId`, before the remove is posted. Returns how many rows it marked. */
    async markRemoving(audienceId: string, runId: string, keys: readonly SnapshotKey[]): Promise<number> {
      if (keys.length === 0) return 0;
      const [profileKeys, fingerprints] = keyArrays(keys);
      const rows = await db.query(
        `UPDATE audience_snapshots a SET state = 'removing', run_id = $2::uuid
         FROM unnest($3::text[], $4::text[]) AS t(k, f)
         WHERE a.audience_id = $1 AND a.profile_key = t.k AND a.fingerprint = decode(t.f, 'hex')
         RETURNING 1`,
        [audienceId, runId, profileKeys, fingerprints],
      );
      return rows.length;
    },

    /**
     * Settles a run once every page succeeded: its possibly-sent rows become sent, its removing rows go.
     * Idempotent.
     */
    async commitRun(audienceId: string, runId: string): Promise<{ committed: number; removed: number }> {
      return db.transaction(async (tx) => {
        const committed = await tx.query(
          `UPDATE audience_snapshots SET state = 'sent'
           WHERE audience_id = $1 AND run_id = $2 AND state = 'possibly_sent' RETURNING 1`,
          [audienceId, runId],
        );
        const removed = await tx.query(
          `DELETE FROM audience_snapshots WHERE audience_id = $1 AND run_id = $2 AND state = 'removing' RETURNING 1`,
          [audienceId, runId],
        );
        return { committed: committed.length, removed: removed.length };
      });
    },

    /**
     * Marks a run's possibly-sent rows as sent once Meta accepted their page, so finalising has nothing left to
     * rewrite (it took 96 s at 10 million rows). Returns how many it confirmed.
     */
    async confirmSent(audienceId: string, runId: string, keys: readonly SnapshotKey[]): Promise<number> {
      if (keys.length === 0) return 0;
      const [profileKeys, fingerprints] = keyArrays(keys);
      const rows = await db.query(
        `UPDATE audience_snapshots a SET state = 'sent'
         FROM unnest($3::text[], $4::text[]) AS t(k, f)
         WHERE a.audience_id = $1 AND a.run_id = $2::uuid AND a.state = 'possibly_sent'
           AND a.profile_key = t.k AND a.fingerprint = decode(t.f, 'hex')
         RETURNING 1`,
        [audienceId, runId, profileKeys, fingerprints],
      );
      return rows.length;
    },

    /** Deletes rows by key (e.g. after a remove page succeeded). Returns how many it deleted. */
    async deleteRows(audienceId: string, keys: readonly SnapshotKey[]): Promise<number> {
      if (keys.length === 0) return 0;
      const [profileKeys, fingerprints] = keyArrays(keys);
      const rows = await db.query(
        `DELETE FROM audience_snapshots a USING unnest($2::text[], $3::text[]) AS t(k, f)
         WHERE a.audience_id = $1 AND a.profile_key = t.k AND a.fingerprint = decode(t.f, 'hex') RETURNING 1`,
        [audienceId, profileKeys, fingerprints],
      );
      return rows.length;
    },

    /** Forgets an audience entirely (a replace starts over; the destination is deleted). */
    async deleteAudience(audienceId: string): Promise<number> {
      const [row] = await db.query<{ n: number }>(
        'WITH d AS (DELETE FROM audience_snapshots WHERE audience_id = $1 RETURNING 1) SELECT count(*)::int AS n FROM d',
        [audienceId],
      );
      return row?.n ?? 0;
    },

    async count(audienceId: string): Promise<SnapshotCounts> {
      const rows = await db.query<{ state: SnapshotState; n: number }>(
        'SELECT state, count(*)::int AS n FROM audience_snapshots WHERE audience_id = $1 GROUP BY state',
        [audienceId],
      );
      const of = (s: SnapshotState) => rows.find((r) => r.state === s)?.n ?? 0;
      const counts = { sent: of('sent'), possiblySent: of('possibly_sent'), removing: of('removing') };
      return { ...counts, total: counts.sent + counts.possiblySent + counts.removing };
    },

    /** The stored rows for these keys (missing keys are skipped), with their cells decoded. */
    async read(audienceId: string, keys: readonly SnapshotKey[]): Promise<SnapshotEntry[]> {
      if (keys.length === 0) return [];
      const [profileKeys, fingerprints] = keyArrays(keys);
      const rows = await db.query<{
        profile_key: string;
        fingerprint: Uint8Array;
        cells: Uint8Array;
        state: SnapshotState;
        run_id: string;
      }>(
        `SELECT a.profile_key, a.fingerprint, a.cells, a.state, a.run_id FROM audience_snapshots a
         JOIN unnest($2::text[], $3::text[]) AS t(k, f) ON a.profile_key = t.k AND a.fingerprint = decode(t.f, 'hex')
         WHERE a.audience_id = $1 ORDER BY a.profile_key, a.fingerprint`,
        [audienceId, profileKeys, fingerprints],
      );
      return rows.map((r) => ({
        profileKey: r.profile_key,
        fingerprint: toBuffer(r.fingerprint),
        cells: decodeCells(r.cells),
        state: r.state,
        runId: r.run_id,
      }));
    },
  };
}
