import type { FastifyInstance } from 'fastify';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CURRENT_CONSENT_STATEMENT } from '../../src/domain/consent-statements.js';
import { createGraphClient, type GraphClient } from '../../src/facebook/index.js';
import { startSandbox, type Sandbox } from '../../src/sandbox/server.js';
import type { Db } from '../../src/store/db.js';
import { migrate } from '../../src/store/migrate.js';
import { connectTemporal, openTestDb } from '../support/context.js';
import { auth, buildTestApp, testConfig, testDeps } from '../support/api-harness.js';

const PUBLIC_URL = 'http://127.0.0.1:9';
const json = { ...auth, 'content-type': 'application/json' };
const TABLES = 'api_setup';

interface Destination {
  id: string;
  status: string;
  adAccountId: string | null;
  audienceId: string | null;
  newAudienceName: string | null;
  connection: { status: string; scopes: string[] };
}
interface Problem {
  errors: Array<{ field: string; message: string }>;
}

/** #28 item 4: a destination is set up in the connector's order — name, Facebook, then account and audience. */
describe('setup in the connector order', () => {
  let db: Db;
  let temporal: Awaited<ReturnType<typeof connectTemporal>>;
  let sandbox: Sandbox;
  let graph: GraphClient;
  let app: FastifyInstance;
  let baseUrl: string;

  beforeAll(async () => {
    db = await openTestDb();
    await migrate(db);
    temporal = await connectTemporal();
    sandbox = await startSandbox({ config: { oauth: { redirectUris: [`${PUBLIC_URL}/facebook/callback`] } } });
    const f = sandbox.fixtures;
    const config = testConfig({
      PUBLIC_URL,
      FACEBOOK_GRAPH_URL: sandbox.url,
      FACEBOOK_DIALOG_URL: sandbox.url,
      FACEBOOK_APP_ID: f.appId,
      FACEBOOK_APP_SECRET: f.appSecret,
    });
    app = await buildTestApp(await testDeps({ config, db, temporalClient: temporal.client, tables: TABLES }));
    baseUrl = await app.listen({ port: 0, host: '127.0.0.1' });
    graph = createGraphClient({ ...config.facebook, timeoutMs: 5_000 });
  });
  afterAll(async () => {
    await graph.close();
    await app.close();
    await sandbox.close();
    await temporal.close();
    await db.close();
  });

  const call = async <T>(method: string, path: string, body?: unknown) => {
    const res = await request(`${baseUrl}${path}`, {
      method: method as 'GET',
      headers: body === undefined ? auth : json,
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await res.body.text();
    return { status: res.statusCode, headers: res.headers, body: (text ? JSON.parse(text) : null) as T };
  };

  /** connect?redirect=false → the sandbox's dialog → our callback, as a browser would follow them. */
  async function loginFromConsole(id: string, returnTo: string) {
    const started = await call<{ dialogUrl: string }>(
      'GET',
      `/destinations/${id}/facebook/connect?redirect=false&returnTo=${encodeURIComponent(returnTo)}`,
    );
    expect(started.status).toBe(200);
    const dialog = await request(started.body.dialogUrl);
    await dialog.body.dump();
    expect(dialog.statusCode).toBe(302);
    const back = new URL(String(dialog.headers.location));
    return request(`${baseUrl}${back.pathname}${back.search}`);
  }

  it('creates a draft by name, connects Facebook first, then lists and chooses account and audience', async () => {
    const f = sandbox.fixtures;
    const draft = await call<Destination>('POST', '/destinations', { displayName: 'Set up in order' });
    expect(draft.status).toBe(201);
    expect(draft.body).toMatchObject({ status: 'draft', adAccountId: null, audienceId: null, newAudienceName: null });
    const id = draft.body.id;

    // Nothing to list before the connection, and no export of a draft.
    expect((await call('GET', `/destinations/${id}/facebook/ad-accounts`)).status).toBe(409);
    const refused = await call<Problem>('POST', `/destinations/${id}/exports`, {});
    expect(refused.status).toBe(409);
    expect(refused.body.errors).toEqual([{ field: 'adAccountId', message: 'not chosen yet' }]);

    // Login started from the console goes back to the console page it came from.
    const returnTo = `/console/destinations/${id}/setup`;
    const back = await loginFromConsole(id, returnTo);
    await back.body.dump();
    expect(back.statusCode).toBe(303);
    expect(back.headers.location).toBe(`${PUBLIC_URL}${returnTo}`);
    const connected = await call<Destination>('GET', `/destinations/${id}`);
    expect(connected.body.connection.status).toBe('connected');
    expect(connected.body.connection.scopes).toContain('ads_management');
    expect(connected.body.status).toBe('draft');

    const accounts = await call<{ items: Array<{ id: string; customAudienceTermsAccepted: boolean }> }>(
      'GET',
      `/destinations/${id}/facebook/ad-accounts`,
    );
    expect(accounts.body.items.map((a) => a.id)).toEqual(expect.arrayContaining([f.adAccountId]));

    // Two audiences in the account; another destination already exports into one of them.
    const token = f.systemUserToken;
    const taken = await graph.createAudience(f.adAccountId, { name: 'taken' }, { token });
    const free = await graph.createAudience(f.adAccountId, { name: 'free' }, { token });
    const owner = await call<Destination>('POST', '/destinations', {
      displayName: 'Owner of taken',
      adAccountId: f.adAccountId,
      audienceId: taken.id,
    });
    expect(owner.status).toBe(201);
    const audiences = await call<{ items: Array<{ id: string; usedBy: unknown }> }>(
      'GET',
      `/destinations/${id}/facebook/ad-accounts/${f.adAccountId}/audiences?limit=100`,
    );
    expect(audiences.status).toBe(200);
    const byId = new Map(audiences.body.items.map((a) => [a.id, a.usedBy]));
    expect(byId.get(taken.id)).toEqual({ destinationId: owner.body.id, displayName: 'Owner of taken' });
    expect(byId.get(free.id)).toBeNull();

    // New custom audience first, then an existing one: choosing it clears the new name.
    const asNew = await call<Destination>('PATCH', `/destinations/${id}`, {
      adAccountId: f.adAccountId,
      newAudienceName: 'Set up in order',
    });
    expect(asNew.body).toMatchObject({ status: 'needs_consent', newAudienceName: 'Set up in order', audienceId: null });
    const existing = await call<Destination>('PATCH', `/destinations/${id}`, { audienceId: free.id });
    expect(existing.body).toMatchObject({ audienceId: free.id, newAudienceName: null, adAccountId: f.adAccountId });
    const clash = await call<Problem>('PATCH', `/destinations/${id}`, { audienceId: taken.id });
    expect(clash.status).toBe(409);
    expect(clash.body.errors).toEqual([{ field: 'body.audienceId', message: 'already used by another destination' }]);

    // Consent to the statement by its version; a version never published is refused.
    const unknown = await call<Problem>('POST', `/destinations/${id}/consent`, {
      givenBy: 'ops@example.com',
      statementVersion: '1999-01',
    });
    expect(unknown.status).toBe(400);
    expect(unknown.body.errors).toEqual([{ field: 'body.statementVersion', message: 'no such statement version' }]);
    const consent = await call('POST', `/destinations/${id}/consent`, {
      givenBy: 'ops@example.com',
      statementVersion: CURRENT_CONSENT_STATEMENT.version,
    });
    expect(consent.status).toBe(201);
    expect((await call<Destination>('GET', `/destinations/${id}`)).body.status).toBe('active');

    // Another ad account: the old account's audience does not come along, so it is a draft again.
    const moved = await call<Destination>('PATCH', `/destinations/${id}`, { adAccountId: f.adAccountWithoutTermsId });
    expect(moved.body).toMatchObject({ status: 'draft', audienceId: null, newAudienceName: null });
    const listed = await call<{ items: Destination[] }>('GET', '/destinations?limit=500');
    expect(listed.body.items.find((d) => d.id === id)?.status).toBe('draft');
  });

  it('answers a destination with a connection but no consent as needs_consent, and none as not_connected', async () => {
    const f = sandbox.fixtures;
    const d = await call<Destination>('POST', '/destinations', {
      displayName: 'Consent first',
      adAccountId: f.adAccountId,
      newAudienceName: 'Consent first',
    });
    expect(d.body.status).toBe('not_connected');
    expect((await call('PUT', `/destinations/${d.body.id}/facebook/token`, { token: f.systemUserToken })).status).toBe(
      200,
    );
    expect((await call<Destination>('GET', `/destinations/${d.body.id}`)).body.status).toBe('needs_consent');
  });

  it('serves the consent statement by version', async () => {
    const all = await call<{ current: string; items: Array<{ version: string }> }>('GET', '/consent-statements');
    expect(all.status).toBe(200);
    expect(all.body.current).toBe(CURRENT_CONSENT_STATEMENT.version);
    expect(all.body.items.map((s) => s.version)).toContain(all.body.current);
    const one = await call<{ title: string; paragraphs: string[] }>('GET', `/consent-statements/${all.body.current}`);
    expect(one.body.title).toBe('Data privacy and compliance');
    expect(one.body.paragraphs.join(' ')).toMatch(/SHA-256/);
    const missing = await call<Problem>('GET', '/consent-statements/1999-01');
    expect(missing.status).toBe(404);
    expect(missing.body.errors).toEqual([{ field: 'params.version', message: 'no such statement version' }]);
  });

  it("lists the profile source's attributes with their types and its segments with their sizes", async () => {
    const attributes = await call<{ items: Array<{ name: string; type: string }> }>(
      'GET',
      '/profile-source/attributes',
    );
    expect(attributes.status).toBe(200);
    const types = Object.fromEntries(attributes.body.items.map((a) => [a.name, a.type]));
    expect(types).toMatchObject({ email: 'text', phone: 'text', first_name: 'text', marketing_consent: 'boolean' });

    const segments = await call<{ items: Array<{ name: string; size: number }> }>('GET', '/profile-source/segments');
    const counted = await db.query<{ segment: string; n: string }>(
      `SELECT segment, count(*) AS n FROM ${TABLES}_members GROUP BY segment`,
    );
    expect(segments.body.items.length).toBeGreaterThan(1);
    expect(Object.fromEntries(segments.body.items.map((s) => [s.name, s.size]))).toEqual(
      Object.fromEntries(counted.map((r) => [r.segment, Number(r.n)])),
    );
    expect(segments.body.items.find((s) => s.name === 'all')?.size).toBe(200);
  });

  it('answers every callback failure with an HTML page, linking back to the console when the login came from it', async () => {
    const d = await call<Destination>('POST', '/destinations', { displayName: 'Declined' });
    const returnTo = `/console/destinations/${d.body.id}/setup`;
    const started = await call<{ dialogUrl: string }>(
      'GET',
      `/destinations/${d.body.id}/facebook/connect?redirect=false&returnTo=${encodeURIComponent(returnTo)}`,
    );
    const state = new URL(started.body.dialogUrl).searchParams.get('state')!;
    const page = async (query: string) => {
      const res = await request(`${baseUrl}/facebook/callback?${query}`);
      return { status: res.statusCode, type: String(res.headers['content-type']), text: await res.body.text() };
    };

    const declined = await page(`error=access_denied&error_reason=user_denied&state=${encodeURIComponent(state)}`);
    expect(declined.status).toBe(400);
    expect(declined.type).toMatch(/^text\/html/);
    expect(declined.text).toContain('Facebook login was cancelled or declined');
    expect(declined.text).toContain(`<a href="${returnTo}">Back to the console</a>`);

    const noState = await page('code=abc');
    expect(noState.status).toBe(400);
    expect(noState.type).toMatch(/^text\/html/);
    expect(noState.text).toContain('not a Facebook login callback this service issued');
    expect(noState.text).not.toContain('Back to the console');

    // The destination went away while the person was at Facebook.
    expect((await call('DELETE', `/destinations/${d.body.id}`)).status).toBe(204);
    const gone = await page(`code=abc&state=${encodeURIComponent(state)}`);
    expect(gone.status).toBe(404);
    expect(gone.type).toMatch(/^text\/html/);
    expect(gone.text).toContain('No destination with id');
  });

  it('refuses a returnTo outside the console', async () => {
    const d = await call<Destination>('POST', '/destinations', { displayName: 'Open redirect' });
    for (const target of ['https://evil.example/console', '//evil.example', '/docs']) {
      const res = await call<Problem>(
        'GET',
        `/destinations/${d.body.id}/facebook/connect?redirect=false&returnTo=${encodeURIComponent(target)}`,
      );
      expect(res.status, target).toBe(400);
      expect(res.body.errors.map((e) => e.field)).toEqual(['query.returnTo']);
    }
  });

  it('describes every response of every route in the OpenAPI document, and explains modes and keys', async () => {
    const doc = (await app.inject({ method: 'GET', url: '/docs/json' })).json<{
      paths: Record<string, Record<string, { responses: Record<string, { description: string }> }>>;
      components: { schemas: Record<string, { properties?: Record<string, { description?: string }> }> };
    }>();
    const operations = Object.entries(doc.paths).flatMap(([path, ops]) =>
      Object.entries(ops).map(([method, op]) => ({ route: `${method.toUpperCase()} ${path}`, op })),
    );
    expect(operations.length).toBeGreaterThan(30);
    for (const { route, op } of operations) {
      for (const [code, response] of Object.entries(op.responses)) {
        expect(response.description, `${route} ${code}`).not.toBe('Default Response');
        expect(response.description.length, `${route} ${code}`).toBeGreaterThan(4);
      }
      if (route !== 'GET /health' && !route.startsWith('GET /facebook/callback')) {
        expect(op.responses['401'], route).toBeDefined();
      }
    }
    // Each route says what its own 404 means.
    expect(doc.paths['/exports/{runId}']!.get!.responses['404']!.description).toBe('No run with this id');
    const config = doc.components.schemas.ExportConfig!.properties!;
    expect(config.mode!.description).toMatch(/`mirror`.*`replace`.*`add`/s);
    const body = JSON.stringify(doc.paths['/destinations/{id}/export-config']!.put);
    expect(body).toContain('First name');
    expect(body).toContain('every other key is extra');
  });
});
