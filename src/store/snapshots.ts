import type { Db } from './db.js';
import { toBuffer } from './rows.js';
import type { Cell } from '../domain/canonical-row.js';
import { decodeCells, encodeCells } from './snapshot-codec.js';

/*
 * Audience membership snapshots: what each audience holds, as far as we know (design "Modes").
 *
 * Table audience_snapshots (audience_id, profile_key, fingerprint bytea(16), cells bytea, state, run_id, page),
 * primary key (audience_id, profile_key, fingerprint). A changed member gets a second row (new fingerprint) and
 * keeps the old one until the profile leaves, because a remove and an add of one person in one run can race at Meta.
 *
 * States: `possibly_sent` is written *before* a page is posted, with the page that carries the row, so rows of a
 * run that failed half-way are still known (and removed later). Once Meta accepts the page, `confirmPage` lists
 * (run, page) in audience_snapshot_pages, which confirms all its rows at once: rewriting 10 million rows to `sent`
 * cost PostgreSQL more than writing them. `sent` is also written literally (rows recorded without a page, settled
 * by `commitRun`; a confirmed row re-recorded by a later run). `removing` is written before a remove is posted.
 * Whether a row is confirmed sent is therefore a predicate, {@link confirmedSentSql}, and readers use it.
 *
 * The mirror diff (upload-plan.ts) runs against a run's frozen staging table:
 *   to add:    members whose current (profile, fingerprint) is not confirmed sent (joined, changed, possibly sent);
 *   to remove: rows of profiles no longer in the segment, and rows an earlier run left `removing`.
 * Both are anti-joins on indexed keys, planned as hash or merge anti-joins over millions of rows.
 */

/**
 * SQL: whether snapshot row `a` is confirmed at Meta. The subquery is uncorrelated, so PostgreSQL hashes the
 * accepted pages once (one row per 10,000 rows written) instead of probing per row.
 */
export const confirmedSentSql = (a: string): string =>
  `(${a}.state = 'sent' OR (${a}.state = 'possibly_sent' AND coalesce((${a}.run_id, ${a}.page) IN ` +
  `(SELECT run_id, page FROM audience_snapshot_pages), false)))`;

/** SQL: the state of snapshot row `a` as readers see it (possibly sent on an accepted page reads as sent). */
const stateSql = (a: string): string => `CASE WHEN ${confirmedSentSql(a)} THEN 'sent' ELSE ${a}.state END`;

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

const FINGERPRINT_BYTES = 16;

/**
 * Keys as a text[] of profile keys and one bytea of fingerprints back to back. bytea parameters travel in binary;
 * as hex text arrays, PostgreSQL spent more CPU parsing a page's parameters than inserting its rows.
 */
function packKeys(keys: readonly SnapshotKey[]): [string[], Buffer] {
  const fingerprints = Buffer.allocUnsafe(keys.length * FINGERPRINT_BYTES);
  keys.forEach((k, i) => {
    if (k.fingerprint.byteLength !== FINGERPRINT_BYTES)
      throw new RangeError(`a snapshot fingerprint has ${FINGERPRINT_BYTES} bytes, got ${k.fingerprint.byteLength}`);
    fingerprints.set(k.fingerprint, i * FINGERPRINT_BYTES);
  });
  return [keys.map((k) => k.profileKey), fingerprints];
}

/** SQL: the `i`-th (1-based) fingerprint of packed fingerprints `f` (a bytea parameter). */
const fingerprintAtSql = (f: string, i: string) =>
  `substring(${f}::bytea from ((${i} - 1) * ${FINGERPRINT_BYTES} + 1)::int for ${FINGERPRINT_BYTES})`;

/** SQL rows (k, f) of packed keys passed as parameters $k (text[]) and $f (bytea). */
const unpackKeysSql = (k: string, f: string) =>
  `(SELECT t.k, ${fingerprintAtSql(f, 't.i')} AS f FROM unnest(${k}::text[]) WITH ORDINALITY AS t(k, i))`;

/** The last row of each (profile, fingerprint): a page can carry one member twice. */
function lastOfEachKey<R extends SnapshotKey>(rows: readonly R[]): readonly R[] {
  // Pages almost never repeat a profile: checking the keys alone is cheap, and then nothing needs deduplicating.
  if (new Set(rows.map((r) => r.profileKey)).size === rows.length) return rows;
  const last = new Map<string, R>();
  for (const r of rows) {
    const fingerprint = Buffer.from(r.fingerprint.buffer, r.fingerprint.byteOffset, r.fingerprint.byteLength);
    last.set(`${fingerprint.toString('base64')}${r.profileKey}`, r);
  }
  return [...last.values()];
}

export interface RecordOptions {
  /** The run's page that carries the rows; `confirmPage` confirms them. Without one, `commitRun` settles them. */
  page?: number;
}

export type SnapshotRepository = ReturnType<typeof createSnapshotRepository>;

export function createSnapshotRepository(db: Db) {
  return {
    /**
     * Records rows as possibly sent by `runId` on `page`, before that page is posted. A row already confirmed sent
     * stays sent (it is at Meta whatever this post does) but takes the new cells, run and page; a `removing` row is
     * possibly sent again. Duplicate keys within one call keep the last. Returns the number of rows written.
     */
    async recordPossiblySent(
      audienceId: string,
      runId: string,
      rows: readonly SnapshotRow[],
      { page }: RecordOptions = {},
    ): Promise<number> {
      if (rows.length === 0) return 0;
      const unique = lastOfEachKey(rows);
      const [keys, fingerprints] = packKeys(unique);
      const cells = unique.map((r) => encodeCells(r.cells));
      const cellStarts: number[] = [];
      let at = 0;
      for (const c of cells) {
        cellStarts.push(at);
        at += c.length;
      }
      const params = [
        audienceId,
        runId,
        page ?? null,
        keys,
        fingerprints,
        Buffer.concat(cells),
        cellStarts,
        cells.map((c) => c.length),
      ];
      const result = await db.query<{ n: number }>(
        `WITH input AS (
           SELECT t.k, ${fingerprintAtSql('$5', 't.i')} AS f, substring($6::bytea from t.cell_at + 1 for t.cell_length) AS c
           FROM unnest($4::text[], $7::int4[], $8::int4[]) WITH ORDINALITY AS t(k, cell_at, cell_length, i)
         ), written AS (
           INSERT INTO audience_snapshots AS a (audience_id, profile_key, fingerprint, cells, state, run_id, page)
           SELECT $1, k, f, c, 'possibly_sent', $2::uuid, $3::int FROM input
           ON CONFLICT (audience_id, profile_key, fingerprint) DO UPDATE SET cells = EXCLUDED.cells,
             run_id = EXCLUDED.run_id, page = EXCLUDED.page,
             state = CASE WHEN ${confirmedSentSql('a')} THEN 'sent' ELSE 'possibly_sent' END
           RETURNING 1
         ) SELECT count(*)::int AS n FROM written`,
        params,
      );
      return result[0]?.n ?? 0;
    },

    /**
     * Confirms every row `runId` recorded on `page` as sent, once Meta accepted the page: one row, however many
     * the page carried. Idempotent.
     */
    async confirmPage(audienceId: string, runId: string, page: number): Promise<void> {
      await db.query(
        `INSERT INTO audience_snapshot_pages (audience_id, run_id, page) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING`,
        [audienceId, runId, page],
      );
    },

    /** Marks rows as being removed by `runId`, before the remove is posted. Returns how many rows it marked. */
    async markRemoving(audienceId: string, runId: string, keys: readonly SnapshotKey[]): Promise<number> {
      if (keys.length === 0) return 0;
      const [profileKeys, fingerprints] = packKeys(keys);
      const rows = await db.query(
        `UPDATE audience_snapshots a SET state = 'removing', run_id = $2::uuid
         FROM ${unpackKeysSql('$3', '$4')} t
         WHERE a.audience_id = $1 AND a.profile_key = t.k AND a.fingerprint = t.f
         RETURNING 1`,
        [audienceId, runId, profileKeys, fingerprints],
      );
      return rows.length;
    },

    /**
     * Settles a run once every page succeeded: its rows recorded without a page become sent (paged rows were
     * confirmed with their page), its removing rows go. Idempotent.
     */
    async commitRun(audienceId: string, runId: string): Promise<{ committed: number; removed: number }> {
      return db.transaction(async (tx) => {
        const committed = await tx.query(
          `UPDATE audience_snapshots SET state = 'sent'
           WHERE audience_id = $1 AND run_id = $2 AND state = 'possibly_sent' AND page IS NULL RETURNING 1`,
          [audienceId, runId],
        );
        const removed = await tx.query(
          `DELETE FROM audience_snapshots WHERE audience_id = $1 AND run_id = $2 AND state = 'removing' RETURNING 1`,
          [audienceId, runId],
        );
        return { committed: committed.length, removed: removed.length };
      });
    },

    /** Deletes rows by key (e.g. after a remove page succeeded). Returns how many it deleted. */
    async deleteRows(audienceId: string, keys: readonly SnapshotKey[]): Promise<number> {
      if (keys.length === 0) return 0;
      const [profileKeys, fingerprints] = packKeys(keys);
      const rows = await db.query(
        `DELETE FROM audience_snapshots a USING ${unpackKeysSql('$2', '$3')} t
         WHERE a.audience_id = $1 AND a.profile_key = t.k AND a.fingerprint = t.f RETURNING 1`,
        [audienceId, profileKeys, fingerprints],
      );
      return rows.length;
    },

    /** Forgets an audience entirely (a replace starts over; the destination is deleted). */
    async deleteAudience(audienceId: string): Promise<number> {
      return db.transaction(async (tx) => {
        await tx.query('DELETE FROM audience_snapshot_pages WHERE audience_id = $1', [audienceId]);
        const [row] = await tx.query<{ n: number }>(
          'WITH d AS (DELETE FROM audience_snapshots WHERE audience_id = $1 RETURNING 1) SELECT count(*)::int AS n FROM d',
          [audienceId],
        );
        return row?.n ?? 0;
      });
    },

    async count(audienceId: string): Promise<SnapshotCounts> {
      const rows = await db.query<{ state: SnapshotState; n: number }>(
        `SELECT ${stateSql('a')} AS state, count(*)::int AS n FROM audience_snapshots a WHERE a.audience_id = $1
         GROUP BY 1`,
        [audienceId],
      );
      const of = (s: SnapshotState) => rows.find((r) => r.state === s)?.n ?? 0;
      const counts = { sent: of('sent'), possiblySent: of('possibly_sent'), removing: of('removing') };
      return { ...counts, total: counts.sent + counts.possiblySent + counts.removing };
    },

    /** Whether the audience has any snapshot row (an index probe, where `count` reads them all). */
    async isEmpty(audienceId: string): Promise<boolean> {
      const rows = await db.query('SELECT 1 FROM audience_snapshots WHERE audience_id = $1 LIMIT 1', [audienceId]);
      return rows.length === 0;
    },

    /**
     * Rows of these audiences whose cells hold one of these SHA-256 hex digests somewhere (hash cells are stored as
     * their 32 raw bytes, so `position` narrows the scan in SQL), cells decoded. The caller checks the column.
     */
    async rowsHoldingHashes(
      audienceIds: readonly string[],
      hashes: readonly string[],
    ): Promise<(SnapshotRow & { audienceId: string })[]> {
      if (audienceIds.length === 0 || hashes.length === 0) return [];
      const rows = await db.query<{
        audience_id: string;
        profile_key: string;
        fingerprint: Uint8Array;
        cells: Uint8Array;
      }>(
        `SELECT audience_id, profile_key, fingerprint, cells FROM audience_snapshots
         WHERE audience_id = ANY($1::text[])
           AND EXISTS (SELECT 1 FROM unnest($2::text[]) AS h(hex) WHERE position(decode(h.hex, 'hex') IN cells) > 0)`,
        [audienceIds, hashes],
      );
      return rows.map((r) => ({
        audienceId: r.audience_id,
        profileKey: r.profile_key,
        fingerprint: toBuffer(r.fingerprint),
        cells: decodeCells(r.cells),
      }));
    },

    /** The stored rows for these keys (missing keys are skipped), with their cells decoded. */
    async read(audienceId: string, keys: readonly SnapshotKey[]): Promise<SnapshotEntry[]> {
      if (keys.length === 0) return [];
      const [profileKeys, fingerprints] = packKeys(keys);
      const rows = await db.query<{
        profile_key: string;
        fingerprint: Uint8Array;
        cells: Uint8Array;
        state: SnapshotState;
        run_id: string;
      }>(
        `SELECT a.profile_key, a.fingerprint, a.cells, ${stateSql('a')} AS state, a.run_id FROM audience_snapshots a
         JOIN ${unpackKeysSql('$2', '$3')} t ON a.profile_key = t.k AND a.fingerprint = t.f
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
