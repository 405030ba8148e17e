import type { Client } from '@temporalio/client';
import type { Config } from '../config.js';
import type { GraphClient } from '../facebook/index.js';
import type { Logger } from '../logger.js';
import type { ProfileSource } from '../sources/profile-source.js';
import type { ConsentRepository } from '../store/consents.js';
import type { CredentialRepository } from '../store/credentials.js';
import type { Queryable } from '../store/db.js';
import type { DestinationRepository } from '../store/destinations.js';
import type { ExportConfigRepository } from '../store/export-configs.js';
import type { ExportRunRepository } from '../store/export-runs.js';
import type { SnapshotRepository } from '../store/snapshots.js';

/** The repositories the API uses; the store's `createStore(...)` result satisfies it. */
export interface ApiStore {
  destinations: DestinationRepository;
  credentials: CredentialRepository;
  consents: ConsentRepository;
  exportConfigs: ExportConfigRepository;
  exportRuns: ExportRunRepository;
  /** Erasure requests delete a person's rows. */
  snapshots: SnapshotRepository;
}

/** Everything the API talks to, injected so tests pass real parts built for the test. */
export interface ApiDeps {
  config: Config;
  /** For the health probe and the OAuth state table. */
  db: Queryable;
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
