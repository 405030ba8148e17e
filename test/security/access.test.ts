import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/api/app.js';
import { createState, deriveStateKey, OAUTH_STATE_TTL_MS } from '../../src/api/services/oauth-state.js';
import { createGraphClient } from '../../src/facebook/index.js';
import { startSandbox, type Sandbox } from '../../src/sandbox/server.js';
import { createStore, type Store } from '../../src/store/index.js';
import { auth, NO_RATE_LIMITS, testConfig, testDeps } from '../support/api-harness.js';
import { connectTemporal } from '../support/context.js';
import { expectCallbackPageHeaders } from './callback-headers.js';
import { openPrivateDb } from './private-db.js';

/** Reachable without our API key, by decision of the API (app.ts): the probe, the docs, Facebook's redirect. */
const PUBLIC = new Set(['GET /health', 'GET /facebook/callback']);

describe('access: API keys, OAuth state, one destination never reaches another', () => {
  let priv: Awaited<ReturnType<typeof openPrivateDb>>;
  let sandbox: Sandbox;
  let temporal: Awaited<ReturnType<typeof connectTemporal>>;
  let app: FastifyInstance;
  let store: Store;
  let stateKey: Buffer;

  beforeAll(async () => {
    priv = await openPrivateDb('sec_access');
    sandbox = await startSandbox({ port: 0 });
    temporal = await connectTemporal();
    const f = sandbox.fixtures;
    const config = testConfig({
      ...NO_RATE_LIMITS,
      FACEBOOK_GRAPH_URL: sandbox.url,
      FACEBOOK_DIALOG_URL: sandbox.url,
      FACEBOOK_APP_ID: f.appId,
      FACEBOOK_APP_SECRET: f.appSecret,
    });
    store = createStore(priv.db, { encryptionKey: config.encryptionKey });
    stateKey = deriveStateKey(config.encryptionKey!);
    app = await buildApp(
      await testDeps({
        config,
        db: priv.db,
        temporalClient: temporal.client,
        graph: createGraphClient({ ...config.facebook, timeoutMs: 5_000 }),
        tables: 'access',
        profiles: 20,
      }),
    );
  });
  afterAll(async () => {
    await app?.close();
    await temporal?.close();
    await sandbox?.close();
    await priv?.drop();
  });

  it('every route but health, docs and the OAuth callback refuses a missing, malformed or unknown key', async () => {
    const doc = (await app.inject({ method: 'GET', url: '/docs/json' })).json<{ paths: Record<string, object> }>();
    const routes = Object.entries(doc.paths).flatMap(([path, ops]) =>
      Object.keys(ops).map((m) => ({ method: m.toUpperCase(), path })),
    );
    let guarded = 0;
    for (const { method, path } of routes) {
      const url = path.replace(/\{[^}]+\}/g, randomUUID());
      for (const authorization of [undefined, 'Bearer wrong-key', 'Basic dXNlcjpwdw==', `Bearer ${'x'.repeat(5000)}`]) {
        const res = await app.inject({
          method: method as 'GET',
          url,
          headers: authorization ? { authorization } : {},
          ...(method === 'GET' || method === 'DELETE' ? {} : { payload: {} }),
        });
        if (PUBLIC.has(`${method} ${path}`)) {
          expect(res.statusCode, `${method} ${path}`).not.toBe(401);
          continue;
        }
        expect(res.statusCode, `${method} ${path} with ${authorization?.slice(0, 12)}`).toBe(401);
        expect(res.headers['content-type']).toContain('application/problem+json');
        guarded++;
      }
    }
    expect(guarded).toBeGreaterThan(100);
    expect((await app.inject({ method: 'GET', url: '/docs/json' })).statusCode).toBe(200);
    // A public prefix does not open its neighbours.
    expect((await app.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(401);
    expect((await app.inject({ method: 'GET', url: '/health/../destinations' })).statusCode).not.toBe(200);
    expect((await app.inject({ method: 'GET', url: '/docs/../destinations' })).statusCode).not.toBe(200);
  });

  it('refuses an OAuth state that is forged, expired or already used', async () => {
    const d = await store.destinations.create({
      displayName: 'oauth',
      facebookAppId: sandbox.fixtures.appId,
      adAccountId: sandbox.fixtures.adAccountId,
      audienceId: null,
      newAudienceName: 'oauth audience',
    });
    const callback = (state: string) =>
      app.inject({ method: 'GET', url: '/facebook/callback', query: { code: 'some-code', state } });
    // The callback is opened by a browser, so each refusal is an HTML page saying why.
    const reasonOf = async (state: string) => {
      const res = await callback(state);
      expect(res.statusCode).toBe(400);
      expect(res.headers['content-type']).toMatch(/^text\/html/);
      return /<p>(.*?)<\/p>/.exec(res.body)?.[1];
    };
    const forged = createState(Buffer.alloc(32, 1), d.id);
    expect(await reasonOf(forged)).toMatch(/^The state was not issued by this service\./);
    // The payload of a real state with another destination spliced in keeps a signature that no longer fits.
    const [v, body, mac] = createState(stateKey, d.id).split('.');
    const spliced = JSON.parse(Buffer.from(body!, 'base64url').toString()) as Record<string, unknown>;
    spliced.destinationId = randomUUID();
    const splicedState = `${v}.${Buffer.from(JSON.stringify(spliced)).toString('base64url')}.${mac}`;
    expect(await reasonOf(splicedState)).toMatch(/^The state was not issued by this service\./);
    const expired = createState(stateKey, d.id, Date.now() - OAUTH_STATE_TTL_MS - 1_000);
    expect(await reasonOf(expired)).toMatch(/^The login took longer than 10 minutes\./);
    expect(await reasonOf('v1..')).toMatch(/^The state is malformed\./);

    // A real login through the sandbox's dialog: the first callback connects, the replayed one is refused.
    const connect = await app.inject({ method: 'GET', url: `/destinations/${d.id}/facebook/connect`, headers: auth });
    expect(connect.statusCode).toBe(302);
    const dialog = await fetch(String(connect.headers.location), { redirect: 'manual' });
    const back = new URL(String(dialog.headers.get('location')));
    const login = () =>
      app.inject({ method: 'GET', url: '/facebook/callback', query: Object.fromEntries(back.searchParams) });
    const first = await login();
    expect(first.statusCode).toBe(200);
    expectCallbackPageHeaders(first);
    expect((await store.credentials.describe(d.id))?.kind).toBe('login');
    const replay = await login();
    expect(replay.statusCode).toBe(400);
    expect(replay.body).toContain('This login was already completed.');
  });

  it("one destination's runs, ad accounts and audiences are never reached through another's id", async () => {
    const f = sandbox.fixtures;
    const make = (name: string) =>
      store.destinations.create({
        displayName: name,
        facebookAppId: f.appId,
        adAccountId: f.adAccountId,
        audienceId: null,
        newAudienceName: `${name} audience`,
      });
    const a = await make('A');
    const b = await make('B');
    await store.credentials.save(a.id, { kind: 'system_user', token: f.systemUserToken });
    const runId = randomUUID();
    await store.exportRuns.create({
      id: runId,
      destinationId: a.id,
      adAccountId: a.adAccountId!,
      audienceId: null,
      segments: ['all'],
      mode: 'add',
      trigger: 'manual',
      workflowId: `access-${runId}`,
    });

    // A's credentials work for A...
    expect(
      (await app.inject({ method: 'GET', url: `/destinations/${a.id}/facebook/ad-accounts`, headers: auth }))
        .statusCode,
    ).toBe(200);
    // ...and never for B: B has no connection of its own.
    for (const url of [
      `/destinations/${b.id}/facebook/ad-accounts`,
      `/destinations/${b.id}/facebook/ad-accounts/${a.adAccountId}/audiences`,
    ]) {
      const res = await app.inject({ method: 'GET', url, headers: auth });
      expect(res.statusCode, url).toBe(409);
      expect(res.json<{ type: string }>().type).toBe('/problems/not-connected');
    }
    const listB = await app.inject({ method: 'GET', url: `/exports?destinationId=${b.id}`, headers: auth });
    expect(listB.json<{ items: unknown[] }>().items).toEqual([]);
    const listA = await app.inject({ method: 'GET', url: `/exports?destinationId=${a.id}`, headers: auth });
    expect(listA.json<{ items: { runId: string }[] }>().items.map((r) => r.runId)).toEqual([runId]);
    // A run id is not a destination id, nor the other way round.
    expect((await app.inject({ method: 'GET', url: `/destinations/${runId}`, headers: auth })).statusCode).toBe(404);
    expect((await app.inject({ method: 'GET', url: `/exports/${b.id}`, headers: auth })).statusCode).toBe(404);
    // An erasure through B uses only a token of B's ad account: here A's (same account), never another account's.
    const erase = await app.inject({
      method: 'POST',
      url: '/erasure-requests',
      headers: auth,
      payload: { adAccountId: 'act_424242', email: 'someone@example.org' },
    });
    expect(erase.statusCode).toBe(409);
    // No answer carries the token.
    for (const url of [`/destinations/${a.id}`, `/destinations`, `/exports/${runId}`]) {
      const res = await app.inject({ method: 'GET', url, headers: auth });
      expect(res.body).not.toContain(f.systemUserToken);
    }
  });
});
