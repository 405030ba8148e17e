import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/api/app.js';
import type { ApiDeps } from '../../src/api/deps.js';
import { auth, testConfig, testDeps, viewerAuth } from '../support/api-harness.js';
import { connectTemporal, openTestDb } from '../support/context.js';
import type { Db } from '../../src/store/db.js';
import { expectCallbackPageHeaders } from './callback-headers.js';

describe('security headers', () => {
  let db: Db;
  let temporal: Awaited<ReturnType<typeof connectTemporal>>;
  let deps: ApiDeps;
  let app: FastifyInstance;

  beforeAll(async () => {
    db = await openTestDb();
    temporal = await connectTemporal();
    deps = await testDeps({ db, temporalClient: temporal.client, tables: 'sec_headers', profiles: 10 });
    app = await buildApp(deps);
  });
  afterAll(async () => {
    await app?.close();
    await temporal?.close();
    await db?.close();
  });

  it('answers JSON and problems with a policy that loads nothing, is never framed, cached or sniffed', async () => {
    for (const res of [
      await app.inject({ method: 'GET', url: '/destinations', headers: auth }),
      await app.inject({ method: 'GET', url: '/destinations' }),
      await app.inject({ method: 'GET', url: '/nothing', headers: auth }),
      await app.inject({ method: 'GET', url: '/health' }),
    ]) {
      expect(res.headers['content-security-policy']).toBe("default-src 'none';frame-ancestors 'none'");
      expect(res.headers['x-frame-options']).toBe('DENY');
      expect(res.headers['x-content-type-options']).toBe('nosniff');
      expect(res.headers['referrer-policy']).toBe('no-referrer');
      expect(res.headers['cache-control']).toBe('no-store');
      expect(res.headers['strict-transport-security']).toMatch(/^max-age=\d+/);
      expect(res.headers['cross-origin-resource-policy']).toBe('same-origin');
    }
  });

  it("sends the login callback's pages with default-src 'none', no-store, no-referrer and nosniff", async () => {
    const declined = await app.inject({ method: 'GET', url: '/facebook/callback?error=access_denied&state=x' });
    expect(declined.statusCode).toBe(400);
    expectCallbackPageHeaders(declined);
    const notConfigured = await app.inject({ method: 'GET', url: '/facebook/callback?code=c&state=s' });
    expect(notConfigured.statusCode).toBe(503);
    expectCallbackPageHeaders(notConfigured);
    const notOurs = await app.inject({ method: 'GET', url: '/facebook/callback?unknown=1' });
    expect(notOurs.statusCode).toBe(400);
    expectCallbackPageHeaders(notOurs);
  });

  it("serves the docs with Swagger UI's own policy, and behind a key when API_DOCS_REQUIRE_KEY=true", async () => {
    const ui = await app.inject({ method: 'GET', url: '/docs/' });
    expect(ui.statusCode).toBe(200);
    const csp = String(ui.headers['content-security-policy']);
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("frame-ancestors 'none'");

    const closed = await buildApp({ ...deps, config: testConfig({ API_DOCS_REQUIRE_KEY: 'true' }) });
    try {
      for (const url of ['/docs', '/docs/', '/docs/json', '/docs/static/index.html']) {
        expect((await closed.inject({ method: 'GET', url })).statusCode, url).toBe(401);
      }
      expect((await closed.inject({ method: 'GET', url: '/docs/json', headers: viewerAuth })).statusCode).toBe(200);
      expect((await closed.inject({ method: 'GET', url: '/health' })).statusCode).not.toBe(401);
    } finally {
      await closed.close();
    }
  });
});
