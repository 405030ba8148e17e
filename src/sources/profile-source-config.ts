import { z } from 'zod';
import { IDENTIFIER_PATTERN, QUALIFIED_NAME_PATTERN } from './sql-names.js';

const identifier = z.string().regex(IDENTIFIER_PATTERN, 'must be a plain SQL identifier (letters, digits, _)');
const tableName = z
  .string()
  .regex(QUALIFIED_NAME_PATTERN, 'must be a table or view name, optionally schema-qualified (schema.table)');

/** Segment names travel into search attributes and URLs, so they stay short and plain. */
export const SegmentNameSchema = z
  .string()
  .regex(
    /^[A-Za-z0-9][A-Za-z0-9_.:-]{0,99}$/,
    'must be 1-100 letters, digits, _ . : - (starting with a letter or digit)',
  );

/**
 * A segment's SQL condition: one boolean expression over the profiles table's columns (`country = 'US' AND
 * marketing_consent`). Conditions are operator configuration with the trust of the source database's
 * credentials; see segment-condition.ts for what is checked before one is used.
 */
export const SegmentConditionSchema = z.string().trim().min(1, 'must not be empty').max(4000, 'is too long');

export const MembershipConfigSchema = z.discriminatedUnion('kind', [
  z.object({
    kind: z.literal('table'),
    /**
     * A table or view with one row per (segment, profile key). A table with a validated foreign key from
     * `keyColumn` to the profiles' key and a unique index on exactly its segment and key columns has a segment's
     * size counted from its rows alone, not by a join with every profile (sources/membership-rows.ts).
     */
    table: tableName,
    segmentColumn: identifier,
    keyColumn: identifier,
  }),
  z.object({
    kind: z.literal('conditions'),
    segments: z
      .record(SegmentNameSchema, SegmentConditionSchema)
      .refine((s) => Object.keys(s).length > 0, 'must define at least one segment'),
  }),
]);

export const ProfileSourceConfigSchema = z.object({
  /** The profiles table or view, optionally schema-qualified. */
  profilesTable: tableName,
  /** Its unique key column. */
  keyColumn: identifier,
  membership: MembershipConfigSchema,
  /**
   * The schema that holds staging tables (`staging_run_<run id>`); it must exist and be writable.
   * @default the first schema on the search path (usually `public`)
   */
  stagingSchema: identifier.optional(),
  /**
   * A column of the profiles table that grows whenever a profile changes (`updated_at`, a change sequence), so a
   * mirror refresh examines only profiles changed since the last completed run, plus members the audience does not
   * know; without it every member's fingerprint is compared. Every change must set it, and a change must not
   * become visible with a value below what a run has already seen (set it at commit, or from a sequence). An
   * index on it keeps the scan short.
   */
  changeColumn: identifier.optional(),
  /**
   * With `changeColumn`: a table or view with a row for every profile key whose segment membership changed (joined
   * or left) or whose profile was deleted (or lost its key), and when (`changedAtColumn`, the same type as the change
   * column and from the same clock: both set by the database's clock, or both from one sequence). A refresh then
   * examines only profiles changed since the last completed run and the keys this log names since then, and checks
   * only those for leavers, instead of comparing every member's key with the snapshot. Triggers on the profiles and
   * membership tables keep it (src/demo/demo-seed.ts writes them). Rows older than every audience's last refresh (less
   * 10 minutes) may be pruned; an index on `changedAtColumn` keeps the read short.
   */
  changeLog: z.object({ table: tableName, keyColumn: identifier, changedAtColumn: identifier }).optional(),
  /**
   * Columns of the profiles table that may be sent to Meta in clear as EXTERN_ID or MADID (Meta wants those two
   * unhashed): an export config mapping any other column to them is refused. Empty by default, so nothing is sent
   * in clear until the source's owner says which columns hold ids and nothing personal.
   */
  plaintextColumns: z.array(identifier).max(100).optional(),
});

export type ProfileSourceConfig = z.input<typeof ProfileSourceConfigSchema>;
export type MembershipConfig = z.output<typeof MembershipConfigSchema>;
