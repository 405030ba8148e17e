import type { Queryable } from '../store/index.js';

export interface MembershipTableRef {
  /** The membership table, quoted as to_regclass takes it. */
  table: string;
  segmentColumn: string;
  keyColumn: string;
  /** The profiles table, quoted, and its key column. */
  profilesTable: string;
  profileKeyColumn: string;
}

/**
 * True when a membership table's rows are the members themselves: every row names a profile (a validated foreign
 * key from its key column to the profiles' key) and names it once per segment (a unique index on exactly the
 * segment and key columns). Then a segment's size is a count of its rows with a key, read from one table instead
 * of a join of every member with its profile (at 10 million, 0.7 s against a 5 s parallel hash join). A view, a
 * foreign key added NOT VALID, or a unique index with other columns answer false, and the count joins.
 */
export async function membershipRowsAreMembers(db: Queryable, ref: MembershipTableRef): Promise<boolean> {
  const [row] = await db.query<{ ok: boolean | null }>(
    `WITH rel AS (SELECT to_regclass($1)::oid AS m, to_regclass($2)::oid AS p),
          att AS (SELECT rel.m, rel.p,
                         (SELECT attnum FROM pg_attribute WHERE attrelid = rel.m AND attname = $3) AS segment,
                         (SELECT attnum FROM pg_attribute WHERE attrelid = rel.m AND attname = $4) AS key,
                         (SELECT attnum FROM pg_attribute WHERE attrelid = rel.p AND attname = $5) AS profile_key
                  FROM rel)
     SELECT EXISTS (SELECT 1 FROM pg_constraint c
                    WHERE c.conrelid = att.m AND c.contype = 'f' AND c.convalidated AND c.confrelid = att.p
                      AND c.conkey = ARRAY[att.key] AND c.confkey = ARRAY[att.profile_key])
        AND EXISTS (SELECT 1 FROM pg_index i
                    WHERE i.indrelid = att.m AND i.indisunique AND i.indisvalid AND i.indpred IS NULL
                      AND i.indnkeyatts = 2 AND ARRAY[i.indkey[0], i.indkey[1]] @> ARRAY[att.segment, att.key]
                      AND att.segment <> att.key) AS ok
     FROM att`,
    [ref.table, ref.profilesTable, ref.segmentColumn, ref.keyColumn, ref.profileKeyColumn],
  );
  return row?.ok === true;
}
