import type { Client } from '@temporalio/client';
import { readFile } from 'node:fs/promises';
import type { ActivityDeps } from './activities/deps.js';
import type { Config } from './config.js';
import { createGraphClient, type GraphClient } from './facebook/index.js';
import { DEMO_SOURCE_CONFIG } from './demo/demo-seed.js';
import { createProfileSource, type ProfileSource } from './sources/profile-source.js';
import type { ProfileSourceConfig } from './sources/profile-source-config.js';
import { createStore, migrate, openDb, type Db, type Store } from './store/index.js';
import { RowBuilderPool } from './row-builder/pool.js';

/** The long-lived parts every process (worker, API, demo) builds from config, and one way to close them. */
export interface Resources {
  db: Db;
  sourceDb: Db;
  store: Store;
  source: ProfileSource;
  graph: GraphClient;
  /** Threads for normalising and hashing large pages: started on first use, ended by `close`. */
  rowBuilder: RowBuilderPool;
  close(): Promise<void>;
}

export interface ResourceOverrides {
  /** Use this database instead of opening one (the embedded database lives in one process). */
  db?: Db;
  graph?: GraphClient;
  /** statement_timeout of the databases opened here (PostgreSQL only): the API bounds its queries. */
  statementTimeoutMs?: number;
}

export async function openResources(config: Config, overrides: ResourceOverrides = {}): Promise<Resources> {
  const { statementTimeoutMs } = overrides;
  const db =
    overrides.db ?? (await openDb({ url: config.database.url, dataDir: config.database.dataDir, statementTimeoutMs }));
  await migrate(db);
  const separateSource = config.database.sourceUrl && config.database.sourceUrl !== config.database.url;
  const sourceDb = separateSource ? await openDb({ url: config.database.sourceUrl, statementTimeoutMs }) : db;
  // Staging tables are always ours: with a separate source, a freeze streams the segment from it (read only).
  const source = await createProfileSource(sourceDb, await profileSourceConfig(config), { stagingDb: db });
  const graph =
    overrides.graph ??
    createGraphClient({
      graphUrl: config.facebook.graphUrl,
      dialogUrl: config.facebook.dialogUrl,
      apiVersion: config.facebook.apiVersion,
      appId: config.facebook.appId,
      appSecret: config.facebook.appSecret,
      timeoutMs: config.facebook.timeoutMs,
      retryAfterHeader: config.facebook.retryAfterHeader,
    });
  const rowBuilder = new RowBuilderPool({ threads: config.worker.hashThreads });
  return {
    db,
    sourceDb,
    store: createStore(db, storeOptions(config)),
    source,
    graph,
    rowBuilder,
    async close() {
      await rowBuilder.close();
      if (!overrides.graph) await graph.close();
      if (sourceDb !== db) await sourceDb.close();
      if (!overrides.db) await db.close();
    },
  };
}

/** What activities run on: the parts `openResources` opens (a test passes its own world's). */
export type ActivityResources = Pick<Resources, 'store' | 'source' | 'graph'> & Partial<Pick<Resources, 'rowBuilder'>>;

/** How activities reach Temporal: a client on the worker's namespace and the task queue the worker polls. */
export interface ActivityTemporal {
  client: Client;
  taskQueue: string;
}

/**
 * The one place activity dependencies are assembled, for every way a worker runs (`worker`, `start`, `demo`, the
 * tests, through `createExportWorker`): what one way forgot, every way would lack.
 */
export function activityDeps(resources: ActivityResources, config: Config, temporal: ActivityTemporal): ActivityDeps {
  return {
    store: resources.store,
    source: resources.source,
    graph: resources.graph,
    temporalClient: temporal.client,
    taskQueue: temporal.taskQueue,
    ...(resources.rowBuilder ? { rowBuilder: resources.rowBuilder } : {}),
    limits: { maxProfiles: config.export.maxProfiles, pageSize: config.export.pageSize },
    facebookAppId: config.facebook.appId,
    webhook: config.webhook,
    pageConcurrency: config.export.pageConcurrency,
    exportTimeoutMs: config.export.timeoutMs,
    ...(config.worker.healthCheckDelaysMs
      ? { exportTimings: { healthCheckDelaysMs: config.worker.healthCheckDelaysMs } }
      : {}),
  };
}

/** The token keys of the config: the current one seals, earlier ones (ENCRYPTION_PREVIOUS_KEYS) are only read. */
export const storeOptions = (config: Config) => ({
  encryptionKey: config.encryptionKey,
  keyVersion: config.encryptionKeyVersion,
  previousKeys: config.previousEncryptionKeys,
});

/** PROFILE_SOURCE as inline JSON or a file path; the demo tables when unset. */
async function profileSourceConfig(config: Config): Promise<ProfileSourceConfig> {
  const raw = config.database.profileSource;
  if (!raw) return DEMO_SOURCE_CONFIG;
  const text = raw.trim().startsWith('{') ? raw : await readFile(raw, 'utf8');
  return JSON.parse(text) as ProfileSourceConfig;
}
