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
