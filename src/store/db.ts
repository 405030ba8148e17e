import { PGlite } from '@electric-sql/pglite';
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import pg from 'pg';

/** Anything that runs SQL: the database itself or a transaction on it. */
export interface Queryable {
  query<R extends object = Record<string, unknown>>(sql: string, params?: readonly unknown[]): Promise<R[]>;
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
}

export async function openDb(options: OpenDbOptions): Promise<Db> {
  if (options.url) return openPostgres(options.url, options.maxConnections ?? 10, options.applicationName);
  return openPglite(resolve(options.dataDir ?? '.data'));
}

function openPostgres(url: string, max: number, applicationName = 'audience-export'): Db {
  const pool = new pg.Pool({ connectionString: url, max, application_name: applicationName });
  // An idle client losing its connection (database restart) must not crash the process; the pool replaces it.
  pool.on('error', () => undefined);
  return {
    kind: 'postgres',
    pool,
    async query<R extends object>(sql: string, params?: readonly unknown[]) {
      const result = await pool.query<R>(sql, params as unknown[] | undefined);
      return result.rows;
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

interface PgliteLike {
  query<R>(sql: string, params?: unknown[]): Promise<{ rows: R[] }>;
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
  };
}

async function openPglite(dataDir: string): Promise<Db> {
  mkdirSync(dataDir, { recursive: true });
  const db = await PGlite.create(join(dataDir, 'pglite'));
  return {
    kind: 'pglite',
    pglite: db,
    query: (sql, params) => pgliteQueryable(db).query(sql, params),
    transaction: <T>(fn: (tx: Queryable) => Promise<T>): Promise<T> => db.transaction((tx) => fn(pgliteQueryable(tx))),
    close: () => db.close(),
  };
}
