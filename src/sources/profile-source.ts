import type { Db } from '../store/index.js';
import { SegmentTooLargeError, SourceConfigError, UnknownAttributeError, UnknownSegmentError } from './errors.js';
import { FrozenRuns, type FrozenRow, type ReadPageOptions } from './frozen-runs.js';
import { canonicalRunId, isIdentifier, parseQualifiedName, quoteIdent, quoteQualified } from './sql-names.js';
import { ProfileSourceConfigSchema, type MembershipConfig, type ProfileSourceConfig } from './profile-source-config.js';
import { validateCondition } from './segment-condition.js';

export interface SegmentInfo {
  name: string;
  /** Members now: membership rows (table membership) or matching profiles (conditions). */
  size: number;
}

export interface SourceAttribute {
  /** Column name, exactly as in the catalog: what an attribute mapping names. */
  name: string;
  /** PostgreSQL type, e.g. `text`, `date`, `boolean`. */
  type: string;
}

export interface FreezeOptions {
  runId: string;
  /** Segments whose union is frozen (a profile in two segments is frozen once). */
  segments: readonly string[];
  /** Profile-table columns to copy as the raw attributes. */
  attributes: readonly string[];
  /** Refuse (and drop the staging table) when more members than this would be frozen. */
  maxRows?: number;
}

export interface FreezeResult {
  rowCount: number;
  /** True when this run was frozen already (a retried activity): the existing rows stand, unchanged. */
  alreadyFrozen: boolean;
}

export interface ProfileSource {
  listSegments(): Promise<SegmentInfo[]>;
  listAttributes(): Promise<SourceAttribute[]>;
  /**
   * Copies the members of `segments` — key and mapped raw attributes, in key order with a row number and a
   * fingerprint — into the run's unlogged staging table in one statement. Idempotent per run id.
   */
  freeze(options: FreezeOptions): Promise<FreezeResult>;
  /** Page `page` (0-based, as domain/plan-pages.ts plans) of a frozen run: the same rows on every call, whatever happens to the profiles. */
  readPage(options: ReadPageOptions): Promise<FrozenRow[]>;
  countFrozen(runId: string): Promise<number>;
  /** Drops a run's staging table; true when there was one. */
  dropFrozen(runId: string): Promise<boolean>;
  /** Run ids that have a staging table (canonical UUIDs). */
  listFrozen(): Promise<string[]>;
  /** Drops staging tables of runs that are not live; returns their run ids. */
  sweepFrozen(live: readonly string[] | ((runId: string) => boolean)): Promise<string[]>;
  /** Quoted names of a run's staging table and the upload-plan tables beside it (same schema, same database). */
  stagingTables(runId: string): { staging: string; adds: string; removes: string };
}

interface Column {
  name: string;
  type: string;
  category: string;
}

/** jsonb_build_object takes at most 100 arguments, so wide mappings are built in chunks and concatenated. */
const JSONB_PAIRS_PER_CALL = 50;

/**
 * Opens a PostgreSQL profile source: validates the configuration (shape, identifiers, that every table and
 * column exists, and every segment condition) and returns its operations. Throws {@link SourceConfigError}.
 */
export async function createProfileSource(db: Db, rawConfig: ProfileSourceConfig): Promise<ProfileSource> {
  const parsed = ProfileSourceConfigSchema.safeParse(rawConfig);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new SourceConfigError(issue?.path.join('.') || '(root)', issue?.message ?? 'is invalid');
  }
  const config = parsed.data;
  const profiles = quoteQualified(parseQualifiedName(config.profilesTable));
  const profileColumns = () => columnsOf(db, 'profilesTable', config.profilesTable);
  const columns = await profileColumns();
  const keyColumn = columns.find((c) => c.name === config.keyColumn);
  if (!keyColumn) throw missingColumn('keyColumn', config.profilesTable, config.keyColumn);
  const key = `${profiles}.${quoteIdent(config.keyColumn)}`;
  // Byte order sorts text keys far faster than a locale's collation, and any total order serves paging.
  const keyOrder = keyColumn.category === 'S' ? `${key} COLLATE "C"` : key;

  const membership = await checkMembership(db, config.membership, profiles);
  let schema: string | undefined;
  if (config.stagingSchema !== undefined) {
    schema = quoteIdent(config.stagingSchema);
    const [row] = await db.query<{ ns: string | null }>('SELECT to_regnamespace($1)::text AS ns', [schema]);
    if (row?.ns == null) throw new SourceConfigError('stagingSchema', `schema ${schema} does not exist: create it`);
  }
  const frozen = new FrozenRuns(db, schema);

  async function checkSegments(segments: readonly string[]): Promise<void> {
    if (segments.length === 0) throw new UnknownSegmentError([]);
    let known: Set<string>;
    if (membership.kind === 'conditions') known = new Set(Object.keys(membership.segments));
    else {
      // One index probe per asked segment (not a scan of its members) where the segment column is text.
      const rows = await db.query<{ name: string }>(
        membership.segmentIsText
          ? `SELECT name FROM unnest($1::text[]) AS name
             WHERE EXISTS (SELECT 1 FROM ${membership.table} AS m WHERE m.${membership.segment} = name)`
          : `SELECT DISTINCT ${membership.segment}::text AS name FROM ${membership.table}
             WHERE ${membership.segment} = ANY($1)`,
        [segments],
      );
      known = new Set(rows.map((r) => r.name));
    }
    const unknown = segments.filter((s) => !known.has(s));
    if (unknown.length) throw new UnknownSegmentError(unknown);
  }

  async function attributesSql(attributes: readonly string[]): Promise<string> {
    const existing = new Set((await profileColumns()).map((c) => c.name));
    const unknown = attributes.filter((a) => !isIdentifier(a) || !existing.has(a));
    if (unknown.length) throw new UnknownAttributeError(unknown, config.profilesTable);
    const unique = [...new Set(attributes)];
    if (unique.length === 0) return `'{}'::jsonb`;
    const calls: string[] = [];
    for (let i = 0; i < unique.length; i += JSONB_PAIRS_PER_CALL) {
      const pairs = unique.slice(i, i + JSONB_PAIRS_PER_CALL).map((a) => `'${a}', ${profiles}.${quoteIdent(a)}`);
      calls.push(`jsonb_build_object(${pairs.join(', ')})`);
    }
    return calls.join(' || ');
  }

  function memberFilter(segments: readonly string[]): { sql: string; params: unknown[] } {
    if (membership.kind === 'conditions') {
      return { sql: segments.map((s) => `(${membership.segments[s]})`).join(' OR '), params: [] };
    }
    return {
      sql: `EXISTS (SELECT 1 FROM ${membership.table} AS m
            WHERE m.${membership.segment} = ANY($1) AND m.${membership.key} = ${key})`,
      params: [segments],
    };
  }

  return {
    async listSegments() {
      if (membership.kind === 'table') {
        return db.query<SegmentInfo>(
          `SELECT ${membership.segment}::text AS name, count(*)::int8 AS size FROM ${membership.table}
           GROUP BY 1 ORDER BY 1`,
        );
      }
      const names = Object.keys(membership.segments).sort();
      const counts = names.map((n, i) => `count(*) FILTER (WHERE (${membership.segments[n]}))::int8 AS s${i}`);
      const [row] = await db.query<Record<string, number>>(`SELECT ${counts.join(', ')} FROM ${profiles}`);
      return names.map((name, i) => ({ name, size: Number(row?.[`s${i}`] ?? 0) }));
    },

    async listAttributes() {
      return (await profileColumns()).map(({ name, type }) => ({ name, type }));
    },

    async freeze({ runId, segments, attributes, maxRows }) {
      const id = canonicalRunId(runId);
      if (maxRows !== undefined && (!Number.isSafeInteger(maxRows) || maxRows < 0))
        throw new RangeError('maxRows must be a non-negative integer');
      const wanted = [...new Set(segments)];
      await checkSegments(wanted);
      const attrs = await attributesSql(attributes);
      const filter = memberFilter(wanted);
      const table = frozen.tableSql(id);
      const limit = maxRows === undefined ? '' : `LIMIT ${maxRows + 1}`;
      // In a transaction, so a refused or failed freeze leaves no table behind and a half-built one is never seen.
      return db.transaction(async (tx) => {
        if (await frozen.exists(id, tx)) return { rowCount: await frozen.count(id, tx), alreadyFrozen: true };
        await tx.query(
          `CREATE UNLOGGED TABLE ${table} AS
           SELECT row_number() OVER (ORDER BY s.sort_key)::int8 AS row_number, s.key, s.attributes,
                  substring(sha256(convert_to(s.attributes::text, 'UTF8')) FOR 16) AS fingerprint
           FROM (SELECT ${keyOrder} AS sort_key, ${key}::text AS key, ${attrs} AS attributes
                 FROM ${profiles} WHERE ${filter.sql}
                 ORDER BY 1 ${limit}) AS s`,
          filter.params,
        );
        await tx.query(`ALTER TABLE ${table} ADD PRIMARY KEY (row_number)`);
        const rowCount = await frozen.count(id, tx);
        if (maxRows !== undefined && rowCount > maxRows) throw new SegmentTooLargeError(id, wanted, maxRows);
        // Mirror diffs join this table against the audience snapshot; fresh statistics give them a sane plan.
        await tx.query(`ANALYZE ${table}`);
        return { rowCount, alreadyFrozen: false };
      });
    },

    readPage: (options) => frozen.readPage(options),
    stagingTables: (runId) => frozen.tablesSql(runId),
    countFrozen: (runId) => frozen.count(runId),
    dropFrozen: (runId) => frozen.drop(runId),
    listFrozen: () => frozen.list(),
    sweepFrozen: (live) => frozen.sweep(live),
  };
}

type CheckedMembership =
  | { kind: 'table'; table: string; segment: string; segmentIsText: boolean; key: string }
  | { kind: 'conditions'; segments: Record<string, string> };

async function checkMembership(db: Db, m: MembershipConfig, profiles: string): Promise<CheckedMembership> {
  if (m.kind === 'conditions') {
    for (const [segment, condition] of Object.entries(m.segments)) {
      await validateCondition(db, profiles, segment, condition);
    }
    return { kind: 'conditions', segments: m.segments };
  }
  const columns = await columnsOf(db, 'membership.table', m.table);
  for (const [field, name] of [
    ['membership.segmentColumn', m.segmentColumn],
    ['membership.keyColumn', m.keyColumn],
  ] as const) {
    if (!columns.some((c) => c.name === name)) throw missingColumn(field, m.table, name);
  }
  return {
    kind: 'table',
    table: quoteQualified(parseQualifiedName(m.table)),
    segment: quoteIdent(m.segmentColumn),
    segmentIsText: columns.find((c) => c.name === m.segmentColumn)?.category === 'S',
    key: quoteIdent(m.keyColumn),
  };
}

/** The columns of a table or view; throws SourceConfigError naming `field` when it does not exist. */
async function columnsOf(db: Db, field: string, tableName: string): Promise<Column[]> {
  const quoted = quoteQualified(parseQualifiedName(tableName));
  const [rel] = await db.query<{ oid: number | null }>(
    `SELECT c.oid::int8 AS oid FROM pg_class c
     WHERE c.oid = to_regclass($1) AND c.relkind IN ('r', 'v', 'm', 'p', 'f')`,
    [quoted],
  );
  if (rel?.oid == null) {
    throw new SourceConfigError(
      field,
      `table or view ${quoted} does not exist (or is not visible to this role); names are case-sensitive`,
    );
  }
  return db.query<Column>(
    `SELECT a.attname::text AS name, format_type(a.atttypid, a.atttypmod) AS type, t.typcategory::text AS category
     FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid
     WHERE a.attrelid = $1::oid AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum`,
    [rel.oid],
  );
}

const missingColumn = (field: string, table: string, column: string) =>
  new SourceConfigError(field, `${table} has no column "${column}"; names are case-sensitive`);
