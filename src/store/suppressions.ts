import type { SuppressionEntry, SuppressionKind } from '../domain/suppression.js';
import type { Db } from './db.js';

export type SuppressionRepository = ReturnType<typeof createSuppressionRepository>;

/** The erasure suppression list (table erasure_suppressions): digests only, see domain/suppression.ts. */
export function createSuppressionRepository(db: Db) {
  return {
    /** Lists the entries (those listed already stay as they are). Returns how many were new. */
    async add(entries: readonly SuppressionEntry[]): Promise<number> {
      if (entries.length === 0) return 0;
      const rows = await db.query(
        `INSERT INTO erasure_suppressions (hash, kind)
         SELECT decode(h, 'hex'), k FROM unnest($1::text[], $2::text[]) AS t(h, k)
         ON CONFLICT DO NOTHING RETURNING 1`,
        [entries.map((e) => e.hash), entries.map((e) => e.kind)],
      );
      return rows.length;
    },

    /** Whether nothing is listed: one index probe, so a page is checked only when someone was erased. */
    async isEmpty(): Promise<boolean> {
      return (await db.query('SELECT 1 FROM erasure_suppressions LIMIT 1')).length === 0;
    },

    /** Those of the entries that are listed, as `kind:hash`. */
    async listed(entries: readonly SuppressionEntry[]): Promise<Set<string>> {
      if (entries.length === 0) return new Set();
      const rows = await db.query<{ kind: SuppressionKind; hash: string }>(
        `SELECT s.kind, encode(s.hash, 'hex') AS hash FROM erasure_suppressions s
         WHERE s.hash = ANY (SELECT decode(h, 'hex') FROM unnest($1::text[]) AS h)`,
        [[...new Set(entries.map((e) => e.hash))]],
      );
      return new Set(rows.map((r) => `${r.kind}:${r.hash}`));
    },
  };
}
