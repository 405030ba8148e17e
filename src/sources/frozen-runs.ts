import type { ArrayRows, Db, Queryable } from '../store/index.js';
import { FrozenRunNotFoundError } from './errors.js';
import { canonicalRunId, quoteIdent, runIdOfStagingTable, stagingTableName } from './sql-names.js';
import { STAGING } from './staging.js';

/** A JSON value as PostgreSQL's jsonb hands it back. */
export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

/** One frozen member: what a page sends, exactly as it was when the run froze. */
export interface FrozenRow {
  /** 1-based position in key order. */
  rowNumber: number;
  /** The profile key, as text. */
  key: string;
  /** The mapped raw attributes, by profile-table column name (SQL NULL is null), as their jsonb would give them. */
  attributes: Record<string, JsonValue>;
  /** 16 bytes over the staged attribute values (staging.ts `fingerprintSql`): what mirror diffs compare. */
  fingerprint: Buffer;
}

/**
 * Rows read as arrays (`#row`, when read, `#key`, `#fp`, then attribute columns named as the attributes) as frozen
 * rows; without a `#row` column, rows are numbered from `firstRowNumber + 1`.
 */
export function toFrozenRows(result: ArrayRows, firstRowNumber: number): FrozenRow[] {
  const at = (name: string) => result.fields.indexOf(name.slice(1, -1));
  const row = at(STAGING.row);
  const key = at(STAGING.key);
  const fingerprint = at(STAGING.fingerprint);
  const names = result.fields.filter((f) => !f.startsWith('#'));
  const first = result.fields.length - names.length;
  if (key < 0 || fingerprint < 0 || result.fields.slice(first).some((f) => f.startsWith('#'))) {
    throw new Error('staged rows must list their # columns first');
  }
  return result.rows.map((values, i) => {
    const attributes: Record<string, JsonValue> = {};
    for (let c = 0; c < names.length; c++) attributes[names[c]!] = values[first + c] as JsonValue;
    const fp = values[fingerprint] as Uint8Array;
    return {
      rowNumber: row < 0 ? firstRowNumber + i + 1 : Number(values[row]),
      key: values[key] as string,
      attributes,
      fingerprint: Buffer.isBuffer(fp) ? fp : Buffer.from(fp.buffer, fp.byteOffset, fp.byteLength),
    };
  });
}

/** What a freeze noted on its table, so a retried freeze answers as the first one did. */
export interface FrozenNote {
  segmentSize: number;
  changeWatermark: string | null;
}

/** Ids that are not UUIDs cannot own a staging table, so a live list may hold them harmlessly. */
function canonicalOrNothing(runId: string): string[] {
  try {
    return [canonicalRunId(runId)];
  } catch {
    return [];
  }
}

export interface ReadPageOptions {
  runId: string;
  /** 0-based page number, as domain/plan-pages.ts plans them: page p holds rows p*pageSize+1 .. (p+1)*pageSize. */
  page: number;
  pageSize: number;
}

/**
 * Staging tables of frozen runs in one schema: read, count, drop, sweep. They are addressed only by run id,
 * so nothing from outside reaches SQL but a validated UUID.
 */
export class FrozenRuns {
  constructor(
    private readonly db: Db,
    /** Quoted schema, or undefined for the first schema on the search path. */
    private readonly schema: string | undefined,
  ) {}

  /** The quoted, schema-qualified staging table of a run. */
  tableSql(runId: string): string {
    const table = quoteIdent(stagingTableName(runId));
    return this.schema === undefined ? table : `${this.schema}.${table}`;
  }

  async exists(runId: string, q: Queryable = this.db): Promise<boolean> {
    const [row] = await q.query<{ oid: string | null }>('SELECT to_regclass($1)::text AS oid', [this.tableSql(runId)]);
    return row?.oid != null;
  }

  async readPage({ runId, page, pageSize }: ReadPageOptions): Promise<FrozenRow[]> {
    if (!Number.isSafeInteger(page) || page < 0) throw new RangeError('page must be an integer >= 0');
    if (!Number.isSafeInteger(pageSize) || pageSize < 1) throw new RangeError('pageSize must be an integer >= 1');
    const from = page * pageSize;
    // Arrays, not an object per row: no column names repeated 10,000 times, and text columns arrive as they are.
    const result = await this.missingAsNotFound(runId, () =>
      this.db.queryArrays(
        `SELECT * FROM ${this.tableSql(runId)} WHERE ${STAGING.row} > $1 AND ${STAGING.row} <= $2 ORDER BY ${STAGING.row}`,
        [from, from + pageSize],
      ),
    );
    return toFrozenRows(result, from);
  }

  /** How many members the run froze. Row numbers are dense, so the largest is the count (an index lookup). */
  async count(runId: string, q: Queryable = this.db): Promise<number> {
    const [row] = await this.missingAsNotFound(runId, () =>
      q.query<{ n: number | string }>(`SELECT coalesce(max(${STAGING.row}), 0) AS n FROM ${this.tableSql(runId)}`),
    );
    return Number(row?.n ?? 0);
  }

  /** Notes what the freeze found on the table itself, in the freeze's transaction. */
  async note(runId: string, note: FrozenNote, q: Queryable): Promise<void> {
    const text = JSON.stringify(note).replaceAll("'", "''");
    await q.query(`COMMENT ON TABLE ${this.tableSql(runId)} IS '${text}'`);
  }

  /** The row count and what the freeze noted (tables frozen before notes existed count their rows). */
  async describe(runId: string, q: Queryable = this.db): Promise<FrozenNote & { rowCount: number }> {
    const rowCount = await this.count(runId, q);
    const [row] = await q.query<{ note: string | null }>('SELECT obj_description(to_regclass($1), $2) AS note', [
      this.tableSql(runId),
      'pg_class',
    ]);
    const note = row?.note ? (JSON.parse(row.note) as Partial<FrozenNote>) : {};
    return { rowCount, segmentSize: note.segmentSize ?? rowCount, changeWatermark: note.changeWatermark ?? null };
  }

  /**
   * The staging table, the upload plan's tables derived from it (src/store/upload-plan.ts), and the segment's keys
   * of a separate source's refresh (profile-source.ts), quoted.
   */
  tablesSql(runId: string): { staging: string; adds: string; removes: string; members: string } {
    const base = stagingTableName(runId);
    const qualify = (name: string) =>
      this.schema === undefined ? quoteIdent(name) : `${this.schema}.${quoteIdent(name)}`;
    return {
      staging: qualify(base),
      adds: qualify(`${base}_adds`),
      removes: qualify(`${base}_removes`),
      members: qualify(`${base}_members`),
    };
  }

  /** Drops a run's staging table and its derived tables; true when there was a staging table. Idempotent. */
  async drop(runId: string): Promise<boolean> {
    const existed = await this.exists(runId);
    const tables = this.tablesSql(runId);
    await this.db.query(`DROP TABLE IF EXISTS ${tables.staging}, ${tables.adds}, ${tables.removes}, ${tables.members}`);
    return existed;
  }

  /** Run ids (canonical UUIDs) that have a staging table in this schema. */
  async list(): Promise<string[]> {
    const rows = await this.db.query<{ name: string }>(
      `SELECT c.relname AS name FROM pg_class c
       WHERE c.relkind = 'r' AND c.relname LIKE 'staging\\_run\\_%'
         AND c.relnamespace = ${this.schema === undefined ? 'current_schema()' : `'${this.schema}'`}::regnamespace
       ORDER BY c.relname`,
    );
    return [...new Set(rows.flatMap((r) => runIdOfStagingTable(r.name) ?? []))];
  }

  /**
   * Drops the staging tables of runs that are not live and returns their run ids. A table still being built in
   * an open transaction is invisible here, so a freeze in flight is never swept from under itself.
   */
  async sweep(live: readonly string[] | ((runId: string) => boolean)): Promise<string[]> {
    const isLive =
      typeof live === 'function'
        ? live
        : (
            (ids: Set<string>) => (id: string) =>
              ids.has(id)
          )(new Set(live.flatMap(canonicalOrNothing)));
    const dropped: string[] = [];
    for (const runId of await this.list()) {
      if (isLive(runId)) continue;
      await this.drop(runId);
      dropped.push(runId);
    }
    return dropped;
  }

  private async missingAsNotFound<T>(runId: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      // 42P01 undefined_table: the run was never frozen or has been dropped.
      if ((err as { code?: string }).code === '42P01') throw new FrozenRunNotFoundError(canonicalRunId(runId));
      throw err;
    }
  }
}
