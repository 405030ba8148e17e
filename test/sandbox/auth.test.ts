import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Sandbox } from '../../src/sandbox/server.js';
import { createAudience, expectGraphError, graph, h, withSandbox } from './graph-call.js';

let sb: Sandbox;
beforeAll(async () => {
  sb = await withSandbox();
});
afterAll(() => sb.close());

describe('versions', () => {
  it('answers a current version and names it in facebook-api-version', async () => {
    const res = await graph(sb, 'GET', 'me', { version: 'v26.0' });
    expect(res.status).toBe(200);
    expect(res.headers['facebook-api-version']).toBe('v26.0');
  });
  it('refuses unversioned calls (100) and expired versions (2635)', async () => {
    expectGraphError(await graph(sb, 'GET', 'me', { version: null }), 100);
    expectGraphError(await graph(sb, 'GET', 'me', { version: 'v23.0' }), 2635);
    expectGraphError(await graph(sb, 'GET', 'me', { version: 'v99.0' }), 100);
  });
  it('refuses unknown paths (2500)', async () => {
    expectGraphError(await graph(sb, 'GET', 'me/friends'), 2500);
  });
});

describe('tokens', () => {
  it('reads the token from the Authorization header or access_token', async () => {
    expect((await graph(sb, 'GET', 'me')).body.id).toBe('100000000000001');
    const viaQuery = await graph(sb, 'GET', 'me', { token: sb.fixtures.userToken, tokenIn: 'query' });
    expect(viaQuery.body.id).toBe('100000000000002');
  });
  it('refuses a missing (104), unknown (190/467) and expired (190/463) token', async () => {
    expectGraphError(await graph(sb, 'GET', 'me', { token: null }), 104);
    expectGraphError(await graph(sb, 'GET', 'me', { token: 'EAAnotatokenatall0000' }), 190, 467);
    const expired = await graph(sb, 'GET', 'me', { token: sb.fixtures.expiredToken });
    expectGraphError(expired, 190, 463);
    expect(expired.status).toBe(400);
  });
  it('requires ads_management for writes (294) but not for reads', async () => {
    const token = sb.fixtures.noAdsManagementToken;
    expect((await graph(sb, 'GET', `${sb.fixtures.adAccountId}/customaudiences`, { token })).status).toBe(200);
    const create = await graph(sb, 'POST', `${sb.fixtures.adAccountId}/customaudiences`, {
      token,
      body: { name: 'x', subtype: 'CUSTOM', customer_file_source: 'USER_PROVIDED_ONLY' },
    });
    expectGraphError(create, 294);
    const aud = await createAudience(sb);
    const upload = await graph(sb, 'POST', `${aud}/users`, {
      token,
      body: { payload: { schema: ['EMAIL'], data: [[h(1)]] } },
    });
    expectGraphError(upload, 294);
  });
  it('hides ad accounts the user is not assigned to (100/33)', async () => {
    expectGraphError(await graph(sb, 'GET', 'act_123456'), 100, 33);
  });
});

describe('appsecret_proof', () => {
  it('accepts a fresh time-stamped proof', async () => {
    expect((await graph(sb, 'GET', 'me')).status).toBe(200);
  });
  it('refuses a missing, wrong, stale or classic proof with 100', async () => {
    for (const proof of [false, 'bad', 'stale', 'classic'] as const) {
      const res = await graph(sb, 'GET', 'me', { proof });
      expectGraphError(res, 100);
    }
    expect((await graph(sb, 'GET', 'me', { proof: 'bad' })).body.error.message).toBe(
      'Invalid appsecret_proof provided in the API argument',
    );
  });
  it('does not require a proof when the app does not', async () => {
    const lax = await withSandbox({ config: { requireAppSecretProof: false } });
    try {
      expect((await graph(lax, 'GET', 'me', { proof: false })).status).toBe(200);
    } finally {
      await lax.close();
    }
  });
  it('accepts the classic proof only when configured', async () => {
    const classic = await withSandbox({ config: { acceptClassicProof: true } });
    try {
      expect((await graph(classic, 'GET', 'me', { proof: 'classic' })).status).toBe(200);
    } finally {
      await classic.close();
    }
  });
});
