import type { Db } from './db.js';
import { toBuffer } from './rows.js';
import type { Cell } from '../domain/canonical-row.js';
import { decodeCells } from './snapshot-codec.js';
import { confirmedSentSql } from './snapshots.js';

/**
 * What a run must send, as set operations in SQL between the run's frozen staging table and the audience's
 * snapshot (design "Modes"). Results land in two unlogged tables beside the staging table, numbered densely, so
 * their pages are as repeatable as the staging table's:
 *
 * - adds    (row_number, key, attributes, fingerprint): the members to post;
 * - removes (row_number, profile_key, fingerprint, cells): snapshot rows to delete, with the cells last sent.
 *
 * A member without per-profile consent counts as absent: never added, and removed if the audience holds them.
 */
export interface UploadPlanTables {
  staging: string;
  adds: string;
  removes: string;
}

export interface UploadPlanOptions {
  audienceId: string;
  /** mirror: add what is not confirmed sent, remove who left. add: add all, remove only the non-consenting. */
  mode: 'mirror' | 'add';
  /** The profile attribute holding per-profile consent, when the config names one. */
  consentAttribute?: string;
  /** Text forms of a yes (domain/consent.ts), compared after trim and lower-casing. */
  consentYes: readonly string[];
}

export interface UploadPlanCounts {
  adds: number;
  removes: number;
  /** Members of the segment without per-profile consent: never sent. */
  withoutConsent: number;
}

export interface AddRow {
  key: string;
  attributes: Record<string, unknown>;
  fingerprint: Buffer;
}

export interface RemoveRow {
  profileKey: string;
  fingerprint: Buffer;
  cells: Cell[];
}

export function createUploadPlans(db: Db) {
  return {
    /** Builds the adds and removes tables of a run; idempotent (a retry finds them built). */
    async build(tables: UploadPlanTables, options: UploadPlanOptions): Promise<UploadPlanCounts> {
      return db.transaction(async (tx) => {
        const [existing] = await tx.query<{ adds: string | null; removes: string | null }>(
          'SELECT to_regclass($1)::text AS adds, to_regclass($2)::text AS removes',
          [tables.adds, tables.removes],
        );
        const consentSql = options.consentAttribute
          ? `lower(btrim(s.attributes ->> :attr)) = ANY(:yes::text[])`
          : 'TRUE';
        const withoutConsent = async () => {
          if (!options.consentAttribute) return 0;
          const [row] = await tx.query<{ n: number }>(
            ...named(`SELECT count(*)::int8 AS n FROM ${tables.staging} s WHERE NOT (${consentSql})`, {
              attr: options.consentAttribute,
              yes: [...options.consentYes],
            }),
          );
          return Number(row?.n ?? 0);
        };
        if (existing?.adds && existing.removes)
          return { ...(await countsOf(tx, tables)), withoutConsent: await withoutConsent() };

        // Fresh statistics and an index on the member key, so the diffs below plan as hash or merge anti-joins:
        // embedded PostgreSQL has no autovacuum, and without statistics it picks nested loops (minutes at 100k).
        await tx.query(`CREATE INDEX ON ${tables.staging} (key)`);
        await tx.query('ANALYZE audience_snapshots');
        await tx.query('ANALYZE audience_snapshot_pages');
        await tx.query(`ANALYZE ${tables.staging}`);
        const values = {
          audience: options.audienceId,
          attr: options.consentAttribute ?? null,
          yes: [...options.consentYes],
        };
        const consenting = options.consentAttribute
          ? `lower(btrim(s.attributes ->> :attr)) = ANY(:yes::text[])`
          : 'TRUE';
        const notConfirmedSent =
          options.mode === 'mirror'
            ? `AND NOT EXISTS (SELECT 1 FROM audience_snapshots a WHERE a.audience_id = :audience
                 AND a.profile_key = s.key AND a.fingerprint = s.fingerprint AND ${confirmedSentSql('a')})`
            : '';
        await tx.query(
          ...named(
            `CREATE UNLOGGED TABLE ${tables.adds} AS
             SELECT row_number() OVER (ORDER BY s.row_number)::int8 AS row_number, s.key, s.attributes, s.fingerprint
             FROM ${tables.staging} s WHERE ${consenting} ${notConfirmedSent}`,
            values,
          ),
        );
        await tx.query(`ALTER TABLE ${tables.adds} ADD PRIMARY KEY (row_number)`);

        // Mirror: whoever is not a consenting member goes. Add mode: only members who are here without consent.
        // Rows an earlier run left `removing` go too, unless this run adds that very row again.
        const gone =
          options.mode === 'mirror'
            ? `NOT EXISTS (SELECT 1 FROM ${tables.staging} s WHERE s.key = a.profile_key AND ${consenting})`
            : `EXISTS (SELECT 1 FROM ${tables.staging} s WHERE s.key = a.profile_key AND NOT (${consenting}))`;
        await tx.query(
          ...named(
            `CREATE UNLOGGED TABLE ${tables.removes} AS
             SELECT row_number() OVER (ORDER BY a.profile_key, a.fingerprint)::int8 AS row_number,
                    a.profile_key, a.fingerprint, a.cells
             FROM audience_snapshots a
             WHERE a.audience_id = :audience
               AND (${gone}
                    OR (a.state = 'removing' AND NOT EXISTS (SELECT 1 FROM ${tables.staging} s
                          WHERE s.key = a.profile_key AND s.fingerprint = a.fingerprint AND ${consenting})))`,
            values,
          ),
        );
        await tx.query(`ALTER TABLE ${tables.removes} ADD PRIMARY KEY (row_number)`);
        return { ...(await countsOf(tx, tables)), withoutConsent: await withoutConsent() };
      });
    },

    /** Page `page` (0-based) of the adds table: the same shape as the staging table's rows. */
    async readAdds(table: string, page: number, pageSize: number): Promise<AddRow[]> {
      const rows = await db.query<{ key: string; attributes: Record<string, unknown>; fingerprint: Uint8Array }>(
        `SELECT key, attributes, fingerprint FROM ${table}
         WHERE row_number > $1 AND row_number <= $2 ORDER BY row_number`,
        [page * pageSize, (page + 1) * pageSize],
      );
      return rows.map((r) => ({ key: r.key, attributes: r.attributes, fingerprint: toBuffer(r.fingerprint) }));
    },

    /** Page `page` (0-based) of the removes table. */
    async readRemoves(table: string, page: number, pageSize: number): Promise<RemoveRow[]> {
      const rows = await db.query<{ profile_key: string; fingerprint: Uint8Array; cells: Uint8Array }>(
        `SELECT profile_key, fingerprint, cells FROM ${table}
         WHERE row_number > $1 AND row_number <= $2 ORDER BY row_number`,
        [page * pageSize, (page + 1) * pageSize],
      );
      return rows.map((r) => ({
        profileKey: r.profile_key,
        fingerprint: toBuffer(r.fingerprint),
        cells: decodeCells(r.cells),
      }));
    },

    async drop(tables: Omit<UploadPlanTables, 'staging'>): Promise<void> {
      await db.query(`DROP TABLE IF EXISTS ${tables.adds}`);
      await db.query(`DROP TABLE IF EXISTS ${tables.removes}`);
    },
  };
}

/** Turns `:name` placeholders into positional parameters, numbering only those the statement uses. */
function named(sql: string, values: Record<string, unknown>): [string, unknown[]] {
  const order: string[] = [];
  const text = sql.replace(/(?<!:):([a-z]+)\b/g, (_, name: string) => {
    if (!(name in values)) throw new Error(`no value for :${name}`);
    if (!order.includes(name)) order.push(name);
    return `$${order.indexOf(name) + 1}`;
  });
  return [text, order.map((n) => values[n])];
}

async function countsOf(
  q: { query<R extends object>(sql: string, p?: readonly unknown[]): Promise<R[]> },
  t: UploadPlanTables,
) {
  const [row] = await q.query<{ adds: number; removes: number }>(
    `SELECT (SELECT count(*) FROM ${t.adds})::int8 AS adds, (SELECT count(*) FROM ${t.removes})::int8 AS removes`,
  );
  return { adds: Number(row?.adds ?? 0), removes: Number(row?.removes ?? 0) };
}
