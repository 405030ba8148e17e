import type { Client } from '@temporalio/client';
import { DefaultLogger, Runtime, type Worker } from '@temporalio/worker';
import { join, resolve } from 'node:path';
import { startApiServer, type ApiServer } from '../api/server.js';
import type { Config } from '../config.js';
import { createLogger } from '../logger.js';
import { freePort, portIsFree } from '../ports.js';
import { startSandbox, type Sandbox } from '../sandbox/server.js';
import { openResources, type Resources } from '../resources.js';
import { migrate, openDb, type Db } from '../store/index.js';
import { ensureTemporalCli } from '../temporal/cli-binary.js';
import { connectClient, connectWorker } from '../temporal/connection.js';
import { startDevServer, type DevServer } from '../temporal/dev-server.js';
import { createExportWorker, ensureHousekeepingSchedule } from '../worker.js';
import { loadOrCreateLocalSecrets } from './local-secrets.js';

export interface LocalStackOptions {
  /** The environment the config came from: decides what was given and what to provide. @default process.env */
  env?: NodeJS.ProcessEnv;
  /** Serve the API on a free port unless API_PORT is set (the demo must not collide with a running `start`). */
  freeApiPort?: boolean;
  /** Runs on the opened database before the resources read it (the demo seeds its tables here). */
  prepareDb?: (db: Db) => Promise<void>;
  /** The API's log level. @default config.logLevel */
  logLevel?: Config['logLevel'];
  /** Progress lines while starting and stopping. @default stderr */
  log?: (line: string) => void;
}

/** One machine's whole product: Temporal (dev server or given), sandbox or Facebook, database, worker and API. */
export interface LocalStack {
  /** The config everything runs with (Graph URL of the sandbox, generated secrets, the dev server's address). */
  config: Config;
  apiUrl: string;
  apiKey: string;
  temporalAddress: string;
  /** Where the Temporal UI is, when known. */
  temporalUiUrl?: string;
  /** Present when no Facebook app is configured. */
  sandbox?: Sandbox;
  resources: Resources;
  client: Client;
  /** Settles when the worker stops (rejects when it failed). */
  workerDone: Promise<void>;
  /** The Temporal UI page of one workflow run. */
  runUrl(workflowId: string, temporalRunId?: string): string | undefined;
  /** The Temporal UI page of a schedule. */
  scheduleUrl(scheduleId: string): string | undefined;
  /** Stops everything that was started, in reverse order; safe to call twice. */
  stop(): Promise<void>;
}

export const DEFAULT_UI_PORT = 8233;
export const SANDBOX_STATE_FILE = 'sandbox-state.bin';
export const TEMPORAL_DB_FILE = 'temporal.db';

let runtimeInstalled = false;
/** Worker runtime logs at WARN: the demo's output is its progress bar and report. Must precede any connection. */
function installRuntime(): void {
  if (runtimeInstalled) return;
  runtimeInstalled = true;
  try {
    Runtime.install({ logger: new DefaultLogger('WARN') });
  } catch {
    // Already installed in this process (tests); its settings stand.
  }
}

async function uiPortOf(env: NodeJS.ProcessEnv): Promise<number> {
  if (env.TEMPORAL_UI_URL) {
    const url = new URL(env.TEMPORAL_UI_URL);
    return Number(url.port || (url.protocol === 'https:' ? 443 : 80));
  }
  return (await portIsFree(DEFAULT_UI_PORT)) ? DEFAULT_UI_PORT : freePort();
}

/**
 * Starts everything `audience-export start` and `demo` need in this process tree. Parts start in dependency
 * order; a failure stops what already started and rethrows.
 */
export async function startLocalStack(baseConfig: Config, options: LocalStackOptions = {}): Promise<LocalStack> {
  const env = options.env ?? process.env;
  const log = options.log ?? ((line: string) => console.error(line));
  const closers: { name: string; close: () => Promise<void> }[] = [];
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    for (const { name, close } of closers.reverse()) {
      try {
        await close();
      } catch (err) {
        log(`[stop] ${name} did not stop cleanly: ${err instanceof Error ? err.message : String(err)}`);
      }
    }
  };

  try {
    installRuntime();
    const dataDir = resolve(baseConfig.database.dataDir);
    const secrets = await loadOrCreateLocalSecrets(dataDir);
    let config: Config = {
      ...baseConfig,
      encryptionKey: baseConfig.encryptionKey ?? Buffer.from(secrets.encryptionKey, 'base64'),
      api: {
        ...baseConfig.api,
        keys:
          baseConfig.api.keys.length > 0
            ? baseConfig.api.keys
            : [{ name: 'local', role: 'admin', secret: secrets.apiKey }],
      },
    };

    let sandbox: Sandbox | undefined;
    if (!config.facebook.appId) {
      sandbox = await startSandbox({ port: 0, statePath: join(dataDir, SANDBOX_STATE_FILE) });
      closers.push({ name: 'sandbox', close: () => sandbox!.close() });
      const f = sandbox.fixtures;
      config = {
        ...config,
        facebook: {
          ...config.facebook,
          // The sandbox names how long a throttle lasts; Meta does not, so this is for the sandbox only.
          retryAfterHeader: config.facebook.retryAfterHeader ?? 'x-sandbox-retry-after-ms',
          graphUrl: sandbox.url,
          dialogUrl: sandbox.url,
          appId: f.appId,
          appSecret: f.appSecret,
        },
      };
      log(`[sandbox] Graph API sandbox at ${sandbox.url} (no FACEBOOK_APP_ID configured)`);
    }

    if (options.freeApiPort && !env.API_PORT) config = { ...config, api: { ...config.api, port: 0 } };
    if (config.api.port === 0) {
      const port = await freePort(config.api.host);
      const publicUrl = env.PUBLIC_URL ? config.api.publicUrl : `http://${config.api.host}:${port}`;
      config = { ...config, api: { ...config.api, port, publicUrl } };
    }

    // One Db for API and worker: the embedded PostgreSQL lives in this process only.
    const db = await openDb({ url: config.database.url, dataDir: config.database.dataDir });
    closers.push({ name: 'database', close: () => db.close() });
    await migrate(db);
    await options.prepareDb?.(db);
    const resources = await openResources(config, { db });
    closers.push({ name: 'resources', close: () => resources.close() });

    // After the database and the profile source: a DATA_DIR without profiles fails before Temporal starts.
    let devServer: DevServer | undefined;
    if (!env.TEMPORAL_ADDRESS) {
      const uiPort = await uiPortOf(env);
      log('[temporal] starting the Temporal dev server');
      devServer = await startDevServer({
        cliPath: ensureTemporalCli(log),
        namespace: config.temporal.namespace,
        dbFilename: join(dataDir, TEMPORAL_DB_FILE),
        uiPort,
      });
      closers.push({ name: 'Temporal dev server', close: () => devServer!.stop() });
      config = {
        ...config,
        temporal: {
          ...config.temporal,
          address: devServer.address,
          uiUrl: devServer.uiUrl ?? config.temporal.uiUrl,
          // Our own dev server on loopback speaks plaintext: TEMPORAL_TLS* / an API key are for a given server only.
          connection: {},
        },
      };
    }

    const temporal = await connectClient(config.temporal);
    closers.push({ name: 'Temporal client', close: () => temporal.close() });
    const client = temporal.client;

    const logger = createLogger(options.logLevel ?? config.logLevel, 'audience-export');
    // On PostgreSQL the API opens its own pool, with its statement_timeout; the embedded database has one connection.
    const api: ApiServer = await startApiServer(config, {
      ...(db.kind === 'pglite' ? { resources } : {}),
      temporalClient: client,
      logger,
    });
    closers.push({ name: 'API', close: () => api.close() });

    log('[worker] bundling workflows and starting the worker');
    const nativeConnection = await connectWorker(config.temporal);
    closers.push({ name: 'worker connection', close: () => nativeConnection.close() });
    const worker: Worker = await createExportWorker({
      config,
      connection: nativeConnection,
      client,
      resources,
    });
    const workerDone = worker.run();
    closers.push({
      name: 'worker',
      close: async () => {
        if (worker.getState() === 'RUNNING') worker.shutdown();
        await workerDone;
      },
    });
    // Surfaced through workerDone; this only keeps an early failure from being an unhandled rejection.
    workerDone.catch(() => undefined);
    await ensureHousekeepingSchedule(client, config.temporal.taskQueue, log);

    const uiUrl = devServer ? devServer.uiUrl : env.TEMPORAL_UI_URL ? config.temporal.uiUrl : undefined;
    return {
      config,
      apiUrl: api.url,
      // The demo sets up a destination, so it needs an admin key when API_KEYS names several.
      apiKey: (config.api.keys.find((k) => k.role === 'admin') ?? config.api.keys[0]!).secret,
      temporalAddress: config.temporal.address,
      temporalUiUrl: uiUrl,
      sandbox,
      resources,
      client,
      workerDone,
      runUrl: (workflowId, temporalRunId) =>
        uiUrl
          ? `${uiUrl}/namespaces/${encodeURIComponent(config.temporal.namespace)}/workflows/` +
            `${encodeURIComponent(workflowId)}${temporalRunId ? `/${temporalRunId}` : ''}/history`
          : undefined,
      scheduleUrl: (scheduleId) =>
        uiUrl
          ? `${uiUrl}/namespaces/${encodeURIComponent(config.temporal.namespace)}/schedules/${encodeURIComponent(scheduleId)}`
          : undefined,
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}
