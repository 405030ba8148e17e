import type { Cell } from '../domain/canonical-row.js';
import { entryId, rowEntries, type SuppressionEntry, type SuppressionKind } from '../domain/suppression.js';
import type { Db, Queryable } from './db.js';
import { fenceSnapshotWrites } from './destinations.js';

export type SuppressionRepository = ReturnType<typeof createSuppressionRepository>;

/** The erasure suppression list (table erasure_suppressions): digests only, see domain/suppression.ts. */
export function createSuppressionRepository(db: Db) {
  return {
    /**
     * Lists the entries (those listed already stay as they are). Returns how many were new. Snapshot writes are
     * fenced off meanwhile ({@link fenceSnapshotWrites}): once this returns, every page recorded before is in the
     * snapshot for the erasure to find, and every page recorded after leaves these people out.
     */
    async add(entries: readonly SuppressionEntry[]): Promise<number> {
      if (entries.length === 0) return 0;
      return db.transaction(async (tx) => {
        await fenceSnapshotWrites(tx);
        const rows = await tx.query(
          `INSERT INTO erasure_suppressions (hash, kind)
           SELECT decode(h, 'hex'), k FROM unnest($1::text[], $2::text[]) AS t(h, k)
           ON CONFLICT DO NOTHING RETURNING 1`,
          [entries.map((e) => e.hash), entries.map((e) => e.kind)],
        );
        if (rows.length > 0) {
          await tx.query('UPDATE erasure_suppression_count SET entries = entries + $1', [rows.length]);
        }
        return rows.length;
      });
    },

    /**
     * How many entries are listed: 0 when nobody was erased, and since entries are never removed, a page that
     * checked its rows at one size needs no second look while the size is unchanged (see `suppressedProfiles`).
     */
    size: () => size(db),

    /**
     * The list's size, and the profile keys of those `rows` it lists (an entry of the row is listed): an upload
     * page's first check, whose size its snapshot write compares (`suppressedProfiles`).
     */
    check: (rows: readonly SuppressibleRow[]) => check(db, rows),

    /**
     * The profile keys of those `rows` listed since they were checked at `checkedAtSize` (see `check`): one read of
     * the size while nobody was listed since. An upload page asks once more after Meta accepted it, for people
     * erased while it was in flight (activities/upload-page.ts `withdrawErased`).
     */
    listedSince: (rows: readonly SuppressibleRow[], checkedAtSize: number) =>
      suppressedProfiles(db, rows, checkedAtSize),
  };
}

/** One row's read (migration 090), not a count of the list: every page asks twice. */
async function size(q: Queryable): Promise<number> {
  const [row] = await q.query<{ n: number }>('SELECT entries::int8 AS n FROM erasure_suppression_count');
  return Number(row?.n ?? 0);
}

async function listed(q: Queryable, entries: readonly SuppressionEntry[]): Promise<Set<string>> {
  if (entries.length === 0) return new Set();
  const rows = await q.query<{ kind: SuppressionKind; hash: string }>(
    `SELECT s.kind, encode(s.hash, 'hex') AS hash FROM erasure_suppressions s
     WHERE s.hash = ANY (SELECT decode(h, 'hex') FROM unnest($1::text[]) AS h)`,
    [[...new Set(entries.map((e) => e.hash))]],
  );
  return new Set(rows.map((r) => `${r.kind}:${r.hash}`));
}

type SuppressibleRow = { readonly profileKey: string; readonly cells: readonly Cell[] };

async function check(q: Queryable, rows: readonly SuppressibleRow[]): Promise<{ size: number; erased: Set<string> }> {
  // Read before the entries, so an entry listed meanwhile changes the size a later check compares.
  const now = await size(q);
  return { size: now, erased: now === 0 ? new Set() : await listedProfiles(q, rows) };
}

/**
 * The profile keys of those `rows` that are suppressed, read with `q`: a snapshot write checks again in its own
 * transaction, once it holds its destination. Given the list's size when the rows were checked before
 * (`checkedAtSize`), one read of the size answers while nothing was listed since.
 */
export async function suppressedProfiles(
  q: Queryable,
  rows: readonly SuppressibleRow[],
  checkedAtSize?: number,
): Promise<Set<string>> {
  if (rows.length === 0) return new Set();
  const now = await size(q);
  if (now === 0 || now === checkedAtSize) return new Set();
  return listedProfiles(q, rows);
}

/** The profile keys of those `rows` an entry of which is listed. */
async function listedProfiles(q: Queryable, rows: readonly SuppressibleRow[]): Promise<Set<string>> {
  if (rows.length === 0) return new Set();
  const entries = rows.map((r) => rowEntries(r.profileKey, r.cells));
  const found = await listed(q, entries.flat());
  if (found.size === 0) return new Set();
  return new Set(rows.filter((_, i) => entries[i]!.some((e) => found.has(entryId(e)))).map((r) => r.profileKey));
}
