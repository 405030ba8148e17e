import type { Client } from '@temporalio/client';
import type { Config } from '../config.js';
import type { Logger } from '../logger.js';
import type { Queryable } from '../store/db.js';

/** Everything the API talks to, injected so tests pass real parts built for the test. */
export interface ApiDeps {
  config: Config;
  /** For the health probe and the OAuth state table. */
  db: Queryable;
  temporalClient: Client;
  logger: Logger;
}

declare module 'fastify' {
  interface FastifyInstance {
    deps: ApiDeps;
  }
}
