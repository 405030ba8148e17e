import { PGlite } from '@electric-sql/pglite';
import { join, resolve } from 'node:path';
import pg from 'pg';
import { from as copyFrom, to as copyTo } from 'pg-copy-streams';
import type { Readable, Writable } from 'node:stream';
import { ensurePrivateDir } from '../private-dir.js';

/** Anything that runs SQL: the database itself or a transaction on it. */
export interface Queryable {
  query<R extends object = Record<string, unknown>>(sql: string, params?: readonly unknown[]): Promise<R[]>;
  /** Rows as arrays in column order, with the column names: no object per row, for pages of 10,000 rows. */
  queryArrays(sql: string, params?: readonly unknown[]): Promise<ArrayRows>;
  /**
   * `COPY ... FROM STDIN` with these bytes (e.g. the binary format), the cheapest way to write many rows; undefined
   * on PGlite, where callers insert instead.
   */
  readonly copyFrom?: (sql: string, data: Buffer) => Promise<void>;
  /** In a PostgreSQL transaction: `COPY ... TO STDOUT` as a stream (a separate source's freeze reads through it). */
  readonly copyOut?: (sql: string) => Readable;
  /** In a PostgreSQL transaction: `COPY ... FROM STDIN` as a stream; it finishes when the rows are written. */
  readonly copyIn?: (sql: string) => Writable;
}

export interface ArrayRows {
  readonly fields: string[];
  readonly rows: unknown[][];
}

/**
 * One small interface over real PostgreSQL (`pg`) and embedded PostgreSQL (PGlite), so the same SQL serves
 * production and a fresh machine with nothing installed.
 */
export interface Db extends Queryable {
  readonly kind: 'postgres' | 'pglite';
  transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T>;
  /** The underlying pg pool, for COPY streams; undefined on PGlite. */
  readonly pool?: pg.Pool;
  /** The underlying PGlite instance; undefined on PostgreSQL. */
  readonly pglite?: PGlite;
  close(): Promise<void>;
}

// int8 and numeric come back as strings by default; counts here stay far below 2^53.
pg.types.setTypeParser(pg.types.builtins.INT8, (v) => Number(v));

export interface OpenDbOptions {
  /** postgres:// URL; without one, an embedded PGlite database in `dataDir`. */
  url?: string;
  dataDir?: string;
  /** Pool size for PostgreSQL. @default 10 */
  maxConnections?: number;
  applicationName?: string;
  /** PostgreSQL's statement_timeout for every connection of the pool (the API's bound on a query); unset = none. */
  statementTimeoutMs?: number;
}

export async function openDb(options: OpenDbOptions): Promise<Db> {
  if (options.url) return openPostgres({ ...options, url: options.url });
  return openPglite(resolve(options.dataDir ?? '.data'));
}

function openPostgres(options: OpenDbOptions & { url: string }): Db {
  const pool = new pg.Pool({
    connectionString: options.url,
    max: options.maxConnections ?? 10,
    application_name: options.applicationName ?? 'audience-export',
    ...(options.statementTimeoutMs ? { statement_timeout: options.statementTimeoutMs } : {}),
  });
  // An idle client losing its connection (database restart) must not crash the process; the pool replaces it.
  pool.on('error', () => undefined);
  return {
    kind: 'postgres',
    pool,
    async query<R extends object>(sql: string, params?: readonly unknown[]) {
      const result = await pool.query<R>(sql, params as unknown[] | undefined);
      return result.rows;
    },
    queryArrays: (sql, params) => pgArrays(pool, sql, params),
    async copyFrom(sql, data) {
      const client = await pool.connect();
      try {
        await pgCopyFrom(client, sql, data);
      } finally {
        client.release();
      }
    },
    async transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T> {
      const client = await pool.connect();
      // A checked-out client has no pool listener: losing its connection between two queries of the transaction
      // would emit an unhandled 'error' and end the process. Keep the error; the next query fails on its own.
      let lost: Error | undefined;
      const onError = (err: Error) => {
        lost = err;
      };
      client.on('error', onError);
      try {
        await client.query('BEGIN');
        const out = await fn({
          query: async <R extends object>(sql: string, params?: readonly unknown[]) =>
            (await client.query<R>(sql, params as unknown[] | undefined)).rows,
          queryArrays: (sql, params) => pgArrays(client, sql, params),
          copyFrom: (sql, data) => pgCopyFrom(client, sql, data),
          copyOut: (sql) => client.query(copyTo(sql)),
          copyIn: (sql) => client.query(copyFrom(sql)),
        });
        await client.query('COMMIT');
        return out;
      } catch (err) {
        await client.query('ROLLBACK').catch(() => undefined);
        throw err;
      } finally {
        client.off('error', onError);
        // A client whose connection was lost is discarded rather than handed out again.
        client.release(lost);
      }
    },
    close: () => pool.end(),
  };
}

async function pgArrays(q: pg.Pool | pg.PoolClient, sql: string, params?: readonly unknown[]): Promise<ArrayRows> {
  const result = await q.query<unknown[]>({ text: sql, values: params as unknown[] | undefined, rowMode: 'array' });
  return { fields: result.fields.map((f) => f.name), rows: result.rows };
}

async function pgCopyFrom(client: pg.PoolClient, sql: string, data: Buffer): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const stream = client.query(copyFrom(sql));
    stream.on('finish', resolve);
    stream.on('error', reject);
    stream.end(data);
  });
}

interface PgliteLike {
  query<R>(
    sql: string,
    params?: unknown[],
    options?: { rowMode?: 'array' },
  ): Promise<{ rows: R[]; fields: Array<{ name: string }> }>;
  exec(sql: string): Promise<Array<{ rows: unknown[] }>>;
}

/** PGlite's query() takes one statement; exec() takes a script without parameters. */
function pgliteQueryable(target: PgliteLike): Queryable {
  return {
    async query<R extends object>(sql: string, params?: readonly unknown[]) {
      if (!params?.length && sql.includes(';')) {
        const results = await target.exec(sql);
        return (results.at(-1)?.rows ?? []) as R[];
      }
      return (await target.query<R>(sql, params as unknown[] | undefined)).rows;
    },
    async queryArrays(sql, params) {
      const result = await target.query<unknown[]>(sql, params as unknown[] | undefined, { rowMode: 'array' });
      return { fields: result.fields.map((f) => f.name), rows: result.rows };
    },
  };
}

async function openPglite(dataDir: string): Promise<Db> {
  await ensurePrivateDir(dataDir);
  const db = await PGlite.create(join(dataDir, 'pglite'));
  return {
    kind: 'pglite',
    pglite: db,
    query: (sql, params) => pgliteQueryable(db).query(sql, params),
    queryArrays: (sql, params) => pgliteQueryable(db).queryArrays(sql, params),
    transaction: <T>(fn: (tx: Queryable) => Promise<T>): Promise<T> => db.transaction((tx) => fn(pgliteQueryable(tx))),
    close: () => db.close(),
  };
}
