import type { Client } from '@temporalio/client';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../src/api/app.js';
import type { ApiDeps } from '../../src/api/deps.js';
import { loadConfig, type Config } from '../../src/config.js';
import { createGraphClient } from '../../src/facebook/index.js';
import { createLogger } from '../../src/logger.js';
import type { Db } from '../../src/store/db.js';
import { createStore } from '../../src/store/index.js';
import { demoSourceConfig, seedDemoProfiles } from '../../src/demo/demo-seed.js';
import { createProfileSource } from '../../src/sources/profile-source.js';

/** An admin key in the form before roles (a bare secret); the tests' default. */
export const API_KEY = 'test-api-key-0123456789abcdef-0123456789';
/** Keys named `operator` and `viewer` with those roles. */
export const OPERATOR_KEY = 'test-operator-key-0123456789abcdef-01234';
export const VIEWER_KEY = 'test-viewer-key-0123456789abcdef-0123456';
export const ENCRYPTION_KEY_B64 = Buffer.alloc(32, 7).toString('base64');
export const auth = { authorization: `Bearer ${API_KEY}` };
export const operatorAuth = { authorization: `Bearer ${OPERATOR_KEY}` };
export const viewerAuth = { authorization: `Bearer ${VIEWER_KEY}` };

/** For tests that flood the API on purpose (fuzzing, every route with bad keys): rate limits out of the way. */
export const NO_RATE_LIMITS = {
  API_FAILED_AUTH_PER_MINUTE: '1000000',
  API_PREVIEWS_PER_MINUTE: '1000000',
  API_ERASURES_PER_MINUTE: '1000000',
  API_CALLBACKS_PER_MINUTE: '1000000',
};

export function testConfig(env: Record<string, string> = {}): Config {
  return loadConfig({
    API_KEYS: `operator:operator:${OPERATOR_KEY},viewer:viewer:${VIEWER_KEY},${API_KEY}`,
    ENCRYPTION_KEY: ENCRYPTION_KEY_B64,
    PUBLIC_URL: 'http://127.0.0.1:9',
    FACEBOOK_GRAPH_URL: 'http://127.0.0.1:9',
    FACEBOOK_DIALOG_URL: 'http://127.0.0.1:9',
    LOG_LEVEL: 'silent',
    ...env,
  });
}

/**
 * Real parts: the store over this run's database, a Graph client for `config`, the given Temporal client, and a
 * profile source over demo tables of this test file's own (`tables`), so parallel files do not collide.
 */
export async function testDeps(
  input: { config?: Config; db: Db; temporalClient: Client; tables?: string; profiles?: number } & Partial<ApiDeps>,
): Promise<ApiDeps> {
  const { tables, profiles, ...deps } = input;
  const config = input.config ?? testConfig();
  let source = input.source;
  if (!source) {
    const names = { profilesTable: `${tables ?? 'api'}_profiles`, membersTable: `${tables ?? 'api'}_members` };
    await seedDemoProfiles(input.db, { ...names, profiles: profiles ?? 200 });
    source = await createProfileSource(input.db, demoSourceConfig(names));
  }
  return {
    config,
    store: createStore(input.db, { encryptionKey: config.encryptionKey }),
    graph: createGraphClient({ ...config.facebook, timeoutMs: 5_000 }),
    logger: createLogger('silent'),
    source,
    ...deps,
  };
}

export const buildTestApp = (deps: ApiDeps): Promise<FastifyInstance> => buildApp(deps);
