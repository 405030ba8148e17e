import pg from 'pg';
import { pipeline } from 'node:stream/promises';
import type { Db, Queryable } from '../store/index.js';
import { DIFF_WORK_MEM } from '../store/index.js';
import { SegmentTooLargeError, SourceConfigError, UnknownAttributeError, UnknownSegmentError } from './errors.js';
import { FrozenRuns, toFrozenRows, type FrozenRow, type ReadPageOptions } from './frozen-runs.js';
import { fingerprintSql, stagedKind, stagedValueSql, STAGING, type StagedAttribute } from './staging.js';
import { canonicalRunId, isIdentifier, parseQualifiedName, quoteIdent, quoteQualified } from './sql-names.js';
import { ProfileSourceConfigSchema, type MembershipConfig, type ProfileSourceConfig } from './profile-source-config.js';
import { validateCondition } from './segment-condition.js';
import { membershipRowsAreMembers } from './membership-rows.js';
import type { z } from 'zod';

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

/** A SQL fragment with its own parameters, numbered from `$1`; the caller renumbers them where it embeds it. */
export interface SqlFragment {
  readonly sql: string;
  readonly params: readonly unknown[];
}

/**
 * What a mirror refresh freezes: only members whose row may differ from what the audience's snapshot holds. The
 * predicates come from the snapshot's owner (store/snapshots.ts); the source only embeds them.
 */
export interface ChangeFilter {
  /** True when the snapshot already settled this key and fingerprint (sent or dropped): the member is skipped. */
  settled(key: string, fingerprint: string): SqlFragment;
  /** True when the snapshot settled any row of this key: with a change column, members without one are examined. */
  knownKey(key: string): SqlFragment;
  /**
   * With a change column configured: only profiles whose column is at or after this value (its text, as a previous
   * freeze returned it), NULL, or unknown to the snapshot are examined. Undefined: every member is.
   */
  changedSince?: string | null;
}

export interface FreezeOptions {
  runId: string;
  /** Segments whose union is frozen (a profile in two segments is frozen once). */
  segments: readonly string[];
  /** Profile-table columns to copy as the raw attributes. */
  attributes: readonly string[];
  /** Refuse (and drop the staging table) when the segment has more members than this. */
  maxRows?: number;
  /** Freeze only the members this filter does not skip (a mirror refresh); the whole segment otherwise. */
  changes?: ChangeFilter;
}

export interface FreezeResult {
  /** Rows in the staging table: the whole segment, or (with `changes`) the members that may have changed. */
  rowCount: number;
  /** Members of the segments. */
  segmentSize: number;
  /** The largest change-column value when the freeze began (text), with a change column; else null. */
  changeWatermark: string | null;
  /** True when this run was frozen already (a retried activity): the existing rows stand, unchanged. */
  alreadyFrozen: boolean;
}

export interface ProfileSource {
  listSegments(): Promise<SegmentInfo[]>;
  listAttributes(): Promise<SourceAttribute[]>;
  /** The configured change column (updated_at-style), if any. */
  readonly changeColumn: string | undefined;
  /**
   * What a freeze's change watermark is read from: the change column, and the change log when one is configured.
   * A watermark counts only for the tracking it was read under (an audience refreshed before a log was configured
   * compares every member once).
   */
  readonly changeTracking: string | undefined;
  /** The columns that may be sent in clear (EXTERN_ID, MADID); see `ProfileSourceConfig.plaintextColumns`. */
  readonly plaintextColumns: readonly string[];
  /**
   * Copies members of `segments` — key and mapped raw attributes, in key order with a row number and a
   * fingerprint — into the run's unlogged staging table in one statement. Idempotent per run id.
   */
  freeze(options: FreezeOptions): Promise<FreezeResult>;
  /** Page `page` (0-based, as domain/plan-pages.ts plans) of a frozen run: the same rows on every call, whatever happens to the profiles. */
  readPage(options: ReadPageOptions): Promise<FrozenRow[]>;
  /**
   * The first `limit` members of `segments` in key order with their staged attributes, read in place (no staging
   * table), and how many members the segments have: what a preview examines.
   */
  sample(options: { segments: readonly string[]; attributes: readonly string[]; limit: number }): Promise<{
    rows: FrozenRow[];
    segmentSize: number;
  }>;
  /** Those of `segments` the source does not offer (an index probe each for a membership table). */
  unknownSegments(segments: readonly string[]): Promise<string[]>;
  /**
   * SQL (in our database): true when a member of `segments` has the profile key `key` (a text expression), for the
   * mirror diff of run `runId`. A source in our database answers from the profiles; a separate source from the
   * segment's keys the run's freeze copied into our database.
   */
  memberSql(segments: readonly string[], key: string, runId: string): SqlFragment;
  /**
   * With a change log: SQL of one text column, `key`, listing every profile key that can have joined, left or
   * changed since `changedSince` (a watermark as a freeze returned it): the profiles changed since then and the keys
   * the log names since then. The only snapshot keys a refresh must check for leavers. Undefined without a log, and for a
   * separate source (its log is in another database).
   */
  changedKeysSql(changedSince: string): SqlFragment | undefined;
  countFrozen(runId: string): Promise<number>;
  /** Drops a run's staging table; true when there was one. */
  dropFrozen(runId: string): Promise<boolean>;
  /** Run ids that have a staging table (canonical UUIDs). */
  listFrozen(): Promise<string[]>;
  /** Drops staging tables of runs that are not live; returns their run ids. */
  sweepFrozen(live: readonly string[] | ((runId: string) => boolean)): Promise<string[]>;
  /** Quoted names of a run's staging table and the upload-plan tables beside it (same schema, our database). */
  stagingTables(runId: string): { staging: string; adds: string; removes: string };
}

export interface ProfileSourceOptions {
  /**
   * Our database, where staging tables live, when the profiles are read from another database (a pool of their
   * own, SOURCE_DATABASE_URL; the role there may only read). Unset or the source's own Db: one database, and a
   * freeze is one INSERT…SELECT there. Otherwise a freeze streams the segment from the source into our database
   * (COPY … TO STDOUT there, COPY … FROM STDIN here) and a refresh compares it with the snapshot here.
   */
  stagingDb?: Db;
}

interface Column {
  name: string;
  type: string;
  typeName: string;
  category: string;
}

/** How far before the last watermark a date/time change column is read again. */
const CHANGE_OVERLAP = '10 minutes';

/** Change-column types whose values only grow in a meaningful order: numbers and dates/times. */
const CHANGE_COLUMN_CATEGORIES = new Set(['N', 'D']);

/**
 * Opens a PostgreSQL profile source: validates the configuration (shape, identifiers, that every table and
 * column exists, and every segment condition) and returns its operations. Throws {@link SourceConfigError}.
 */
export async function createProfileSource(
  db: Db,
  rawConfig: ProfileSourceConfig,
  options: ProfileSourceOptions = {},
): Promise<ProfileSource> {
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
  const key = `p.${quoteIdent(config.keyColumn)}`;
  // Byte order sorts text keys far faster than a locale's collation, and any total order serves paging.
  const keyOrder = keyColumn.category === 'S' ? `${key} COLLATE "C"` : key;
  let change: { column: string; type: string; overlap: string } | undefined;
  if (config.changeColumn !== undefined) {
    const column = columns.find((c) => c.name === config.changeColumn);
    if (!column) throw missingColumn('changeColumn', config.profilesTable, config.changeColumn);
    if (!CHANGE_COLUMN_CATEGORIES.has(column.category)) {
      throw new SourceConfigError(
        'changeColumn',
        `${config.changeColumn} is ${column.type}: a change column must be a number or a date/time that grows ` +
          'whenever a profile changes',
      );
    }
    change = {
      column: `p.${quoteIdent(config.changeColumn)}`,
      type: column.type,
      overlap: column.category === 'D' ? ` - interval '${CHANGE_OVERLAP}'` : '',
    };
  }
  const log = await checkChangeLog(db, config, keyColumn, change);
  const changeTracking =
    config.changeColumn === undefined
      ? undefined
      : config.changeLog === undefined
        ? config.changeColumn
        : `${config.changeColumn}; log ${config.changeLog.table} (${config.changeLog.keyColumn}, ${config.changeLog.changedAtColumn})`;

  const plaintextColumns = [...new Set(config.plaintextColumns ?? [])];
  for (const [i, name] of plaintextColumns.entries()) {
    if (!columns.some((c) => c.name === name)) throw missingColumn(`plaintextColumns.${i}`, config.profilesTable, name);
  }

  const membership = await checkMembership(db, config.membership, { profiles, keyColumn: config.keyColumn });
  const stagingDb = options.stagingDb ?? db;
  const separate = stagingDb !== db;
  if (separate && (db.kind !== 'postgres' || stagingDb.kind !== 'postgres')) {
    throw new SourceConfigError(
      'SOURCE_DATABASE_URL',
      'a separate profile source needs DATABASE_URL too: our tables on PostgreSQL, not the embedded database',
    );
  }
  let schema: string | undefined;
  if (config.stagingSchema !== undefined) {
    schema = quoteIdent(config.stagingSchema);
    const [row] = await stagingDb.query<{ ns: string | null }>('SELECT to_regnamespace($1)::text AS ns', [schema]);
    if (row?.ns == null) throw new SourceConfigError('stagingSchema', `schema ${schema} does not exist: create it`);
  }
  const frozen = new FrozenRuns(stagingDb, schema);

  async function unknownSegments(segments: readonly string[]): Promise<string[]> {
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
    return segments.filter((s) => !known.has(s));
  }

  async function checkSegments(segments: readonly string[]): Promise<void> {
    if (segments.length === 0) throw new UnknownSegmentError([]);
    const unknown = await unknownSegments(segments);
    if (unknown.length) throw new UnknownSegmentError(unknown);
  }

  /** The attributes as staged (sorted, once each), typed from the catalog; throws on unknown names. */
  async function stagedAttributes(attributes: readonly string[]): Promise<StagedAttribute[]> {
    const byName = new Map((await profileColumns()).map((c) => [c.name, c]));
    const unknown = attributes.filter((a) => !isIdentifier(a) || !byName.has(a));
    if (unknown.length) throw new UnknownAttributeError(unknown, config.profilesTable);
    return [...new Set(attributes)].sort().map((name) => ({ name, kind: stagedKind(byName.get(name)!.typeName) }));
  }

  /** SQL of source rows `p` (key, fingerprint, staged attributes), without FROM. */
  function stagedColumnsSql(attributes: readonly StagedAttribute[]): string {
    const values = attributes.map((a) => ({ sql: stagedValueSql('p', a), kind: a.kind }));
    return [
      `${key}::text AS ${STAGING.key}`,
      `${fingerprintSql(values)} AS ${STAGING.fingerprint}`,
      ...values.map((v, i) => `${v.sql} AS ${quoteIdent(attributes[i]!.name)}`),
    ].join(', ');
  }

  /** SQL: whether profile row `p` is a member of `segments`, with parameters numbered from `$1`. */
  function memberFilter(segments: readonly string[]): SqlFragment {
    if (membership.kind === 'conditions') {
      return { sql: segments.map((s) => `(${membership.segments[s]})`).join(' OR '), params: [] };
    }
    return {
      sql: `EXISTS (SELECT 1 FROM ${membership.table} AS m
            WHERE m.${membership.segment} = ANY($1) AND m.${membership.key} = ${key})`,
      params: [segments],
    };
  }

  /**
   * How many members (profiles in the segments) there are, for a freeze that copies only some of them. One segment
   * of a membership table whose rows are its members (membership-rows.ts) is a count of its rows; anything else
   * joins (a profile in two segments counts once).
   */
  async function countMembers(q: Queryable, segments: readonly string[]): Promise<number> {
    const rowsCount = membership.kind === 'table' && membership.rowsAreMembers && segments.length === 1;
    const filter = memberFilter(segments);
    const [row] = await q.query<{ n: number }>(
      rowsCount
        ? `SELECT count(m.${membership.key})::int8 AS n FROM ${membership.table} AS m WHERE m.${membership.segment} = ANY($1)`
        : `SELECT count(*)::int8 AS n FROM ${profiles} AS p WHERE ${filter.sql}`,
      rowsCount ? [segments] : filter.params,
    );
    return Number(row?.n ?? 0);
  }

  /**
   * The member count beside other work (a preview's sample, a refresh's freeze), on a connection of its own with
   * the settings of a big join. Beside a freeze it sees the profiles a moment apart from the freeze's snapshot; it
   * is reported and checked against the limit. PGlite (and a pool of one) has one connection: there it runs on
   * `tx`, first.
   */
  async function countBeside(tx: Queryable, segments: readonly string[]): Promise<number> {
    if ((db.pool?.options.max ?? 1) < 2) return countMembers(tx, segments);
    return db.transaction(async (c) => {
      await bigJoinSettings(c);
      return countMembers(c, segments);
    });
  }

  /**
   * SQL of the change column's lower bound for a refresh since watermark `changedSince`. Times are read back from a
   * little before the watermark: a change committed late, with a time just below what the last run saw, is still
   * examined (an unchanged one costs a fingerprint comparison).
   */
  const sinceSql = (sql: SqlBuilder, changedSince: string) =>
    `(${sql.param(changedSince)}::${change!.type}${change!.overlap})`;

  /** SQL of a freeze's change watermark, `w`: with a log, the later of its last entry and the last change (one clock). */
  const watermarkSql = () =>
    log
      ? `SELECT greatest((SELECT max(${change!.column}) FROM ${profiles} AS p),
                         (SELECT max(l.${log.changedAt}) FROM ${log.table} AS l))::text AS w`
      : `SELECT max(${change!.column})::text AS w FROM ${profiles} AS p`;

  /** The candidates of a mirror refresh (see ChangeFilter), as one SELECT over `profiles p`. */
  function changedMembersSql(segments: readonly string[], attributes: StagedAttribute[], changes: ChangeFilter) {
    const sql = new SqlBuilder();
    const filter = sql.embed(memberFilter(segments));
    const columnsSql = stagedColumnsSql(attributes);
    let candidates: string;
    if (change === undefined || changes.changedSince == null) {
      candidates = `SELECT ${columnsSql} FROM ${profiles} AS p WHERE ${filter}`;
    } else {
      const since = sinceSql(sql, changes.changedSince);
      // Two branches, not an OR: each plans on its own. The first is an index range on the change column. The
      // second finds members whose profile did not change: with a change log, the keys it names since then (who
      // joined), by index; without one, an anti-join of every member against the snapshot's keys (who joined, or
      // whose last rows were never confirmed).
      const unchanged = log
        ? `${key} IN (SELECT l.${log.key} FROM ${log.table} AS l WHERE l.${log.changedAt} >= ${since})`
        : `NOT ${sql.embed(changes.knownKey(`${key}::text`))}`;
      candidates =
        `SELECT ${columnsSql} FROM ${profiles} AS p WHERE (${filter}) ` +
        `AND (${change.column} >= ${since} OR ${change.column} IS NULL) ` +
        `UNION ALL SELECT ${columnsSql} FROM ${profiles} AS p WHERE (${filter}) ` +
        `AND ${change.column} < ${since} AND ${unchanged}`;
    }
    const settled = sql.embed(changes.settled(`c.${STAGING.key}`, `c.${STAGING.fingerprint}`));
    return { sql: `SELECT c.* FROM (${candidates}) AS c WHERE NOT ${settled}`, params: sql.params };
  }

  /**
   * A freeze from a separate source database: the members (key and staged attributes, no more than `maxRows + 1`)
   * are streamed by one read-only COPY into a temporary table in our database, where the fingerprints are computed
   * by the same SQL as in place (so they equal what a source in our database gives) and the staging table is made.
   * A refresh (`changes`) reads the whole segment — the source cannot see our snapshot, so the change column does
   * not narrow the read — and keeps in the staging table only the members the snapshot has not settled, with every
   * member's key in `_members` for the plan's "still a member" check.
   */
  async function freezeElsewhere(
    id: string,
    wanted: string[],
    staged: StagedAttribute[],
    maxRows: number | undefined,
    changes: ChangeFilter | undefined,
  ): Promise<FreezeResult> {
    const tables = frozen.tablesSql(id);
    const table = frozen.tableSql(id);
    const names = staged.map((a) => quoteIdent(a.name));
    return stagingDb.transaction(async (tx) => {
      if (await frozen.exists(id, tx)) return { ...(await frozen.describe(id, tx)), alreadyFrozen: true };
      const load = 'pg_temp.ae_freeze_load';
      await tx.query(
        `CREATE TEMP TABLE ae_freeze_load (${[`${STAGING.key} text`, ...staged.map((a, i) => `${names[i]} ${a.kind}`)].join(', ')})
         ON COMMIT DROP`,
      );
      // One snapshot of the source for the watermark and the rows; read only, as the role there may only read.
      const changeWatermark = await db.transaction(async (src) => {
        await src.query('SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY');
        let watermark: string | null = null;
        if (change !== undefined) {
          const [row] = await src.query<{ w: string | null }>(watermarkSql());
          watermark = row?.w ?? null;
        }
        const filter = inlineParams(memberFilter(wanted));
        const values = staged.map((a, i) => `${stagedValueSql('p', a)} AS ${names[i]}`);
        const limit = maxRows === undefined ? '' : `LIMIT ${maxRows + 1}`;
        await pipeline(
          src.copyOut!(
            `COPY (SELECT ${[`${key}::text`, ...values].join(', ')} FROM ${profiles} AS p WHERE ${filter} ${limit}) TO STDOUT`,
          ),
          tx.copyIn!(`COPY ${load} FROM STDIN`),
        );
        return watermark;
      });
      const [loaded] = await tx.query<{ n: number }>(`SELECT count(*)::int8 AS n FROM ${load}`);
      const segmentSize = Number(loaded?.n ?? 0);
      if (maxRows !== undefined && segmentSize > maxRows) throw new SegmentTooLargeError(id, wanted, maxRows);
      const sql = new SqlBuilder();
      const fingerprint = fingerprintSql(staged.map((a, i) => ({ sql: `l.${names[i]}`, kind: a.kind })));
      let where = '';
      if (changes) {
        await tx.query(`SET LOCAL work_mem = '${DIFF_WORK_MEM}'`);
        where = `WHERE NOT ${sql.embed(changes.settled(`s.${STAGING.key}`, `s.${STAGING.fingerprint}`))}`;
        await tx.query(`CREATE UNLOGGED TABLE ${tables.members} AS SELECT ${STAGING.key} FROM ${load}`);
        await tx.query(`ANALYZE ${tables.members}`);
      }
      await tx.query(
        `CREATE UNLOGGED TABLE ${table} AS
         SELECT row_number() OVER (ORDER BY s.${STAGING.key} COLLATE "C")::int8 AS ${STAGING.row},
                s.${STAGING.key}, s.${STAGING.fingerprint}${names.map((n) => `, s.${n}`).join('')}
         FROM (SELECT l.${STAGING.key}, ${fingerprint} AS ${STAGING.fingerprint}${names.map((n) => `, l.${n}`).join('')}
               FROM ${load} AS l) AS s ${where}`,
        sql.params,
      );
      await tx.query(`ALTER TABLE ${table} ADD PRIMARY KEY (${STAGING.row})`);
      const rowCount = await frozen.count(id, tx);
      await frozen.note(id, { segmentSize, changeWatermark }, tx);
      await tx.query(`ANALYZE ${table}`);
      return { rowCount, segmentSize, changeWatermark, alreadyFrozen: false };
    });
  }

  return {
    changeColumn: config.changeColumn,
    changeTracking,
    plaintextColumns,

    async listSegments() {
      if (membership.kind === 'table') {
        return db.query<SegmentInfo>(
          `SELECT ${membership.segment}::text AS name, count(*)::int8 AS size FROM ${membership.table}
           GROUP BY 1 ORDER BY 1`,
        );
      }
      const names = Object.keys(membership.segments).sort();
      const counts = names.map((n, i) => `count(*) FILTER (WHERE (${membership.segments[n]}))::int8 AS s${i}`);
      const [row] = await db.query<Record<string, number>>(`SELECT ${counts.join(', ')} FROM ${profiles} AS p`);
      return names.map((name, i) => ({ name, size: Number(row?.[`s${i}`] ?? 0) }));
    },

    async listAttributes() {
      return (await profileColumns()).map(({ name, type }) => ({ name, type }));
    },

    async freeze({ runId, segments, attributes, maxRows, changes }) {
      const id = canonicalRunId(runId);
      if (maxRows !== undefined && (!Number.isSafeInteger(maxRows) || maxRows < 0))
        throw new RangeError('maxRows must be a non-negative integer');
      const wanted = [...new Set(segments)];
      await checkSegments(wanted);
      const staged = await stagedAttributes(attributes);
      if (separate) return freezeElsewhere(id, wanted, staged, maxRows, changes);
      const table = frozen.tableSql(id);
      // In a transaction, so a refused or failed freeze leaves no table behind and a half-built one is never seen;
      // repeatable read, so the watermark and the rows come from one snapshot of the profiles.
      return db.transaction(async (tx) => {
        await tx.query('SET TRANSACTION ISOLATION LEVEL REPEATABLE READ');
        if (await frozen.exists(id, tx)) return { ...(await frozen.describe(id, tx)), alreadyFrozen: true };
        let changeWatermark: string | null = null;
        if (change !== undefined) {
          const [row] = await tx.query<{ w: string | null }>(watermarkSql());
          changeWatermark = row?.w ?? null;
        }
        let select: SqlFragment;
        let counting: Promise<number> | undefined;
        if (changes) {
          await bigJoinSettings(tx);
          // The member count is the one part of a refresh that reads the whole segment (at 10 million, 0.7 s over
          // membership rows that are the members, 5 s joined with the profiles): it runs beside the copy of the
          // changed members.
          counting = countBeside(tx, wanted);
          select = changedMembersSql(wanted, staged, changes);
        } else {
          const filter = memberFilter(wanted);
          const limit = maxRows === undefined ? '' : `LIMIT ${maxRows + 1}`;
          select = {
            sql: `SELECT ${stagedColumnsSql(staged)} FROM ${profiles} AS p WHERE ${filter.sql} ORDER BY ${keyOrder} ${limit}`,
            params: filter.params,
          };
        }
        const names = staged.map((a) => quoteIdent(a.name));
        const build = async () => {
          await tx.query(
            `CREATE UNLOGGED TABLE ${table} AS
             SELECT row_number() OVER (ORDER BY s.${STAGING.key} COLLATE "C")::int8 AS ${STAGING.row},
                    s.${STAGING.key}, s.${STAGING.fingerprint}${names.map((n) => `, s.${n}`).join('')}
             FROM (${select.sql}) AS s`,
            select.params,
          );
          await tx.query(`ALTER TABLE ${table} ADD PRIMARY KEY (${STAGING.row})`);
          return frozen.count(id, tx);
        };
        const [rowCount, counted] = await Promise.all([build(), counting]);
        const segmentSize = counted ?? rowCount;
        if (maxRows !== undefined && segmentSize > maxRows) throw new SegmentTooLargeError(id, wanted, maxRows);
        await frozen.note(id, { segmentSize, changeWatermark }, tx);
        // Mirror diffs join this table against the audience snapshot; fresh statistics give them a sane plan.
        await tx.query(`ANALYZE ${table}`);
        return { rowCount, segmentSize, changeWatermark, alreadyFrozen: false };
      });
    },

    async sample({ segments, attributes, limit }) {
      if (!Number.isSafeInteger(limit) || limit < 1) throw new RangeError('limit must be an integer >= 1');
      const wanted = [...new Set(segments)];
      await checkSegments(wanted);
      const staged = await stagedAttributes(attributes);
      const filter = memberFilter(wanted);
      // The key column's own order, so an index on it gives the first members without sorting the segment. The
      // count (countMembers: a read of every member, the longer of the two at 10 million) runs beside it on another
      // connection.
      const [result, segmentSize] = await Promise.all([
        db.queryArrays(
          `SELECT ${stagedColumnsSql(staged)} FROM ${profiles} AS p WHERE ${filter.sql} ORDER BY ${key} LIMIT ${limit}`,
          filter.params,
        ),
        countBeside(db, wanted),
      ]);
      return { rows: toFrozenRows(result, 0), segmentSize };
    },

    unknownSegments,

    memberSql(segments, keySql, runId) {
      if (separate) {
        return {
          sql: `EXISTS (SELECT 1 FROM ${frozen.tablesSql(runId).members} AS k WHERE k.${STAGING.key} = ${keySql})`,
          params: [],
        };
      }
      const sql = new SqlBuilder();
      const filter = sql.embed(memberFilter([...new Set(segments)]));
      return {
        sql: `EXISTS (SELECT 1 FROM ${profiles} AS p WHERE ${key}::text = ${keySql} AND (${filter}))`,
        params: sql.params,
      };
    },

    changedKeysSql(changedSince) {
      if (!log || change === undefined || separate) return undefined;
      const sql = new SqlBuilder();
      const since = sinceSql(sql, changedSince);
      return {
        sql:
          `SELECT ${key}::text AS key FROM ${profiles} AS p WHERE ${change.column} >= ${since} OR ${change.column} IS NULL ` +
          `UNION SELECT l.${log.key}::text FROM ${log.table} AS l WHERE l.${log.changedAt} >= ${since}`,
        params: sql.params,
      };
    },

    readPage: (options) => frozen.readPage(options),
    stagingTables: (runId) => frozen.tablesSql(runId),
    countFrozen: (runId) => frozen.count(runId),
    dropFrozen: (runId) => frozen.drop(runId),
    listFrozen: () => frozen.list(),
    sweepFrozen: (live) => frozen.sweep(live),
  };
}

/**
 * For a refresh's statements and the member count, in their transaction: parallel hash joins over millions of keys
 * (the count's) want their hash tables in memory, and the rest are index probes, for which JIT compiling cost
 * 0.6-1.2 s a statement.
 */
async function bigJoinSettings(tx: Queryable): Promise<void> {
  await tx.query(`SET LOCAL work_mem = '${DIFF_WORK_MEM}'`);
  await tx.query('SET LOCAL jit = off');
}

/**
 * A fragment with its parameters written in as literals, for `COPY (query) TO STDOUT`, which takes none: text as a
 * quoted literal, an array as the quoted text of an array literal (an unknown-typed literal, as a bound parameter
 * is, so it takes the type of the column it is compared with).
 */
export function inlineParams(fragment: SqlFragment): string {
  if (fragment.params.length === 0) return fragment.sql;
  const element = (v: unknown) => `"${String(v).replaceAll('\\', '\\\\').replaceAll('"', '\\"')}"`;
  const literal = (v: unknown): string => {
    if (Array.isArray(v)) return pg.escapeLiteral(`{${v.map(element).join(',')}}`);
    if (typeof v === 'string') return pg.escapeLiteral(v);
    throw new TypeError('only text and text arrays are written into SQL');
  };
  return fragment.sql.replace(/\$(\d+)/g, (_, n: string) => literal(fragment.params[Number(n) - 1]));
}

/** Composes SQL from fragments whose `$n` parameters are numbered from 1, renumbering them after its own. */
export class SqlBuilder {
  readonly params: unknown[] = [];
  param(value: unknown): string {
    this.params.push(value);
    return `$${this.params.length}`;
  }
  embed(fragment: SqlFragment): string {
    const offset = this.params.length;
    this.params.push(...fragment.params);
    return fragment.sql.replace(/\$(\d+)/g, (_, n: string) => `$${Number(n) + offset}`);
  }
}

type CheckedMembership =
  | { kind: 'table'; table: string; segment: string; segmentIsText: boolean; key: string; rowsAreMembers: boolean }
  | { kind: 'conditions'; segments: Record<string, string> };

async function checkMembership(
  db: Db,
  m: MembershipConfig,
  profiles: { profiles: string; keyColumn: string },
): Promise<CheckedMembership> {
  if (m.kind === 'conditions') {
    for (const [segment, condition] of Object.entries(m.segments)) {
      await validateCondition(db, profiles.profiles, segment, condition);
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
  const table = quoteQualified(parseQualifiedName(m.table));
  return {
    kind: 'table',
    table,
    segment: quoteIdent(m.segmentColumn),
    segmentIsText: columns.find((c) => c.name === m.segmentColumn)?.category === 'S',
    key: quoteIdent(m.keyColumn),
    rowsAreMembers: await membershipRowsAreMembers(db, {
      table,
      segmentColumn: m.segmentColumn,
      keyColumn: m.keyColumn,
      profilesTable: profiles.profiles,
      profileKeyColumn: profiles.keyColumn,
    }),
  };
}

/** The change log's table and columns, checked against the profiles' key and change column. */
async function checkChangeLog(
  db: Db,
  config: z.output<typeof ProfileSourceConfigSchema>,
  keyColumn: Column,
  change: { type: string } | undefined,
): Promise<{ table: string; key: string; changedAt: string } | undefined> {
  const log = config.changeLog;
  if (log === undefined) return undefined;
  if (change === undefined) {
    throw new SourceConfigError('changeLog', 'a change log narrows a change column: set changeColumn too');
  }
  const columns = await columnsOf(db, 'changeLog.table', log.table);
  const logKey = columns.find((c) => c.name === log.keyColumn);
  if (!logKey) throw missingColumn('changeLog.keyColumn', log.table, log.keyColumn);
  if (logKey.type !== keyColumn.type) {
    throw new SourceConfigError(
      'changeLog.keyColumn',
      `${log.keyColumn} is ${logKey.type}; the profile key is ${keyColumn.type}`,
    );
  }
  const at = columns.find((c) => c.name === log.changedAtColumn);
  if (!at) throw missingColumn('changeLog.changedAtColumn', log.table, log.changedAtColumn);
  if (at.type !== change.type) {
    throw new SourceConfigError(
      'changeLog.changedAtColumn',
      `${log.changedAtColumn} is ${at.type}; the change column is ${change.type} (one type, one clock)`,
    );
  }
  return {
    table: quoteQualified(parseQualifiedName(log.table)),
    key: quoteIdent(log.keyColumn),
    changedAt: quoteIdent(log.changedAtColumn),
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
    `SELECT a.attname::text AS name, format_type(a.atttypid, a.atttypmod) AS type, t.typname::text AS "typeName",
            t.typcategory::text AS category
     FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid
     WHERE a.attrelid = $1::oid AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum`,
    [rel.oid],
  );
}

const missingColumn = (field: string, table: string, column: string) =>
  new SourceConfigError(field, `${table} has no column "${column}"; names are case-sensitive`);
