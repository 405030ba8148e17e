import type { Worker } from '@temporalio/worker';
import type { FastifyInstance } from 'fastify';
import { inject } from 'vitest';
import { pino, type Logger } from 'pino';
import { Writable } from 'node:stream';
import { createExportWorker } from '../../src/worker.js';
import { loadConfig } from '../../src/config.js';
import { testConfig, testDeps, API_KEY, auth } from '../support/api-harness.js';
import { buildApp } from '../../src/api/app.js';
import { connectTemporal, uniqueTaskQueue } from '../support/context.js';
import { createExportEnv, API_VERSION, SANDBOX_RETRY_AFTER_HEADER, type ExportEnv } from '../support/export-env.js';
import type { startSandbox } from '../../src/sandbox/server.js';
import type { Db } from '../../src/store/db.js';

export { API_KEY, auth };

/**
 * A debug-level logger whose lines land in `lines`. It has no redaction on purpose: the scan then proves the code
 * logs no secret or personal value at all, not that src/logger.ts's safety net caught it.
 */
export function capturingLogger(lines: string[], name: string): Logger {
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      lines.push(chunk.toString('utf8'));
      done();
    },
  });
  return pino({ name, level: 'debug' }, sink);
}

/**
 * One test file's full stack in process: its demo tables, the sandbox, a worker on its own task queue, and the
 * API over the same store, Graph client and Temporal client.
 */
export interface SecurityStack {
  env: ExportEnv;
  temporal: Awaited<ReturnType<typeof connectTemporal>>;
  taskQueue: string;
  app: FastifyInstance;
  close(): Promise<void>;
}

export async function startSecurityStack(
  name: string,
  options: {
    profiles?: number;
    logger?: Logger;
    sandbox?: Parameters<typeof startSandbox>[0];
    /** A database of the file's own (e.g. `openSchemaDb`): erasures list people for every export of a database. */
    db?: Db;
  } = {},
): Promise<SecurityStack> {
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
  });
  const worker: Worker = await createExportWorker({
    config: loadConfig({ TEMPORAL_NAMESPACE: inject('temporalNamespace'), TEMPORAL_TASK_QUEUE: taskQueue }),
    connection: temporal.nativeConnection,
    client: temporal.client,
    resources: env.resources,
    overrides: env.overrides(100),
    taskQueue,
    workflowBundlePath: inject('workflowBundlePath'),
  });
  const running = worker.run();
  const deps = await testDeps({
    config,
    db: env.db,
    temporalClient: temporal.client,
    store: env.store,
    graph: env.graph,
    source: env.source,
    ...(options.logger ? { logger: options.logger } : {}),
  });
  const app = await buildApp(deps);
  return {
    env,
    temporal,
    taskQueue,
    app,
    async close() {
      await app.close();
      worker.shutdown();
      await running;
      await temporal.close();
      await env.close();
    },
  };
}
