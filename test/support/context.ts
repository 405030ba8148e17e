import { Client, Connection } from '@temporalio/client';
import { NativeConnection, Runtime, DefaultLogger } from '@temporalio/worker';
import { randomUUID } from 'node:crypto';
import { inject } from 'vitest';
import { openDb, type Db } from '../../src/store/db.js';

let runtimeInstalled = false;
/** Quietens the worker runtime once per test process (it must precede any worker or connection). */
export function installQuietRuntime(): void {
  if (runtimeInstalled) return;
  runtimeInstalled = true;
  try {
    Runtime.install({ logger: new DefaultLogger('WARN') });
  } catch {
    // already installed by another helper in this process
  }
}

/** A client and a native (worker) connection to this test run's dev server. */
export async function connectTemporal(): Promise<{
  client: Client;
  nativeConnection: NativeConnection;
  namespace: string;
  close(): Promise<void>;
}> {
  installQuietRuntime();
  const address = inject('temporalAddress');
  const namespace = inject('temporalNamespace');
  const connection = await Connection.connect({ address });
  const nativeConnection = await NativeConnection.connect({ address });
  return {
    client: new Client({ connection, namespace }),
    nativeConnection,
    namespace,
    async close() {
      await nativeConnection.close();
      await connection.close();
    },
  };
}

/** This test run's own PostgreSQL database (created by the global setup). */
export function testDatabaseUrl(): string {
  return inject('databaseUrl');
}

export function openTestDb(): Promise<Db> {
  return openDb({ url: testDatabaseUrl(), maxConnections: 4 });
}

export const uniqueTaskQueue = (prefix = 'test'): string => `${prefix}-${randomUUID()}`;

/**
 * A migrated schema of its own in this run's database, for tests of code that walks every record (the daily check,
 * the run reconciler, /metrics): other test files' rows stay out of sight. Dropped and made afresh each time.
 */
export async function openSchemaDb(schema: string): Promise<Db> {
  if (!/^[a-z_][a-z0-9_]*$/.test(schema)) throw new Error(`not a plain schema name: ${schema}`);
  const admin = await openTestDb();
  await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  await admin.query(`CREATE SCHEMA ${schema}`);
  await admin.close();
  return openDb({ url: schemaDatabaseUrl(schema), maxConnections: 4 });
}

/** The URL of this run's database with `schema` as its search path: what a child process of `openSchemaDb`'s world uses. */
export function schemaDatabaseUrl(schema: string): string {
  const url = new URL(testDatabaseUrl());
  url.searchParams.set('options', `-c search_path=${schema}`);
  return url.toString();
}
