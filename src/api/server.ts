import type { Client } from '@temporalio/client';
import type { FastifyInstance } from 'fastify';
import type { Config } from '../config.js';
import { createLogger, type Logger } from '../logger.js';
import { openResources, type Resources } from '../resources.js';
import { lazyClient } from '../temporal/connection.js';
import type { ReconcileSummary } from '../temporal/reconcile-runs.js';
import { buildApp } from './app.js';
import type { ApiDeps } from './deps.js';
import { reconcileRecords } from './services/run-records.js';

export interface ApiServer {
  app: FastifyInstance;
  /** e.g. `http://127.0.0.1:8080` */
  url: string;
  /** Settles once the start-up reconciliation of run records is over (undefined when Temporal did not answer). */
  reconciled: Promise<ReconcileSummary | undefined>;
  /** What the API runs on: its own (with the statement timeout) unless given `resources`. */
  resources: Resources;
  close(): Promise<void>;
}

export interface ApiServerOptions {
  /** Already-open resources (`audience-export start` shares one embedded database with the worker). */
  resources?: Resources;
  temporalClient?: Client;
  logger?: Logger;
}

/** The one place the API listens: opens what it needs, builds the app and serves it on the configured address. */
export async function startApiServer(config: Config, options: ApiServerOptions = {}): Promise<ApiServer> {
  const logger = options.logger ?? createLogger(config.logLevel, 'audience-export-api');
  if (config.api.keys.length === 0) logger.warn('API_KEYS is empty: every route but /health and /docs answers 401');
  const resources =
    options.resources ?? (await openResources(config, { statementTimeoutMs: config.api.limits.statementTimeoutMs }));
  // Lazy: the API starts (and /health reports Temporal down) even while Temporal is still coming up.
  const own = options.temporalClient ? undefined : lazyClient(config.temporal);
  const temporalClient = options.temporalClient ?? own!.client;
  const deps: ApiDeps = {
    config,
    store: resources.store,
    graph: resources.graph,
    source: resources.source,
    temporalClient,
    logger,
  };
  const app = await buildApp(deps);
  const url = await app.listen({ host: config.api.host, port: config.api.port });
  logger.info({ url, docs: `${url}/docs` }, 'API listening');
  // In the background: records of runs Temporal closed while nothing was up are finished (the API starts even while
  // Temporal does not answer yet).
  const reconciled = reconcileRecords(deps);
  return {
    app,
    url,
    reconciled,
    resources,
    async close() {
      await reconciled;
      await app.close();
      await own?.close();
      if (!options.resources) await resources.close();
    },
  };
}
