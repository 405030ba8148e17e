import type { Worker } from '@temporalio/worker';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { request } from 'undici';
import { inject } from 'vitest';
import { buildApp } from '../../src/api/app.js';
import type { Config } from '../../src/config.js';
import type { startSandbox } from '../../src/sandbox/server.js';
import type { ProfileSource } from '../../src/sources/profile-source.js';
import type { Db } from '../../src/store/db.js';
import { createExportWorker, type ExportWorkerOptions } from '../../src/worker.js';
import { auth, testConfig, testDeps } from './api-harness.js';
import { connectTemporal, uniqueTaskQueue } from './context.js';
import { API_VERSION, createExportEnv, SANDBOX_RETRY_AFTER_HEADER, type ExportEnv } from './export-env.js';

export interface ApiWorldOptions {
  /** Demo profiles seeded into the world's tables. @default 300 */
  profiles?: number;
  /** Rows per page the worker sends. @default 100 */
  pageSize?: number;
  /** Environment beside the world's own (sandbox, namespace, task queue, key) that the config is read from. */
  env?: Record<string, string>;
  /** Worker parts beside the world's own (page size, app id, no health-check waits). */
  overrides?: ExportWorkerOptions['overrides'];
  logger?: Logger;
  sandbox?: Parameters<typeof startSandbox>[0];
  /** A database of the file's own (e.g. `openSchemaDb`), for code that walks every record. */
  db?: Db;
  /** The profile source the API and the worker read (e.g. another database's). @default the world's demo tables */
  source?: ProfileSource;
}

/**
 * One test file's product in process: its demo tables and sandbox (export-env.ts), a worker on its own task queue
 * and the API over the same store, Graph client and Temporal client — what `audience-export start` runs.
 */
export interface ApiWorld {
  env: ExportEnv;
  temporal: Awaited<ReturnType<typeof connectTemporal>>;
  taskQueue: string;
  config: Config;
  app: FastifyInstance;
  /** Another worker of this world (same config and parts) polling `queue`; the caller runs and stops it. */
  startWorker: (queue: string) => Promise<Worker>;
  close(): Promise<void>;
}

export async function startApiWorld(name: string, options: ApiWorldOptions = {}): Promise<ApiWorld> {
  const env = await createExportEnv(name, options.profiles ?? 300, options.sandbox ?? {}, options.db);
  const temporal = await connectTemporal();
  const taskQueue = uniqueTaskQueue(name);
  const f = env.sandbox.fixtures;
  const config = testConfig({
    ENCRYPTION_KEY: env.encryptionKey.toString('base64'),
    FACEBOOK_GRAPH_URL: env.sandbox.url,
    FACEBOOK_DIALOG_URL: env.sandbox.url,
    FACEBOOK_API_VERSION: API_VERSION,
    FACEBOOK_APP_ID: f.appId,
    FACEBOOK_APP_SECRET: f.appSecret,
    FACEBOOK_RETRY_AFTER_HEADER: SANDBOX_RETRY_AFTER_HEADER,
    TEMPORAL_NAMESPACE: inject('temporalNamespace'),
    TEMPORAL_TASK_QUEUE: taskQueue,
    EXPORT_HEALTH_CHECK_DELAYS_MS: '',
    ...options.env,
  });
  const startWorker = (queue: string) =>
    createExportWorker({
      config,
      connection: temporal.nativeConnection,
      client: temporal.client,
      resources: env.resources,
      taskQueue: queue,
      workflowBundlePath: inject('workflowBundlePath'),
      overrides: {
        ...env.overrides(options.pageSize ?? 100),
        exportTimings: { healthCheckDelaysMs: [] },
        ...(options.source ? { source: options.source } : {}),
        ...options.overrides,
      },
    });
  const worker = await startWorker(taskQueue);
  const running = worker.run();
  const app = await buildApp(
    await testDeps({
      config,
      db: env.db,
      temporalClient: temporal.client,
      store: env.store,
      graph: env.graph,
      source: options.source ?? env.source,
      ...(options.logger ? { logger: options.logger } : {}),
    }),
  );
  return {
    env,
    temporal,
    taskQueue,
    config,
    app,
    startWorker,
    async close() {
      await app.close();
      worker.shutdown();
      await running;
      await temporal.close();
      await env.close();
    },
  };
}

export interface JsonResponse<T> {
  status: number;
  /** The content-type header. */
  type: string | undefined;
  /** The parsed body; `{}` for an empty one (204). */
  body: T;
}

/**
 * Listens on a free loopback port and returns a JSON client of the API over real HTTP, as `headers` (an admin's
 * key by default) calls it; `D` is the file's own shape of the answers it reads.
 */
export async function listenJson<D = Record<string, unknown>>(
  app: FastifyInstance,
  headers: Record<string, string> = auth,
) {
  const baseUrl = await app.listen({ port: 0, host: '127.0.0.1' });
  const send = async <T = D>(
    method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE',
    path: string,
    body?: unknown,
  ): Promise<JsonResponse<T>> => {
    const res = await request(`${baseUrl}${path}`, {
      method,
      headers: body === undefined ? headers : { ...headers, 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await res.body.text();
    const type = res.headers['content-type'];
    return {
      status: res.statusCode,
      type: typeof type === 'string' ? type : undefined,
      body: (text ? JSON.parse(text) : {}) as T,
    };
  };
  return { baseUrl, send, get: <T = D>(path: string) => send<T>('GET', path) };
}

export type JsonClient<D> = Awaited<ReturnType<typeof listenJson<D>>>;
