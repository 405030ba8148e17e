import type { Client } from '@temporalio/client';
import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it, inject } from 'vitest';
import { buildApp } from '../../src/api/app.js';
import type { ApiDeps } from '../../src/api/deps.js';
import { startApiServer } from '../../src/api/server.js';
import { CALLS_PER_ANSWER } from '../../src/api/services/bounded-map.js';
import { createLogger } from '../../src/logger.js';
import { demoSourceConfig } from '../../src/demo/demo-seed.js';
import { createStore, type Store } from '../../src/store/index.js';
import { auth, operatorAuth, testConfig, testDeps } from '../support/api-harness.js';
import { connectTemporal } from '../support/context.js';
import { openPrivateDb } from './private-db.js';

describe('limits: failed authentication, costly routes, queries and Temporal fan-out', () => {
  let priv: Awaited<ReturnType<typeof openPrivateDb>>;
  let temporal: Awaited<ReturnType<typeof connectTemporal>>;
  let store: Store;
  let base: ApiDeps;
  const apps: FastifyInstance[] = [];

  const appWith = async (env: Record<string, string>, over: Partial<ApiDeps> = {}) => {
    const app = await buildApp({ ...base, config: testConfig(env), ...over });
    apps.push(app);
    return app;
  };

  beforeAll(async () => {
    priv = await openPrivateDb('sec_limits');
    temporal = await connectTemporal();
    store = createStore(priv.db, { encryptionKey: testConfig().encryptionKey });
    base = await testDeps({ db: priv.db, temporalClient: temporal.client, tables: 'limits', profiles: 300 });
  });
  afterAll(async () => {
    for (const app of apps) await app.close();
    await temporal?.close();
    await priv?.drop();
  });

  it('answers 429 to an address past API_FAILED_AUTH_PER_MINUTE failures, even with a right key; others go on', async () => {
    const app = await appWith({ API_FAILED_AUTH_PER_MINUTE: '3' });
    const from = (remoteAddress: string, headers: Record<string, string>) =>
      app.inject({ method: 'GET', url: '/destinations', headers, remoteAddress });
    const wrong = { authorization: 'Bearer wrong-key-000000000000000000000000000000' };
    for (let i = 0; i < 3; i++) expect((await from('10.0.0.1', wrong)).statusCode).toBe(401);
    const fourth = await from('10.0.0.1', wrong);
    expect(fourth.statusCode).toBe(429);
    expect(fourth.json()).toMatchObject({ type: '/problems/too-many-requests' });
    expect(fourth.json<{ detail: string }>().detail).toMatch(/^More than 3 failed authentications a minute/);
    // A right key from that address learns nothing for the rest of the minute.
    expect((await from('10.0.0.1', auth)).statusCode).toBe(429);
    expect((await from('10.0.0.2', auth)).statusCode).toBe(200);
    // Successes are not counted.
    for (let i = 0; i < 5; i++) expect((await from('10.0.0.3', auth)).statusCode).toBe(200);
    expect((await from('10.0.0.3', wrong)).statusCode).toBe(401);
  });

  it('limits previews per key and a minute, and runs only a few at once', async () => {
    const d = await store.destinations.create({ displayName: 'preview', facebookAppId: '1', adAccountId: null });
    const preview = (app: FastifyInstance, headers = auth) =>
      app.inject({
        method: 'POST',
        url: `/destinations/${d.id}/export-config/preview`,
        headers,
        payload: { segment: 'all', keyIdentifier: 'EMAIL', mapping: { EMAIL: { attribute: 'email' } } },
      });
    const perMinute = await appWith({ API_PREVIEWS_PER_MINUTE: '2' });
    expect((await preview(perMinute)).statusCode).toBe(200);
    expect((await preview(perMinute)).statusCode).toBe(200);
    const third = await preview(perMinute);
    expect(third.statusCode).toBe(429);
    expect(Number(third.headers['retry-after'])).toBeGreaterThan(0);
    expect(third.json<{ detail: string }>().detail).toMatch(/^At most 2 previews per API key a minute/);
    // Per key: another key still has its own.
    expect((await preview(perMinute, operatorAuth)).statusCode).toBe(200);

    // One at a time, four waiting: of twelve at once some are turned away, and never two read the segment together.
    // The real source, with its samples counted on their way to PostgreSQL.
    let sampling = 0;
    let most = 0;
    const source = {
      ...base.source,
      sample: async (...args: Parameters<ApiDeps['source']['sample']>) => {
        most = Math.max(most, ++sampling);
        try {
          return await base.source.sample(...args);
        } finally {
          sampling--;
        }
      },
    };
    const busy = await appWith({ API_PREVIEW_CONCURRENCY: '1', API_PREVIEWS_PER_MINUTE: '100' }, { source });
    const answers = await Promise.all(Array.from({ length: 12 }, () => preview(busy)));
    const statuses = answers.map((a) => a.statusCode);
    expect(statuses.every((s) => s === 200 || s === 429)).toBe(true);
    expect(statuses.filter((s) => s === 200).length).toBeGreaterThanOrEqual(5);
    expect(statuses.filter((s) => s === 429).length).toBeGreaterThanOrEqual(1);
    expect(most).toBe(1);
    const refused = answers.find((a) => a.statusCode === 429)!;
    expect(refused.json<{ detail: string }>().detail).toMatch(/^Previews are busy/);
    expect(refused.headers['retry-after']).toBe('5');
  });

  it('limits erasure requests per key and login callbacks per address', async () => {
    const app = await appWith({ API_ERASURES_PER_MINUTE: '2', API_CALLBACKS_PER_MINUTE: '2' });
    const erase = () =>
      app.inject({ method: 'POST', url: '/erasure-requests', headers: auth, payload: { adAccountId: 'act_1' } });
    expect((await erase()).statusCode).toBe(400);
    expect((await erase()).statusCode).toBe(400);
    const erasure = await erase();
    expect(erasure.statusCode).toBe(429);
    expect(erasure.json<{ detail: string }>().detail).toMatch(/^At most 2 erasure requests per API key a minute/);

    const callback = (remoteAddress: string) =>
      app.inject({ method: 'GET', url: '/facebook/callback?error=access_denied', remoteAddress });
    expect((await callback('10.1.0.1')).statusCode).toBe(400);
    expect((await callback('10.1.0.1')).statusCode).toBe(400);
    const tooMany = await callback('10.1.0.1');
    expect(tooMany.statusCode).toBe(429);
    expect(tooMany.headers['content-type']).toMatch(/^text\/html/);
    expect(tooMany.body).toContain('At most 2 login callbacks per address a minute');
    expect((await callback('10.1.0.2')).statusCode).toBe(400);
  });

  it("GET /exports asks Temporal about at most a few running runs at once, whatever the page's size", async () => {
    const destinationId = randomUUID();
    for (let i = 0; i < 120; i++) {
      const id = randomUUID();
      await store.exportRuns.create({
        id,
        destinationId,
        adAccountId: 'act_1',
        audienceId: null,
        segments: ['all'],
        mode: 'add',
        trigger: 'manual',
        workflowId: `limits-${id}`,
        temporalRunId: randomUUID(),
      });
    }
    const { client, most } = countingDescribes(temporal.client, 'workflow');
    const app = await appWith({}, { temporalClient: client });
    const res = await app.inject({
      method: 'GET',
      url: `/exports?destinationId=${destinationId}&limit=500`,
      headers: auth,
    });
    expect(res.statusCode).toBe(200);
    const items = res.json<{ items: { live: unknown }[] }>().items;
    expect(items).toHaveLength(120);
    expect(items.every((i) => i.live === null)).toBe(true); // no such workflows, and the records are young: they stand
    expect(most()).toBeGreaterThan(1);
    expect(most()).toBeLessThanOrEqual(CALLS_PER_ANSWER);
  });

  it("GET /destinations asks Temporal for at most a few schedules' next runs at once, whatever the page's size", async () => {
    const ids = new Set<string>();
    for (let i = 0; i < 60; i++) {
      const d = await store.destinations.create({
        displayName: `scheduled ${i}`,
        facebookAppId: '1',
        adAccountId: null,
      });
      await store.exportConfigs.put(d.id, {
        keyIdentifier: 'EMAIL',
        mapping: { EMAIL: { attribute: 'email' } },
        segments: ['all'],
        schedule: { intervalSeconds: 3600, paused: false },
      });
      ids.add(d.id);
    }
    const { client, most } = countingDescribes(temporal.client, 'schedule');
    const app = await appWith({}, { temporalClient: client });
    // The file's own database holds fewer than 500 destinations: one page.
    const res = await app.inject({ method: 'GET', url: '/destinations?limit=500', headers: auth });
    expect(res.statusCode).toBe(200);
    const seen = res.json<{ items: { id: string; schedule: { nextRunAt: unknown } | null }[] }>().items;
    const scheduled = seen.filter((d) => ids.has(d.id));
    expect(scheduled).toHaveLength(60);
    // No schedule in Temporal: each asked, none known, and the destinations still answer.
    expect(scheduled.every((d) => d.schedule !== null && d.schedule.nextRunAt === null)).toBe(true);
    expect(most()).toBeGreaterThan(1);
    expect(most()).toBeLessThanOrEqual(CALLS_PER_ANSWER);
  });

  it("bounds the API's queries with API_STATEMENT_TIMEOUT_MS, on our database and the profile source's", async () => {
    const sourceUrl = new URL(priv.url);
    sourceUrl.searchParams.set('application_name', 'audience-export-source');
    const server = await startApiServer(
      testConfig({
        DATABASE_URL: priv.url,
        // The same database by another URL: the profile source's pool of its own, where previews read.
        SOURCE_DATABASE_URL: sourceUrl.toString(),
        API_PORT: '0',
        API_STATEMENT_TIMEOUT_MS: '300',
        PROFILE_SOURCE: JSON.stringify(
          demoSourceConfig({ profilesTable: 'limits_profiles', membersTable: 'limits_members' }),
        ),
        TEMPORAL_ADDRESS: inject('temporalAddress'),
        TEMPORAL_NAMESPACE: inject('temporalNamespace'),
      }),
      { logger: createLogger('silent') },
    );
    try {
      expect(server.resources.sourceDb).not.toBe(server.resources.db);
      for (const db of [server.resources.db, server.resources.sourceDb]) {
        const err = await db.query('SELECT pg_sleep(2)').catch((e: unknown) => e);
        expect((err as { code?: string }).code).toBe('57014'); // query_canceled: statement timeout
        expect((await db.query<{ ok: number }>('SELECT 1 AS ok'))[0]!.ok).toBe(1);
      }
    } finally {
      await server.close();
    }
  });
});

/**
 * The real client, with the describes its workflow or schedule handles make counted on their way to the real
 * server: `most()` is the most in flight at once.
 */
function countingDescribes(real: Client, kind: 'workflow' | 'schedule'): { client: Client; most: () => number } {
  let inFlight = 0;
  let most = 0;
  const inner = real[kind];
  const counting = new Proxy(inner, {
    get(target, name, receiver) {
      if (name !== 'getHandle') return Reflect.get(target, name, receiver) as unknown;
      return (...args: unknown[]) => {
        const handle = (target.getHandle as (...a: unknown[]) => { describe(): Promise<unknown> })(...args);
        return Object.assign(Object.create(handle) as typeof handle, {
          describe: async () => {
            most = Math.max(most, ++inFlight);
            try {
              return await handle.describe();
            } finally {
              inFlight--;
            }
          },
        });
      };
    },
  });
  return { client: Object.assign(Object.create(real) as Client, { [kind]: counting }), most: () => most };
}
