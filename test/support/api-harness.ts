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

export const API_KEY = 'test-api-key-0123456789abcdef';
export const ENCRYPTION_KEY_B64 = Buffer.alloc(32, 7).toString('base64');
export const auth = { authorization: `Bearer ${API_KEY}` };

export function testConfig(env: Record<string, string> = {}): Config {
  return loadConfig({
    API_KEYS: `other-key-0000000000000000,${API_KEY}`,
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
