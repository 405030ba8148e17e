import type { FastifyInstance } from 'fastify';
import { loadConfig, type Config } from '../../src/config.js';
import { buildApp } from '../../src/api/app.js';
import type { ApiDeps } from '../../src/api/deps.js';
import { createLogger } from '../../src/logger.js';

export const API_KEY = 'test-api-key-0123456789abcdef';
export const ENCRYPTION_KEY_B64 = Buffer.alloc(32, 7).toString('base64');

export function testConfig(env: Record<string, string> = {}): Config {
  return loadConfig({
    API_KEYS: `other-key-0000000000000000,${API_KEY}`,
    ENCRYPTION_KEY: ENCRYPTION_KEY_B64,
    PUBLIC_URL: 'http://127.0.0.1:9',
    LOG_LEVEL: 'silent',
    ...env,
  });
}

export const auth = { authorization: `Bearer ${API_KEY}` };

export async function buildTestApp(
  deps: Omit<ApiDeps, 'logger'> & { logger?: ApiDeps['logger'] },
): Promise<FastifyInstance> {
  return buildApp({ logger: createLogger('silent'), ...deps });
}
