import pg from 'pg';
import { randomBytes } from 'node:crypto';
import { openDb, type Db } from '../../src/store/db.js';
import { testDatabaseUrl } from './context.js';

/**
 * A profile source in a database of its own on the run's PostgreSQL server, as production has it: owned by another
 * role (which loads the profiles), read by a reader role that may only SELECT — no CREATE on its schema, no
 * temporary tables — as deploy/postgres-roles.sh sets up `audience_export_reader`.
 */
export interface SourceDatabase {
  /** The database's name. */
  name: string;
  /** The owner's connection: load and change profiles here. */
  owner: Db;
  /** postgres:// URL of the reader role on this database (SOURCE_DATABASE_URL). */
  readerUrl: string;
  /** Opens a pool as the reader role. */
  openReader(): Promise<Db>;
  /** Grants the reader SELECT on every table now in the database (after loading). */
  grantReads(): Promise<void>;
  drop(): Promise<void>;
}

export async function createSourceDatabase(prefix: string): Promise<SourceDatabase> {
  const suffix = randomBytes(4).toString('hex');
  const name = `${prefix}_${suffix}`;
  const ownerRole = `${prefix}_owner_${suffix}`;
  const readerRole = `${prefix}_reader_${suffix}`;
  const admin = async (sql: string[], database?: string) => {
    const url = new URL(testDatabaseUrl());
    if (database) url.pathname = `/${database}`;
    const c = new pg.Client({ connectionString: url.toString() });
    await c.connect();
    try {
      for (const s of sql) await c.query(s);
    } finally {
      await c.end();
    }
  };
  await admin([
    `CREATE ROLE ${ownerRole} LOGIN NOSUPERUSER`,
    `CREATE ROLE ${readerRole} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE`,
    `CREATE DATABASE ${name} OWNER ${ownerRole}`,
    `REVOKE ALL ON DATABASE ${name} FROM PUBLIC`,
    `GRANT CONNECT ON DATABASE ${name} TO ${ownerRole}, ${readerRole}`,
  ]);
  await admin(
    [
      'REVOKE CREATE ON SCHEMA public FROM PUBLIC',
      `ALTER SCHEMA public OWNER TO ${ownerRole}`,
      `GRANT USAGE ON SCHEMA public TO ${readerRole}`,
    ],
    name,
  );
  const urlOf = (role: string) => {
    const url = new URL(testDatabaseUrl());
    url.pathname = `/${name}`;
    url.username = role;
    url.password = '';
    return url.toString();
  };
  const owner = await openDb({ url: urlOf(ownerRole), maxConnections: 4 });
  return {
    name,
    owner,
    readerUrl: urlOf(readerRole),
    openReader: () => openDb({ url: urlOf(readerRole), maxConnections: 4 }),
    async grantReads() {
      await owner.query(`GRANT SELECT ON ALL TABLES IN SCHEMA public TO ${readerRole}`);
    },
    async drop() {
      await owner.close();
      await admin([
        `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`,
        `DROP ROLE IF EXISTS ${readerRole}`,
        `DROP ROLE IF EXISTS ${ownerRole}`,
      ]);
    },
  };
}
