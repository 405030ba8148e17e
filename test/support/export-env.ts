import type { Worker } from '@temporalio/worker';
import { randomBytes, randomUUID } from 'node:crypto';
import { inject } from 'vitest';
import { loadConfig, type Config } from '../../src/config.js';
import { createGraphClient, type GraphClient } from '../../src/facebook/index.js';
import { defaultSandboxConfig } from '../../src/sandbox/config.js';
import { startSandbox, type Sandbox } from '../../src/sandbox/server.js';
import { DEMO_MAPPING } from '../../src/demo/demo-profiles.js';
import { demoSourceConfig, seedDemoProfiles } from '../../src/demo/demo-seed.js';
import { createProfileSource, type ProfileSource } from '../../src/sources/profile-source.js';
import type { ProfileSourceConfig } from '../../src/sources/profile-source-config.js';
import type { Db } from '../../src/store/db.js';
import { createStore, migrate, type Destination, type ExportConfigInput, type Store } from '../../src/store/index.js';
import type { ExportTarget } from '../../src/temporal/start-export.js';
import type { ActivityResources } from '../../src/resources.js';
import { createExportWorker, type ExportWorkerOptions } from '../../src/worker.js';
import { connectTemporal, openTestDb, testDatabaseUrl, uniqueTaskQueue } from './context.js';

export const API_VERSION = 'v26.0';
export const SANDBOX_RETRY_AFTER_HEADER = 'x-sandbox-retry-after-ms';

/** One test file's world: its own demo tables, a sandbox, a store, and helpers to set up destinations. */
export interface ExportEnv {
  db: Db;
  store: Store;
  sandbox: Sandbox;
  graph: GraphClient;
  source: ProfileSource;
  sourceConfig: ProfileSourceConfig;
  encryptionKey: Buffer;
  tables: { profilesTable: string; membersTable: string };
  /** What a worker's activities run on in this world: its store, profile source and sandbox Graph client. */
  resources: ActivityResources;
  /** This world's activity settings for `createExportWorker`: a page size, no profile limit in reach, the app id. */
  overrides(pageSize?: number): WorkerOverrides;
  /** Environment for a worker child process pointed at this world. */
  childEnv(extra?: Record<string, string>): NodeJS.ProcessEnv;
  close(): Promise<void>;
}

export async function createExportEnv(
  name: string,
  profiles: number,
  sandboxConfig: Parameters<typeof startSandbox>[0] = {},
  /** A database of the test's own (e.g. `openSchemaDb`); closed with the env. @default the run's shared database */
  ownDb?: Db,
): Promise<ExportEnv> {
  const db = ownDb ?? (await openTestDb());
  await migrate(db);
  const tables = { profilesTable: `${name}_profiles`, membersTable: `${name}_members` };
  await seedDemoProfiles(db, { ...tables, profiles, seed: 7 });
  const sourceConfig = demoSourceConfig(tables);
  const source = await createProfileSource(db, sourceConfig);
  // Ad account ids of their own: the store's rate-limit blocks are per ad account, and test files share a database.
  const adAccounts = defaultSandboxConfig().adAccounts.map((a, i) => ({ ...a, id: uniqueAccountId(i) }));
  const sandbox = await startSandbox({
    port: 0,
    ...sandboxConfig,
    config: { adAccounts, ...sandboxConfig.config },
  });
  const graph = createGraphClient({
    graphUrl: sandbox.url,
    dialogUrl: sandbox.url,
    apiVersion: API_VERSION,
    appId: sandbox.fixtures.appId,
    appSecret: sandbox.fixtures.appSecret,
    retryAfterHeader: SANDBOX_RETRY_AFTER_HEADER,
  });
  const encryptionKey = randomBytes(32);
  const store = createStore(db, { encryptionKey });
  return {
    db,
    store,
    sandbox,
    graph,
    source,
    sourceConfig,
    encryptionKey,
    tables,
    resources: { store, source, graph },
    overrides: (pageSize = 2_000) => ({
      limits: { maxProfiles: 10_000_000, pageSize },
      facebookAppId: sandbox.fixtures.appId,
    }),
    childEnv: (extra = {}) => ({
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      DATABASE_URL: testDatabaseUrl(),
      TEMPORAL_ADDRESS: inject('temporalAddress'),
      TEMPORAL_NAMESPACE: inject('temporalNamespace'),
      FACEBOOK_GRAPH_URL: sandbox.url,
      FACEBOOK_DIALOG_URL: sandbox.url,
      FACEBOOK_API_VERSION: API_VERSION,
      FACEBOOK_APP_ID: sandbox.fixtures.appId,
      FACEBOOK_APP_SECRET: sandbox.fixtures.appSecret,
      FACEBOOK_RETRY_AFTER_HEADER: SANDBOX_RETRY_AFTER_HEADER,
      ENCRYPTION_KEY: encryptionKey.toString('base64'),
      PROFILE_SOURCE: JSON.stringify(sourceConfig),
      LOG_LEVEL: 'warn',
      ...extra,
    }),
    async close() {
      await graph.close();
      await sandbox.close();
      await db.close();
    },
  };
}

function uniqueAccountId(index: number): string {
  return `1${String(Math.floor(Math.random() * 1e12)).padStart(12, '0')}${index}`;
}

export interface DestinationSetup {
  token?: string;
  consent?: boolean;
  config?: Partial<ExportConfigInput>;
  /** Create the audience in the sandbox first (else the destination asks for a new one). */
  existingAudience?: boolean;
  /** @default the sandbox's first ad account with the terms accepted */
  adAccountId?: string;
}

/** A destination on the sandbox's ad account with a token, consent and an export config (Email key + extras). */
export async function createDestination(env: ExportEnv, setup: DestinationSetup = {}): Promise<Destination> {
  const f = env.sandbox.fixtures;
  const token = setup.token ?? f.systemUserToken;
  const adAccountId = setup.adAccountId ?? f.adAccountId;
  let audienceId: string | undefined;
  if (setup.existingAudience) {
    audienceId = (
      await env.graph.createAudience(
        adAccountId,
        { name: `test ${randomUUID().slice(0, 8)}` },
        { token: f.systemUserToken },
      )
    ).id;
  }
  const destination = await env.store.destinations.create({
    displayName: `Test destination ${randomUUID().slice(0, 8)}`,
    facebookAppId: f.appId,
    adAccountId,
    audienceId: audienceId ?? null,
    newAudienceName: audienceId ? null : `Test audience ${randomUUID().slice(0, 8)}`,
  });
  await env.store.credentials.save(destination.id, { kind: 'system_user', token });
  if (setup.consent !== false) {
    await env.store.consents.record(destination.id, { givenBy: 'operator@example.test', statementVersion: '2026-01' });
  }
  await env.store.exportConfigs.put(destination.id, {
    keyIdentifier: 'EMAIL',
    mapping: DEMO_MAPPING,
    segments: ['all'],
    mode: 'add',
    defaultCountry: 'US',
    ...setup.config,
  });
  return destination;
}

export function targetOf(destination: Destination, segments: string[], mode: ExportTarget['mode']): ExportTarget {
  return {
    destinationId: destination.id,
    destinationName: destination.displayName,
    adAccountId: destination.adAccountId!,
    audienceId: destination.audienceId ?? undefined,
    audienceName: destination.newAudienceName ?? destination.audienceId ?? '?',
    segments,
    mode,
  };
}

type WorkerOverrides = NonNullable<ExportWorkerOptions['overrides']>;

export async function inProcessWorker(
  env: ExportEnv,
  temporal: Pick<Temporal, 'client' | 'nativeConnection'>,
  taskQueue: string,
  pageSize = 2_000,
  overrides: WorkerOverrides = {},
): Promise<Worker> {
  const config: Config = loadConfig({
    TEMPORAL_NAMESPACE: inject('temporalNamespace'),
    TEMPORAL_TASK_QUEUE: taskQueue,
  });
  return createExportWorker({
    config,
    connection: temporal.nativeConnection,
    client: temporal.client,
    resources: env.resources,
    overrides: { ...env.overrides(pageSize), ...overrides },
    taskQueue,
    workflowBundlePath: inject('workflowBundlePath'),
  });
}

/** A test file's export world with one in-process worker polling its own task queue; `stop` tears it all down. */
export async function startExportWorld(
  name: string,
  profiles: number,
  pageSize?: number,
): Promise<{ env: ExportEnv; temporal: Temporal; taskQueue: string; stop: () => Promise<void> }> {
  const env = await createExportEnv(name, profiles);
  const temporal = await connectTemporal();
  const taskQueue = uniqueTaskQueue(name);
  const worker = await inProcessWorker(env, temporal, taskQueue, pageSize);
  const running = worker.run();
  return {
    env,
    temporal,
    taskQueue,
    stop: async () => {
      worker.shutdown();
      await running;
      await temporal.close();
      await env.close();
    },
  };
}

type Temporal = Awaited<ReturnType<typeof connectTemporal>>;
