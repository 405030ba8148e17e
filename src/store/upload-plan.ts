import type { Db } from './db.js';
import { toBuffer } from './rows.js';
import type { Cell } from '../domain/canonical-row.js';
import { decodeCells } from './snapshot-codec.js';

/**
 * What a run must remove, as set operations in SQL between the run's frozen staging table and the audience's
 * snapshot (design "Modes"). The adds are the staging table itself: the whole segment, or for a mirror refresh
 * only the members whose rows may have changed. The removes land in an unlogged table beside the staging table,
 * numbered densely, so their pages are as repeatable as the staging table's:
 *
 *   removes (row_number, profile_key, fingerprint, cells, dropped): snapshot rows to delete, with the cells last
 *   sent; rows of dropped members (nothing at Meta) are numbered after the others and deleted while planning.
 *
 * A member without per-profile consent counts as absent: its rows are removed (the page that reads it drops it).
 */
export interface UploadPlanTables {
  staging: string;
  removes: string;
}

/** SQL with its own parameters numbered from `$1` (renumbered where it is embedded). */
export interface SqlFragment {
  readonly sql: string;
  readonly params: readonly unknown[];
}

export interface UploadPlanOptions {
  audienceId: string;
  /**
   * mirror (a refresh: the staging table holds the changed members): remove who left or withdrew consent. add (the
   * staging table holds the whole segment): remove only members without consent.
   */
  mode: 'mirror' | 'add';
  /** Mirror: SQL true when the profile key `key` (a text expression) is a member of the run's segments. */
  member?: (key: string) => SqlFragment;
  /**
   * Mirror, with a source change log: SQL of one text column `key`, every profile key that can have left since the
   * last completed run (sources/profile-source.ts `changedKeysSql`). Only snapshot rows of these keys are checked
   * against the segment, by index; without it every snapshot row is.
   */
  changedKeys?: SqlFragment;
  /** The profile attribute holding per-profile consent, when the config names one: SQL of it as text. */
  consentSql?: (alias: string) => string;
  /** Text forms of a yes (domain/consent.ts), compared after trim and lower-casing. */
  consentYes: readonly string[];
}

export interface UploadPlanCounts {
  removes: number;
  /** Rows of dropped members who left: deleted from the snapshot (nothing to send). */
  droppedLeft: number;
}

export interface RemoveRow {
  profileKey: string;
  fingerprint: Buffer;
  cells: Cell[];
}

/**
 * work_mem for the statements that diff millions of keys (hash tables of ~60 bytes a key): the anti-join of the
 * snapshot against the segment's keys here, and a refresh's freeze and member count (sources/profile-source.ts).
 */
export const DIFF_WORK_MEM = '256MB';

export function createUploadPlans(db: Db) {
  return {
    /** Builds the removes table of a run; idempotent (a retry finds it built). */
    async build(tables: UploadPlanTables, options: UploadPlanOptions): Promise<UploadPlanCounts> {
      return db.transaction(async (tx) => {
        const [existing] = await tx.query<{ removes: string | null }>('SELECT to_regclass($1)::text AS removes', [
          tables.removes,
        ]);
        if (existing?.removes) return countsOf(tx, tables.removes);

        const params: unknown[] = [options.audienceId];
        const param = (value: unknown) => `$${params.push(value)}`;
        const embed = (fragment: SqlFragment) => {
          const offset = params.length;
          params.push(...fragment.params);
          return fragment.sql.replace(/\$(\d+)/g, (_, n: string) => `$${Number(n) + offset}`);
        };
        const consenting = options.consentSql
          ? `lower(btrim(${options.consentSql('s')})) = ANY(${param([...options.consentYes])}::text[])`
          : 'TRUE';
        // Rows an earlier run left `removing` go too, unless this run adds that very row again.
        const stillRemoving = `a.state = 'removing' AND NOT EXISTS (SELECT 1 FROM ${tables.staging} s
                        WHERE s."#key" = a.profile_key AND s."#fp" = a.fingerprint AND ${consenting})`;
        // Snapshot rows `a` to remove: a FROM with its WHERE.
        let removed: string;
        if (options.mode === 'mirror') {
          if (!options.member) throw new TypeError('a mirror plan needs the segment');
          const left = embed(options.member('a.profile_key'));
          if (options.changedKeys) {
            // Only keys that can have left, changed members without consent and rows left removing, each found by
            // index: a union of three small sets rather than a pass over every snapshot row.
            const changed = embed(options.changedKeys);
            removed = `audience_snapshots a JOIN (
                       SELECT a.profile_key, a.fingerprint FROM (${changed}) AS c
                         JOIN audience_snapshots a ON a.audience_id = $1 AND a.profile_key = c.key
                       WHERE NOT ${left}
                       UNION SELECT a.profile_key, a.fingerprint FROM ${tables.staging} s
                         JOIN audience_snapshots a ON a.audience_id = $1 AND a.profile_key = s."#key"
                       WHERE NOT (${consenting})
                       UNION SELECT a.profile_key, a.fingerprint FROM audience_snapshots a
                       WHERE a.audience_id = $1 AND ${stillRemoving}
                     ) AS g ON a.audience_id = $1 AND a.profile_key = g.profile_key AND a.fingerprint = g.fingerprint`;
          } else {
            // Left the segment, or changed and no longer consenting (the staging table holds only the changed).
            removed = `audience_snapshots a WHERE a.audience_id = $1
                         AND (NOT ${left}
                              OR EXISTS (SELECT 1 FROM ${tables.staging} s WHERE s."#key" = a.profile_key AND NOT (${consenting}))
                              OR (${stillRemoving}))`;
          }
        } else {
          removed = `audience_snapshots a WHERE a.audience_id = $1
                       AND (EXISTS (SELECT 1 FROM ${tables.staging} s WHERE s."#key" = a.profile_key AND NOT (${consenting}))
                            OR (${stillRemoving}))`;
        }
        // Fresh statistics: embedded PostgreSQL has no autovacuum, and without them it plans nested loops. A mirror
        // plan is a refresh's, whose freeze analysed the snapshot moments ago (freeze-segment.ts). Narrowed to the
        // changed keys it wants those very loops, and JIT compiling its index probes cost a second.
        if (options.mode === 'add') await tx.query('ANALYZE audience_snapshots');
        if (options.changedKeys) await tx.query('SET LOCAL jit = off');
        await tx.query('ANALYZE audience_snapshot_pages');
        await tx.query(`SET LOCAL work_mem = '${DIFF_WORK_MEM}'`);
        await tx.query(
          `CREATE UNLOGGED TABLE ${tables.removes} AS
           SELECT row_number() OVER (ORDER BY a.state = 'dropped', a.profile_key, a.fingerprint)::int8 AS row_number,
                  a.profile_key, a.fingerprint, a.cells, a.state = 'dropped' AS dropped
           FROM ${removed}`,
          params,
        );
        await tx.query(`ALTER TABLE ${tables.removes} ADD PRIMARY KEY (row_number)`);
        await tx.query(
          `DELETE FROM audience_snapshots a USING ${tables.removes} r
           WHERE r.dropped AND a.audience_id = $1 AND a.profile_key = r.profile_key AND a.fingerprint = r.fingerprint`,
          [options.audienceId],
        );
        return countsOf(tx, tables.removes);
      });
    },

    /** Page `page` (0-based) of the removes table. */
    async readRemoves(table: string, page: number, pageSize: number): Promise<RemoveRow[]> {
      const rows = await db.query<{ profile_key: string; fingerprint: Uint8Array; cells: Uint8Array }>(
        `SELECT profile_key, fingerprint, cells FROM ${table}
         WHERE row_number > $1 AND row_number <= $2 AND NOT dropped ORDER BY row_number`,
        [page * pageSize, (page + 1) * pageSize],
      );
      return rows.map((r) => ({
        profileKey: r.profile_key,
        fingerprint: toBuffer(r.fingerprint),
        cells: decodeCells(r.cells),
      }));
    },

    async drop(tables: { removes: string; adds?: string }): Promise<void> {
      await db.query(`DROP TABLE IF EXISTS ${tables.removes}`);
      if (tables.adds) await db.query(`DROP TABLE IF EXISTS ${tables.adds}`);
    },
  };
}

async function countsOf(
  q: { query<R extends object>(sql: string, p?: readonly unknown[]): Promise<R[]> },
  removes: string,
): Promise<UploadPlanCounts> {
  const [row] = await q.query<{ removes: number; dropped: number }>(
    `SELECT count(*) FILTER (WHERE NOT dropped)::int8 AS removes, count(*) FILTER (WHERE dropped)::int8 AS dropped
     FROM ${removes}`,
  );
  return { removes: Number(row?.removes ?? 0), droppedLeft: Number(row?.dropped ?? 0) };
}
