import type { FastifyInstance } from 'fastify';
import { pino } from 'pino';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createState, deriveStateKey } from '../../src/api/services/oauth-state.js';
import { createGraphClient } from '../../src/facebook/index.js';
import { startSandbox, type Sandbox } from '../../src/sandbox/server.js';
import type { Db } from '../../src/store/db.js';
import { migrate } from '../../src/store/migrate.js';
import { connectTemporal, openTestDb } from '../support/context.js';
import { auth, buildTestApp, ENCRYPTION_KEY_B64, testConfig, testDeps } from '../support/api-harness.js';

const PUBLIC_URL = 'http://127.0.0.1:9';
const json = { ...auth, 'content-type': 'application/json' };
interface Problem {
  status: number;
  errors: Array<{ field: string; message: string }>;
}

describe('Facebook connection', () => {
  let db: Db;
  let temporal: Awaited<ReturnType<typeof connectTemporal>>;
  let sandbox: Sandbox;
  let app: FastifyInstance;
  let baseUrl: string;
  const logLines: string[] = [];
  const secretsSeen = new Set<string>();

  beforeAll(async () => {
    db = await openTestDb();
    await migrate(db);
    temporal = await connectTemporal();
    sandbox = await startSandbox({ config: { oauth: { redirectUris: [`${PUBLIC_URL}/facebook/callback`] } } });
    const config = testConfig({
      PUBLIC_URL,
      FACEBOOK_GRAPH_URL: sandbox.url,
      FACEBOOK_DIALOG_URL: sandbox.url,
      FACEBOOK_APP_ID: sandbox.fixtures.appId,
      FACEBOOK_APP_SECRET: sandbox.fixtures.appSecret,
    });
    const logger = pino({ level: 'debug' }, { write: (line: string) => void logLines.push(line) });
    app = await buildTestApp(await testDeps({ config, db, temporalClient: temporal.client, tables: 'api_fb', logger }));
    baseUrl = await app.listen({ port: 0, host: '127.0.0.1' });
  });
  afterAll(async () => {
    await app.close();
    await sandbox.close();
    await temporal.close();
    await db.close();
  });

  async function createDestination(displayName: string): Promise<string> {
    const res = await request(`${baseUrl}/destinations`, {
      method: 'POST',
      headers: json,
      body: JSON.stringify({ displayName, adAccountId: sandbox.fixtures.adAccountId, newAudienceName: displayName }),
    });
    expect(res.statusCode).toBe(201);
    return ((await res.body.json()) as { id: string }).id;
  }

  /** Follows connect → the sandbox's login dialog → our callback (PUBLIC_URL stands for this server). */
  async function loginThroughDialog(id: string): Promise<{ callbackPath: string; dialogUrl: URL }> {
    const connect = await request(`${baseUrl}/destinations/${id}/facebook/connect`, { headers: auth });
    expect(connect.statusCode).toBe(302);
    await connect.body.dump();
    const dialogUrl = new URL(String(connect.headers.location));
    const dialog = await request(dialogUrl);
    expect(dialog.statusCode).toBe(302);
    await dialog.body.dump();
    const back = new URL(String(dialog.headers.location));
    expect(back.origin + back.pathname).toBe(`${PUBLIC_URL}/facebook/callback`);
    for (const v of [back.searchParams.get('code'), back.searchParams.get('state')]) if (v) secretsSeen.add(v);
    return { callbackPath: back.pathname + back.search, dialogUrl };
  }

  const callback = async (path: string) => {
    const res = await request(`${baseUrl}${path}`);
    return { status: res.statusCode, type: String(res.headers['content-type']), text: await res.body.text() };
  };

  it('create → connect through the OAuth dialog → consent → config → preview, with a verified long-lived token', async () => {
    const id = await createDestination('Login flow <VIP>');
    const { callbackPath, dialogUrl } = await loginThroughDialog(id);
    expect(dialogUrl.pathname).toMatch(/^\/v\d+\.\d+\/dialog\/oauth$/);
    expect(dialogUrl.searchParams.get('scope')).toContain('ads_management');
    expect(dialogUrl.searchParams.get('client_id')).toBe(sandbox.fixtures.appId);

    const page = await callback(callbackPath);
    expect(page.status).toBe(200);
    expect(page.type).toMatch(/^text\/html/);
    expect(page.text).toContain('Login flow &lt;VIP&gt;');
    expect(page.text).toContain(sandbox.fixtures.adAccountId);
    expect(page.text).not.toMatch(/access_token|EAA/);

    const got = (await (await request(`${baseUrl}/destinations/${id}`, { headers: auth })).body.json()) as {
      connection: { status: string; kind: string; expiresAt: string; scopes: string[] };
    };
    expect(got.connection).toMatchObject({ status: 'connected', kind: 'login' });
    expect(got.connection.scopes).toContain('ads_management');
    const days = (Date.parse(got.connection.expiresAt) - Date.now()) / 86_400_000;
    expect(days).toBeGreaterThan(55);
    expect(JSON.stringify(got)).not.toContain(sandbox.fixtures.userToken);

    // The same callback again (a replayed or leaked URL) is refused: the state is single-use. A browser opens it,
    // so the refusal is a page saying so.
    const replay = await callback(callbackPath);
    expect(replay.status).toBe(400);
    expect(replay.type).toMatch(/^text\/html/);
    expect(replay.text).toContain('This login was already completed.');

    const accounts = (await (
      await request(`${baseUrl}/destinations/${id}/facebook/ad-accounts`, { headers: auth })
    ).body.json()) as { items: Array<{ id: string; customAudienceTermsAccepted: boolean; termsUrl: string | null }> };
    expect(accounts.items).toContainEqual(
      expect.objectContaining({ id: sandbox.fixtures.adAccountId, customAudienceTermsAccepted: true, termsUrl: null }),
    );
    // The rest of the operator's path: consent, export config, preview.
    const post = (path: string, method: 'POST' | 'PUT', payload: unknown) =>
      request(`${baseUrl}/destinations/${id}${path}`, { method, headers: json, body: JSON.stringify(payload) });
    const consent = await post('/consent', 'POST', { givenBy: 'ops@example.com', statementVersion: '2026-01' });
    expect(consent.statusCode).toBe(201);
    await consent.body.dump();
    const mapping = { EMAIL: { attribute: 'email' }, PHONE: { attribute: 'phone' } };
    const config = await post('/export-config', 'PUT', { keyIdentifier: 'EMAIL', mapping, segments: ['vip'] });
    expect(config.statusCode).toBe(200);
    await config.body.dump();
    const preview = await post('/export-config/preview', 'POST', { segment: 'all' });
    const counts = (await preview.body.json()) as { segmentSize: number; usableKeyIdentifier: number; keys: object };
    expect(preview.statusCode).toBe(200);
    expect(counts.segmentSize).toBe(200);
    expect(counts.usableKeyIdentifier).toBeGreaterThan(0);
    expect(Object.keys(counts.keys).sort()).toEqual(['EMAIL', 'PHONE']);

    const noTerms = sandbox.fixtures.adAccountWithoutTermsId;
    expect(accounts.items).toContainEqual(
      expect.objectContaining({
        id: noTerms,
        customAudienceTermsAccepted: false,
        termsUrl: expect.stringContaining(noTerms.slice(4)),
      }),
    );

    const audiences = await request(`${baseUrl}/destinations/${id}/facebook/ad-accounts/${noTerms}/audiences`, {
      headers: auth,
    });
    const audiencesBody = (await audiences.body.json()) as Record<string, unknown>;
    expect(audiences.statusCode, JSON.stringify(audiencesBody)).toBe(200);
    expect(audiencesBody).toMatchObject({
      adAccountId: noTerms,
      customAudienceTermsAccepted: false,
      termsUrl: `https://business.facebook.com/ads/manage/customaudiences/tos/?act=${noTerms.slice(4)}`,
    });
  });

  it('Facebook Login for Business: FACEBOOK_LOGIN_CONFIG_ID replaces scope in the dialog, and the sandbox checks it', async () => {
    const loginConfigId = '123456789012345';
    const business = await startSandbox({
      config: {
        oauth: { redirectUris: [`${PUBLIC_URL}/facebook/callback`], loginConfig: { id: loginConfigId } },
      },
    });
    const config = testConfig({
      PUBLIC_URL,
      FACEBOOK_GRAPH_URL: business.url,
      FACEBOOK_DIALOG_URL: business.url,
      FACEBOOK_APP_ID: business.fixtures.appId,
      FACEBOOK_APP_SECRET: business.fixtures.appSecret,
      FACEBOOK_LOGIN_CONFIG_ID: loginConfigId,
    });
    const businessApp = await buildTestApp(
      await testDeps({ config, db, temporalClient: temporal.client, tables: 'api_fb' }),
    );
    try {
      const created = await businessApp.inject({
        method: 'POST',
        url: '/destinations',
        headers: json,
        payload: { displayName: 'Business login', adAccountId: business.fixtures.adAccountId, newAudienceName: 'B' },
      });
      const id = created.json<{ id: string }>().id;
      const connect = await businessApp.inject({
        method: 'GET',
        url: `/destinations/${id}/facebook/connect`,
        headers: auth,
      });
      expect(connect.statusCode).toBe(302);
      const dialogUrl = new URL(String(connect.headers.location));
      expect(dialogUrl.searchParams.get('config_id')).toBe(loginConfigId);
      expect(dialogUrl.searchParams.has('scope')).toBe(false);

      // The sandbox refuses the dialog without the configuration, or with another one.
      for (const change of [
        (u: URL) => (u.searchParams.delete('config_id'), u.searchParams.set('scope', 'ads_management')),
        (u: URL) => u.searchParams.set('config_id', '999'),
      ]) {
        const wrong = new URL(dialogUrl);
        change(wrong);
        const refused = await request(wrong);
        expect(refused.statusCode).toBe(400);
        expect(((await refused.body.json()) as { error: { code: number } }).error.code).toBe(100);
      }

      const dialog = await request(dialogUrl);
      expect(dialog.statusCode).toBe(302);
      await dialog.body.dump();
      const back = new URL(String(dialog.headers.location));
      for (const v of [back.searchParams.get('code'), back.searchParams.get('state')]) if (v) secretsSeen.add(v);
      const done = await businessApp.inject({ method: 'GET', url: back.pathname + back.search });
      expect(done.statusCode).toBe(200);
      const got = (await businessApp.inject({ method: 'GET', url: `/destinations/${id}`, headers: auth })).json<{
        connection: { status: string; scopes: string[] };
      }>();
      expect(got.connection.status).toBe('connected');
      expect(got.connection.scopes).toEqual(expect.arrayContaining(['ads_management', 'business_management']));
    } finally {
      await businessApp.close();
      await business.close();
    }
  });

  it('refuses a forged, an expired and a malformed state before calling Facebook', async () => {
    const id = await createDestination('State checks');
    const { callbackPath } = await loginThroughDialog(id);
    const url = new URL(callbackPath, PUBLIC_URL);
    const state = url.searchParams.get('state')!;
    const code = url.searchParams.get('code')!;
    const [v, body, mac] = state.split('.');
    const forgedMac = `${mac!.startsWith('A') ? 'B' : 'A'}${mac!.slice(1)}`;
    const otherKeyState = createState(deriveStateKey(Buffer.alloc(32, 9)), id);
    const expired = createState(
      deriveStateKey(Buffer.from(ENCRYPTION_KEY_B64, 'base64')),
      id,
      Date.now() - 11 * 60_000,
    );
    const cases: Array<[string, string]> = [
      [`${v}.${body}.${forgedMac}`, 'The state was not issued by this service.'],
      [otherKeyState, 'The state was not issued by this service.'],
      [expired, 'The login took longer than 10 minutes.'],
      ['garbage', 'The state is malformed.'],
    ];
    for (const [s, detail] of cases) {
      const res = await callback(`/facebook/callback?code=${code}&state=${encodeURIComponent(s)}`);
      expect(res.status, detail).toBe(400);
      expect(res.type).toMatch(/^text\/html/);
      expect(res.text).toContain(detail);
    }
    // None of those spent the code or the real state: the genuine callback still works.
    expect((await callback(callbackPath)).status).toBe(200);
  });

  it('connects with a system-user token and refuses expired or under-privileged tokens', async () => {
    const id = await createDestination('System user');
    const put = (token: string) =>
      request(`${baseUrl}/destinations/${id}/facebook/token`, {
        method: 'PUT',
        headers: json,
        body: JSON.stringify({ token }),
      });

    for (const [token, message] of [
      [sandbox.fixtures.expiredToken, 'not valid (expired or revoked)'],
      [sandbox.fixtures.noAdsManagementToken, 'missing the ads_management permission'],
    ] as const) {
      const res = await put(token);
      const text = await res.body.text();
      expect(res.statusCode).toBe(400);
      expect((JSON.parse(text) as Problem).errors).toEqual([{ field: 'body.token', message }]);
      expect(text).not.toContain(token);
    }

    const ok = await put(sandbox.fixtures.systemUserToken);
    const text = await ok.body.text();
    expect(ok.statusCode, text).toBe(200);
    expect(JSON.parse(text)).toMatchObject({ status: 'connected', kind: 'system_user', expiresAt: null });
    expect(text).not.toContain(sandbox.fixtures.systemUserToken);

    const accounts = await request(`${baseUrl}/destinations/${id}/facebook/ad-accounts`, { headers: auth });
    expect(accounts.statusCode).toBe(200);
    await accounts.body.dump();
  });

  it('the ad-account list and the destination agree on the terms, as the export decides them', async () => {
    const { adAccountId, adAccountWithoutTermsId, systemUserToken } = sandbox.fixtures;
    const res = await request(`${baseUrl}/destinations`, {
      method: 'POST',
      headers: json,
      body: JSON.stringify({ displayName: 'Terms', adAccountId: adAccountWithoutTermsId, newAudienceName: 'Terms' }),
    });
    const id = ((await res.body.json()) as { id: string }).id;
    const put = await request(`${baseUrl}/destinations/${id}/facebook/token`, {
      method: 'PUT',
      headers: json,
      body: JSON.stringify({ token: systemUserToken }),
    });
    expect(put.statusCode).toBe(200);
    await put.body.dump();
    const list = async () => {
      const r = await request(`${baseUrl}/destinations/${id}/facebook/ad-accounts`, { headers: auth });
      const body = (await r.body.json()) as { items: Array<{ id: string; customAudienceTermsAccepted: boolean }> };
      return new Map(body.items.map((a) => [a.id, a.customAudienceTermsAccepted]));
    };
    const status = async () =>
      (await db.query<{ status: string }>('SELECT status FROM destinations WHERE id = $1', [id]))[0]!.status;
    // Both answers come from what the export's validation reads (tos_accepted.custom_audience_tos).
    const before = await list();
    expect(before.get(adAccountId)).toBe(true);
    expect(before.get(adAccountWithoutTermsId)).toBe(false);
    expect(await status()).toBe('needs_terms');

    const account = sandbox.state.accounts.get(adAccountWithoutTermsId.slice('act_'.length))!;
    account.tosAccepted = true; // a person accepted the terms in Ads Manager
    try {
      expect((await list()).get(adAccountWithoutTermsId)).toBe(true);
      expect(await status()).toBe('active');
    } finally {
      account.tosAccepted = false;
    }
    const audiences = await request(
      `${baseUrl}/destinations/${id}/facebook/ad-accounts/${adAccountWithoutTermsId}/audiences`,
      { headers: auth },
    );
    expect(
      ((await audiences.body.json()) as { customAudienceTermsAccepted: boolean }).customAudienceTermsAccepted,
    ).toBe(false);
    expect(await status()).toBe('needs_terms');
  });

  it('keeps the Facebook audience on delete unless deleteAudience=true', async () => {
    const f = sandbox.fixtures;
    const graph = createGraphClient({
      graphUrl: sandbox.url,
      dialogUrl: sandbox.url,
      apiVersion: 'v26.0',
      appId: f.appId,
      appSecret: f.appSecret,
    });
    const token = f.systemUserToken;
    const destinationOn = async (audienceId: string) => {
      const res = await request(`${baseUrl}/destinations`, {
        method: 'POST',
        headers: json,
        body: JSON.stringify({ displayName: `On ${audienceId}`, adAccountId: f.adAccountId, audienceId }),
      });
      const id = ((await res.body.json()) as { id: string }).id;
      const put = await request(`${baseUrl}/destinations/${id}/facebook/token`, {
        method: 'PUT',
        headers: json,
        body: JSON.stringify({ token }),
      });
      expect(put.statusCode).toBe(200);
      await put.body.dump();
      return id;
    };
    const kept = await graph.createAudience(f.adAccountId, { name: 'kept' }, { token });
    const dropped = await graph.createAudience(f.adAccountId, { name: 'dropped' }, { token });
    const keepId = await destinationOn(kept.id);
    const dropId = await destinationOn(dropped.id);

    expect((await app.inject({ method: 'DELETE', url: `/destinations/${keepId}`, headers: auth })).statusCode).toBe(
      204,
    );
    const del = await app.inject({
      method: 'DELETE',
      url: `/destinations/${dropId}?deleteAudience=true`,
      headers: auth,
    });
    expect(del.statusCode).toBe(204);

    expect((await graph.getAudience(kept.id, { token })).id).toBe(kept.id);
    await expect(graph.getAudience(dropped.id, { token })).rejects.toThrow();
    await graph.close();
  });

  it('answers 409 for ad accounts of a destination that is not connected', async () => {
    const id = await createDestination('Unconnected');
    const res = await app.inject({ method: 'GET', url: `/destinations/${id}/facebook/ad-accounts`, headers: auth });
    expect(res.statusCode).toBe(409);
    expect(res.json()).toMatchObject({ type: '/problems/not-connected' });
  });

  it('never wrote a token, an OAuth code or a state to the log', () => {
    expect(logLines.length).toBeGreaterThan(10);
    const log = logLines.join('');
    const f = sandbox.fixtures;
    for (const secret of [f.systemUserToken, f.userToken, f.expiredToken, f.noAdsManagementToken, ...secretsSeen]) {
      expect(log).not.toContain(secret);
    }
    expect(log).not.toMatch(/access_token|ops@example\.com/);
  });
});
