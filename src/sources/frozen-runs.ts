import type { Db, Queryable } from '../store/index.js';
import { FrozenRunNotFoundError } from './errors.js';
import { canonicalRunId, quoteIdent, runIdOfStagingTable, stagingTableName } from './sql-names.js';

/** A JSON value as PostgreSQL's jsonb hands it back. */
export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

/** One frozen member: what a page sends, exactly as it was when the run froze. */
export interface FrozenRow {
  /** 1-based position in key order. */
  rowNumber: number;
  /** The profile key, as text. */
  key: string;
  /** The mapped raw attributes, by profile-table column name (SQL NULL is JSON null). */
  attributes: Record<string, JsonValue>;
  /** First 16 bytes of SHA-256 over the attributes' canonical jsonb text: what mirror diffs compare. */
  fingerprint: Buffer;
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
    const rows = await this.missingAsNotFound(runId, () =>
      this.db.query<{
        row_number: number | string;
        key: string;
        attributes: Record<string, JsonValue>;
        fingerprint: Uint8Array;
      }>(
        `SELECT row_number, key, attributes, fingerprint FROM ${this.tableSql(runId)}
         WHERE row_number > $1 AND row_number <= $2 ORDER BY row_number`,
        [from, from + pageSize],
      ),
    );
    return rows.map((r) => ({
      rowNumber: Number(r.row_number),
      key: r.key,
      attributes: r.attributes,
      fingerprint: Buffer.isBuffer(r.fingerprint) ? r.fingerprint : Buffer.from(r.fingerprint),
    }));
  }

  /** How many members the run froze. Row numbers are dense, so the largest is the count (an index lookup). */
  async count(runId: string, q: Queryable = this.db): Promise<number> {
    const [row] = await this.missingAsNotFound(runId, () =>
      q.query<{ n: number | string }>(`SELECT coalesce(max(row_number), 0) AS n FROM ${this.tableSql(runId)}`),
    );
    return Number(row?.n ?? 0);
  }

  /** The staging table and the upload plan's tables derived from it (src/store/upload-plan.ts), quoted. */
  tablesSql(runId: string): { staging: string; adds: string; removes: string } {
    const base = stagingTableName(runId);
    const qualify = (name: string) =>
      this.schema === undefined ? quoteIdent(name) : `${this.schema}.${quoteIdent(name)}`;
    return { staging: qualify(base), adds: qualify(`${base}_adds`), removes: qualify(`${base}_removes`) };
  }

  /** Drops a run's staging table and its derived tables; true when there was a staging table. Idempotent. */
  async drop(runId: string): Promise<boolean> {
    const existed = await this.exists(runId);
    const tables = this.tablesSql(runId);
    await this.db.query(`DROP TABLE IF EXISTS ${tables.staging}, ${tables.adds}, ${tables.removes}`);
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
