import type { Client } from '@temporalio/client';
import type { Config } from '../config.js';
import type { GraphClient } from '../facebook/index.js';
import type { Logger } from '../logger.js';
import type { ProfileSource } from '../sources/profile-source.js';
import type { Store } from '../store/index.js';

/** The repositories the API uses; the store's `createStore(...)` result satisfies it. */
export type ApiStore = Pick<
  Store,
  | 'destinations'
  | 'credentials'
  | 'consents'
  | 'exportConfigs'
  | 'exportRuns'
  | 'snapshots'
  | 'oauthStates'
  | 'runMetrics'
  | 'suppressions'
  | 'ping'
>;

/** Everything the API talks to, injected so tests pass real parts built for the test. */
export interface ApiDeps {
  config: Config;
  store: ApiStore;
  graph: GraphClient;
  source: ProfileSource;
  temporalClient: Client;
  logger: Logger;
  /** Clock (tests). @default Date.now */
  now?: () => number;
}

declare module 'fastify' {
  interface FastifyInstance {
    deps: ApiDeps;
  }
}
