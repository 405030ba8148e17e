import { loadConfig } from '../config.js';
import { createLogger } from '../logger.js';
import { createStore, type Db } from '../store/index.js';
import { buildApp } from './app.js';
import type { ApiDeps } from './deps.js';

const noDatabase = (): never => {
  throw new Error('The OpenAPI document is built without a database: no route may query while it is built.');
};

/** A database that refuses every call: routes may hold repositories over it, never use them here. */
const NO_DATABASE: Db = {
  kind: 'postgres',
  query: noDatabase,
  queryArrays: noDatabase,
  transaction: noDatabase,
  close: () => Promise.resolve(),
};

/**
 * The API's OpenAPI document, from the routes themselves (the console's client is typed from it). Routes use their
 * dependencies only when they answer, so the document needs no database, Temporal or Facebook: the app is built
 * over a config, a logger and a store on a database that refuses every call, asked for /docs/json, and closed.
 */
export async function openApiDocument(): Promise<Record<string, unknown>> {
  const config = loadConfig({});
  const deps = {
    config,
    logger: createLogger('silent'),
    store: createStore(NO_DATABASE, { encryptionKey: undefined }),
  } as unknown as ApiDeps;
  const app = await buildApp(deps);
  try {
    return (await app.inject({ method: 'GET', url: '/docs/json' })).json<Record<string, unknown>>();
  } finally {
    await app.close();
  }
}
