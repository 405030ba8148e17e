import { loadConfig } from '../config.js';
import { createLogger } from '../logger.js';
import { buildApp } from './app.js';
import type { ApiDeps } from './deps.js';

/**
 * The API's OpenAPI document, from the routes themselves (the console's client is typed from it). Routes read
 * their dependencies only when they answer, so the document needs no database, Temporal or Facebook: the app is
 * built over a config and a logger alone, asked for /docs/json, and closed.
 */
export async function openApiDocument(): Promise<Record<string, unknown>> {
  const deps = { config: loadConfig({}), logger: createLogger('silent') } as unknown as ApiDeps;
  const app = await buildApp(deps);
  try {
    return (await app.inject({ method: 'GET', url: '/docs/json' })).json<Record<string, unknown>>();
  } finally {
    await app.close();
  }
}
