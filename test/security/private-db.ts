import pg from 'pg';
import { randomBytes } from 'node:crypto';
import { openDb, type Db } from '../../src/store/db.js';
import { migrate } from '../../src/store/index.js';
import { testDatabaseUrl } from '../support/context.js';

/**
 * A migrated database of this test file's own on the run's PostgreSQL server: a checksum of every table then
 * sees only this file's requests, not the writes of test files running beside it.
 */
export async function openPrivateDb(prefix: string): Promise<{ db: Db; url: string; drop(): Promise<void> }> {
  const name = `${prefix}_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: testDatabaseUrl() });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(testDatabaseUrl());
  url.pathname = `/${name}`;
  const db = await openDb({ url: url.toString(), maxConnections: 4 });
  await migrate(db);
  return {
    db,
    url: url.toString(),
    async drop() {
      await db.close();
      const c = new pg.Client({ connectionString: testDatabaseUrl() });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await c.end();
    },
  };
}

/** One digest over every row of every table in the public schema but `schema_migrations`. */
export async function tableChecksum(db: Db): Promise<string> {
  const tables = await db.query<{ name: string }>(
    `SELECT quote_ident(table_name) AS name FROM information_schema.tables
     WHERE table_schema = 'public' AND table_type = 'BASE TABLE' AND table_name <> 'schema_migrations'
     ORDER BY table_name`,
  );
  const parts = tables.map(
    (t) =>
      `SELECT '${t.name}' AS t, md5(coalesce(string_agg(x::text, '|' ORDER BY x::text), '')) AS h FROM ${t.name} x`,
  );
  const [row] = await db.query<{ digest: string }>(
    `SELECT md5(string_agg(t || ':' || h, ',' ORDER BY t)) AS digest FROM (${parts.join(' UNION ALL ')}) s`,
  );
  return row!.digest;
}
