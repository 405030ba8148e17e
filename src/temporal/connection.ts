import { Client, Connection } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import type { Config } from '../config.js';

/** Where and how to reach Temporal: the config's `temporal` section (address, namespace, TLS, API key). */
export type TemporalSettings = Pick<Config['temporal'], 'address' | 'namespace' | 'connection'>;

export interface TemporalClient {
  client: Client;
  close(): Promise<void>;
}

function options(t: TemporalSettings) {
  const { apiKey, tls, metadata } = t.connection;
  return {
    address: t.address,
    ...(tls != null ? { tls } : {}),
    ...(apiKey ? { apiKey } : {}),
    ...(metadata ? { metadata } : {}),
  };
}

/**
 * The one place every process (api, worker, start, demo, cluster) opens a Temporal client connection, so TLS,
 * mutual TLS and API keys apply everywhere alike.
 */
export async function connectClient(
  t: TemporalSettings,
  extra: { connectTimeout?: number } = {},
): Promise<TemporalClient> {
  const connection = await Connection.connect({ ...options(t), ...extra });
  return { client: new Client({ connection, namespace: t.namespace }), close: () => connection.close() };
}

/** A client that connects on first use: the API starts (and /health says Temporal is down) while Temporal starts. */
export function lazyClient(t: TemporalSettings): TemporalClient {
  const connection = Connection.lazy(options(t));
  return { client: new Client({ connection, namespace: t.namespace }), close: () => connection.close() };
}

/** The worker's connection (the SDK's native one), with the same settings as the clients. */
export function connectWorker(t: TemporalSettings): Promise<NativeConnection> {
  return NativeConnection.connect(options(t));
}
