import { createHash } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_FACEBOOK_API_VERSION } from '../../src/config.js';
import {
  AppCredentialsError,
  AuthError,
  DeprecatedVersionError,
  InvalidRequestError,
  PermissionError,
  ReplaceSessionError,
  TermsNotAcceptedError,
  ThrottledError,
  TransientError,
} from '../../src/facebook/errors.js';
import { createGraphClient, type GraphClient } from '../../src/facebook/graph-client.js';
import type { Cell } from '../../src/facebook/responses.js';
import { startSandbox } from '../../src/sandbox/server.js';

/** Every client call against the sandbox Graph API over real HTTP, and every error class as the client sees it. */

type Sandbox = Awaited<ReturnType<typeof startSandbox>>;

let sb: Sandbox;
let fb: GraphClient;
let token: string;
let adAccountId: string;

const sha = (s: string) => createHash('sha256').update(s).digest('hex');
const SCHEMA = ['EMAIL', 'PHONE'];
const row = (i: number): Cell[] => [sha(`person${i}@example.com`), i % 2 === 0 ? sha(`4915100000${i}`) : ''];
const rows = (from: number, to: number) => Array.from({ length: to - from }, (_, k) => row(from + k));

function clientFor(s: Sandbox, extra: Partial<Parameters<typeof createGraphClient>[0]> = {}): GraphClient {
  return createGraphClient({
    graphUrl: s.url,
    dialogUrl: s.url,
    apiVersion: DEFAULT_FACEBOOK_API_VERSION,
    appId: s.fixtures.appId,
    appSecret: s.fixtures.appSecret,
    timeoutMs: 10_000,
    ...extra,
  });
}

async function members(audienceId: string): Promise<{ schema: string[]; members: unknown[][] }> {
  const res = await fetch(`${sb.url}/__sandbox/audiences/${audienceId}/members?limit=10000`);
  expect(res.status).toBe(200);
  return (await res.json()) as { schema: string[]; members: unknown[][] };
}

const sorted = (xs: unknown[][]) => xs.map((r) => JSON.stringify(r)).sort();

async function newAudience(name = 'client test'): Promise<string> {
  return (await fb.createAudience(adAccountId, { name, description: 'from the client tests' }, { token })).id;
}

const caught = async (p: Promise<unknown>): Promise<unknown> => {
  try {
    await p;
  } catch (e) {
    return e;
  }
  throw new Error('expected the call to fail');
};

beforeAll(async () => {
  sb = await startSandbox({ port: 0 });
  fb = clientFor(sb);
  token = sb.fixtures.systemUserToken;
  adAccountId = sb.fixtures.adAccountId;
});

afterEach(() => {
  sb.faults.set({
    latencyMs: null,
    throttle: null,
    transientErrorRate: 0,
    tokenExpiry: {},
    audienceFaults: [],
  });
});

afterAll(async () => {
  await fb.close();
  await sb.close();
});

describe('tokens and accounts', () => {
  it('debugToken reads validity, scopes, type and a never-expiring system-user token', async () => {
    const info = await fb.debugToken(token);
    expect(info.valid).toBe(true);
    expect(info.scopes).toContain('ads_management');
    expect(info.expiresAt).toBeNull();
    expect(info.type).toBe('SYSTEM_USER');
    expect(info.userId).toMatch(/^\d+$/);
    expect(info.appId).toBe(sb.fixtures.appId);
  });

  it('debugToken reports a user token’s expiry and an expired token as invalid', async () => {
    const user = await fb.debugToken(sb.fixtures.userToken);
    expect(user.valid).toBe(true);
    expect(user.expiresAt!.getTime()).toBeGreaterThan(Date.now() + 59 * 86_400_000);
    const expired = await fb.debugToken(sb.fixtures.expiredToken);
    expect(expired.valid).toBe(false);
    expect(expired.invalidReason).toBe('invalid');
    expect(expired.expiresAt!.getTime()).toBeLessThan(Date.now());
  });

  it('debugToken with a wrong app secret or id names the app credentials, not the token', async () => {
    for (const wrong of [{ appSecret: 'not-the-app-secret-0123456789abcdef' }, { appId: '999999999' }]) {
      const misconfigured = clientFor(sb, wrong);
      try {
        const err = await caught(misconfigured.debugToken(token));
        expect(err).toBeInstanceOf(AppCredentialsError);
        expect(err).not.toBeInstanceOf(AuthError);
        expect((err as Error).message).toMatch(/FACEBOOK_APP_ID or FACEBOOK_APP_SECRET is wrong/);
        expect((err as Error).message).not.toMatch(/reconnect|password/i);
      } finally {
        await misconfigured.close();
      }
    }
  });

  it('getPermissions splits granted from declined', async () => {
    const p = await fb.getPermissions({ token: sb.fixtures.noAdsManagementToken });
    expect(p.granted).toEqual(['ads_read']);
    expect(p.notGranted).toEqual([{ permission: 'ads_management', status: 'declined' }]);
  });

  it('listAdAccounts returns every account with its Custom Audience terms state', async () => {
    const accounts = await fb.listAdAccounts({ token });
    const byId = new Map(accounts.map((a) => [a.id, a]));
    expect(byId.get(adAccountId)?.customAudienceTermsAccepted).toBe(true);
    const without = byId.get(sb.fixtures.adAccountWithoutTermsId);
    expect(without?.customAudienceTermsAccepted).toBe(false);
    expect(without?.termsUrl).toContain(`?act=${sb.fixtures.adAccountWithoutTermsId.slice(4)}`);
  });

  it('listAdAccounts follows every page', async () => {
    const defaults = sb.fixtures;
    const userId = '100000000000001';
    const many = await startSandbox({
      port: 0,
      config: {
        adAccounts: Array.from({ length: 120 }, (_, i) => ({
          id: String(500000000000 + i),
          name: `Account ${i}`,
          tosAccepted: i % 3 !== 0,
          userIds: [userId],
        })),
      },
    });
    const c = clientFor(many);
    try {
      const accounts = await c.listAdAccounts({ token: many.fixtures.systemUserToken });
      expect(accounts).toHaveLength(120);
      expect(new Set(accounts.map((a) => a.id)).size).toBe(120);
      expect(accounts.filter((a) => a.customAudienceTermsAccepted)).toHaveLength(80);
      const log = (await (await fetch(`${many.url}/__sandbox/requests`)).json()) as { requests: { path: string }[] };
      expect(log.requests.filter((r) => r.path.includes('adaccounts')).length).toBeGreaterThanOrEqual(3);
    } finally {
      await c.close();
      await many.close();
    }
    expect(defaults.adAccountId).toBe(adAccountId);
  });

  it('getAdAccount accepts bare digits and reads terms acceptance', async () => {
    const a = await fb.getAdAccount(adAccountId.slice(4), { token });
    expect(a.id).toBe(adAccountId);
    expect(a.customAudienceTermsAccepted).toBe(true);
    const b = await fb.getAdAccount(sb.fixtures.adAccountWithoutTermsId, { token });
    expect(b.customAudienceTermsAccepted).toBe(false);
  });
});

describe('audiences', () => {
  it('creates, reads, lists page by page and deletes a customer-list audience', async () => {
    const ids = [await newAudience('a1'), await newAudience('a2'), await newAudience('a3')];
    const a = await fb.getAudience(ids[0]!, { token });
    expect(a).toMatchObject({
      id: ids[0],
      adAccountId,
      name: 'a1',
      description: 'from the client tests',
      subtype: 'CUSTOM',
      customerFileSource: 'USER_PROVIDED_ONLY',
      sizeLowerBound: expect.any(Number),
      sizeUpperBound: expect.any(Number),
    });
    expect(a.operationStatus?.code).toBeTypeOf('number');
    expect(a.deliveryStatus?.code).toBeTypeOf('number');

    const seen: string[] = [];
    let after: string | undefined;
    let pages = 0;
    do {
      const page = await fb.listAudiences(adAccountId, { limit: 2, ...(after ? { after } : {}) }, { token });
      expect(page.items.length).toBeLessThanOrEqual(2);
      seen.push(...page.items.map((x) => x.id));
      after = page.after;
      pages++;
    } while (after && pages < 50);
    expect(pages).toBeGreaterThanOrEqual(2);
    for (const id of ids) expect(seen).toContain(id);

    await fb.deleteAudience(ids[2]!, { token });
    const gone = await caught(fb.getAudience(ids[2]!, { token }));
    expect(gone).toBeInstanceOf(InvalidRequestError);
    expect((gone as InvalidRequestError).reason).toBe('audience_missing');
  });
});

describe('uploads', () => {
  it('adds in a multi-batch session, reads the session, removes, and the audience holds exactly those rows', async () => {
    const id = await newAudience();
    const sessionId = fb.newSessionId();
    const first = await fb.addUsers(
      {
        audienceId: id,
        payload: { schema: SCHEMA, data: rows(0, 30) },
        session: { sessionId, batchSeq: 1, lastBatch: false, estimatedTotal: 50 },
      },
      { token },
    );
    expect(first).toMatchObject({
      audienceId: id,
      sessionId: String(sessionId),
      numReceived: 30,
      numInvalidEntries: 0,
    });
    const second = await fb.addUsers(
      {
        audienceId: id,
        payload: { schema: SCHEMA, data: rows(30, 50) },
        session: { sessionId, batchSeq: 2, lastBatch: true },
      },
      { token },
    );
    expect(second.numReceived).toBe(50);

    const sessions = await fb.getSessions(id, sessionId, { token });
    expect(sessions).toHaveLength(1);
    expect(sessions[0]).toMatchObject({ sessionId: String(sessionId), numReceived: 50, stage: 'finished' });

    const m = await members(id);
    expect(m.schema).toEqual(SCHEMA);
    expect(sorted(m.members)).toEqual(sorted(rows(0, 50)));

    await fb.removeUsers(
      {
        audienceId: id,
        payload: { schema: SCHEMA, data: rows(0, 10) },
        session: { sessionId: fb.newSessionId(), batchSeq: 1, lastBatch: true },
      },
      { token },
    );
    expect(sorted((await members(id)).members)).toEqual(sorted(rows(10, 50)));
  });

  it('counts invalid entries and accepts DATA_PROCESSING_OPTIONS array cells', async () => {
    const id = await newAudience();
    const res = await fb.addUsers(
      {
        audienceId: id,
        payload: {
          schema: ['EMAIL', 'DATA_PROCESSING_OPTIONS'],
          data: [
            [sha('a@example.com'), ['LDU']],
            ['NOT-A-HASH', []],
          ],
        },
        session: { sessionId: fb.newSessionId(), batchSeq: 1, lastBatch: true },
      },
      { token },
    );
    expect(res.numReceived).toBe(2);
    expect(res.numInvalidEntries).toBe(1);
  });

  it('replaces all members in a session', async () => {
    const id = await newAudience();
    await fb.addUsers(
      {
        audienceId: id,
        payload: { schema: SCHEMA, data: rows(0, 20) },
        session: { sessionId: fb.newSessionId(), batchSeq: 1, lastBatch: true },
      },
      { token },
    );
    const sessionId = fb.newSessionId();
    const r1 = await fb.replaceUsers(
      {
        audienceId: id,
        payload: { schema: SCHEMA, data: rows(100, 110) },
        session: { sessionId, batchSeq: 1, lastBatch: false },
      },
      { token },
    );
    expect(r1.audienceId).toBe(id);
    expect((await fb.getAudience(id, { token })).operationStatus?.code).toBe(414);
    const r2 = await fb.replaceUsers(
      {
        audienceId: id,
        payload: { schema: SCHEMA, data: rows(110, 115) },
        session: { sessionId, batchSeq: 2, lastBatch: true },
      },
      { token },
    );
    expect(r2.numReceived).toBe(15);
    expect(sorted((await members(id)).members)).toEqual(sorted(rows(100, 115)));
  });

  it('removeFromAllAudiences removes the rows from every audience of the account', async () => {
    const a = await newAudience();
    const b = await newAudience();
    for (const id of [a, b]) {
      await fb.addUsers(
        {
          audienceId: id,
          payload: { schema: SCHEMA, data: rows(0, 5) },
          session: { sessionId: fb.newSessionId(), batchSeq: 1, lastBatch: true },
        },
        { token },
      );
    }
    const res = await fb.removeFromAllAudiences(adAccountId, { schema: SCHEMA, data: rows(0, 2) }, { token });
    expect(res.numReceived).toBe(2);
    expect(res).not.toHaveProperty('audienceId');
    expect(sorted((await members(a)).members)).toEqual(sorted(rows(2, 5)));
    expect(sorted((await members(b)).members)).toEqual(sorted(rows(2, 5)));
  });
});

describe('OAuth', () => {
  it('login dialog → code → short token → long-lived token, then debugToken on it', async () => {
    const redirectUri = 'https://app.example/facebook/callback';
    const url = fb.loginDialogUrl({ redirectUri, state: 'csrf-123', scopes: ['ads_management', 'ads_read'] });
    expect(url.startsWith(`${sb.url}/${DEFAULT_FACEBOOK_API_VERSION}/dialog/oauth?`)).toBe(true);
    const res = await fetch(url, { redirect: 'manual' });
    expect(res.status).toBe(302);
    const back = new URL(res.headers.get('location')!);
    expect(back.searchParams.get('state')).toBe('csrf-123');
    const code = back.searchParams.get('code')!;

    const short = await fb.exchangeCode({ code, redirectUri });
    expect(short.expiresAt!.getTime()).toBeGreaterThan(Date.now());
    const long = await fb.exchangeForLongLivedToken(short.accessToken);
    expect(long.accessToken).not.toBe(short.accessToken);
    expect(long.expiresAt!.getTime()).toBeGreaterThan(Date.now() + 59 * 86_400_000);
    expect((await fb.debugToken(long.accessToken)).valid).toBe(true);

    // The code is single use.
    expect(await caught(fb.exchangeCode({ code, redirectUri }))).toBeInstanceOf(InvalidRequestError);
  });
});

describe('errors as the client sees them', () => {
  it('an expired token is an AuthError with its expiry date', async () => {
    const e = await caught(fb.getAdAccount(adAccountId, { token: sb.fixtures.expiredToken }));
    expect(e).toBeInstanceOf(AuthError);
    expect((e as AuthError).reason).toBe('expired');
    expect((e as AuthError).expiredAt!.getTime()).toBeLessThan(Date.now());
    expect((e as AuthError).retryable).toBe(false);
    expect((e as Error).message).not.toContain(sb.fixtures.expiredToken);
  });

  it('an injected token expiry turns a working token into an AuthError', async () => {
    sb.faults.set({ tokenExpiry: { [sb.fixtures.userToken]: Date.now() - 1000 } });
    const e = await caught(fb.getAdAccount(adAccountId, { token: sb.fixtures.userToken }));
    expect(e).toBeInstanceOf(AuthError);
    expect((e as AuthError).reason).toBe('expired');
  });

  it('a token without ads_management gets a PermissionError naming ads_management', async () => {
    const e = await caught(fb.createAudience(adAccountId, { name: 'x' }, { token: sb.fixtures.noAdsManagementToken }));
    expect(e).toBeInstanceOf(PermissionError);
    expect((e as PermissionError).code).toBe(294);
    expect((e as Error).message).toMatch(/ads_management/);
  });

  it('an ad account without accepted terms gets a TermsNotAcceptedError with its terms URL', async () => {
    const e = await caught(fb.createAudience(sb.fixtures.adAccountWithoutTermsId, { name: 'x' }, { token }));
    expect(e).toBeInstanceOf(TermsNotAcceptedError);
    expect((e as TermsNotAcceptedError).termsUrl).toBe(
      `https://business.facebook.com/ads/manage/customaudiences/tos/?act=${sb.fixtures.adAccountWithoutTermsId.slice(4)}`,
    );
  });

  it('an unknown audience is InvalidRequestError audience_missing (100/33)', async () => {
    const e = await caught(fb.getAudience('1234567', { token }));
    expect(e).toBeInstanceOf(InvalidRequestError);
    expect((e as InvalidRequestError).code).toBe(100);
    expect((e as InvalidRequestError).subcode).toBe(33);
  });

  it('a changed schema is InvalidRequestError schema_mismatch (2650)', async () => {
    const id = await newAudience();
    const session = () => ({ sessionId: fb.newSessionId(), batchSeq: 1, lastBatch: true });
    await fb.addUsers({ audienceId: id, payload: { schema: SCHEMA, data: rows(0, 2) }, session: session() }, { token });
    const e = await caught(
      fb.addUsers(
        { audienceId: id, payload: { schema: ['EMAIL'], data: [[sha('z@example.com')]] }, session: session() },
        { token },
      ),
    );
    expect(e).toBeInstanceOf(InvalidRequestError);
    expect((e as InvalidRequestError).reason).toBe('schema_mismatch');
  });

  it('replace session errors carry the action to take', async () => {
    const id = await newAudience();
    const sessionId = fb.newSessionId();
    const notFirst = await caught(
      fb.replaceUsers(
        {
          audienceId: id,
          payload: { schema: SCHEMA, data: rows(0, 2) },
          session: { sessionId, batchSeq: 2, lastBatch: false },
        },
        { token },
      ),
    );
    expect(notFirst).toBeInstanceOf(ReplaceSessionError);
    expect((notFirst as ReplaceSessionError).action).toBe('restart_session');

    const s2 = fb.newSessionId();
    await fb.replaceUsers(
      {
        audienceId: id,
        payload: { schema: SCHEMA, data: rows(0, 2) },
        session: { sessionId: s2, batchSeq: 1, lastBatch: false },
      },
      { token },
    );
    const busy = await caught(
      fb.addUsers(
        {
          audienceId: id,
          payload: { schema: SCHEMA, data: rows(5, 6) },
          session: { sessionId: fb.newSessionId(), batchSeq: 1, lastBatch: true },
        },
        { token },
      ),
    );
    expect(busy).toBeInstanceOf(ReplaceSessionError);
    expect((busy as ReplaceSessionError).action).toBe('wait');
    expect((busy as ReplaceSessionError).retryable).toBe(true);
    expect((busy as ReplaceSessionError).retryAfterMs).toBeGreaterThan(0);

    await fb.replaceUsers(
      {
        audienceId: id,
        payload: { schema: SCHEMA, data: rows(2, 4) },
        session: { sessionId: s2, batchSeq: 2, lastBatch: true },
      },
      { token },
    );
    const finished = await caught(
      fb.replaceUsers(
        {
          audienceId: id,
          payload: { schema: SCHEMA, data: rows(4, 6) },
          session: { sessionId: s2, batchSeq: 3, lastBatch: true },
        },
        { token },
      ),
    );
    expect(finished).toBeInstanceOf(ReplaceSessionError);
    expect((finished as ReplaceSessionError).subcode).toBe(1870159);
    expect((finished as ReplaceSessionError).action).toBe('switch_to_adds');
  });

  it('a deprecated API version is a DeprecatedVersionError', async () => {
    const old = clientFor(sb, { apiVersion: 'v20.0' });
    const e = await caught(old.getAdAccount(adAccountId, { token }));
    await old.close();
    expect(e).toBeInstanceOf(DeprecatedVersionError);
    expect((e as DeprecatedVersionError).retryable).toBe(false);
  });

  it('a missing appsecret_proof is refused: the client must be configured with the app secret', async () => {
    const noSecret = clientFor(sb, { appSecret: undefined });
    const e = await caught(noSecret.getAdAccount(adAccountId, { token }));
    await noSecret.close();
    expect(e).toBeInstanceOf(InvalidRequestError);
    expect((e as InvalidRequestError).code).toBe(100);
  });

  it('throttling is a ThrottledError whose wait comes from x-business-use-case-usage, and usage is exposed', async () => {
    // Its own sandbox: a block outlives the fault setting (as Meta's does), and would hold up the other tests.
    const limited = await startSandbox({
      port: 0,
      faults: { throttle: { callsPerWindow: 2, windowMs: 3_600_000, blockMs: 180_000 } },
    });
    const seenUsage: number[] = [];
    const c = clientFor(limited, {
      onUsage: (u) =>
        seenUsage.push(
          ...Object.values(u.business)
            .flat()
            .map((e) => e.callCount),
        ),
    });
    const acct = limited.fixtures.adAccountId;
    const t = limited.fixtures.systemUserToken;
    try {
      await c.getAdAccount(acct, { token: t });
      await c.getAdAccount(acct, { token: t });
      expect(c.lastUsage(acct)?.[0]?.type).toBe('custom_audience');
      expect(c.lastUsage(acct)?.[0]?.estimatedTimeToRegainAccessMinutes).toBe(0);
      const e = await caught(c.getAdAccount(acct, { token: t }));
      expect(e).toBeInstanceOf(ThrottledError);
      expect((e as ThrottledError).retryable).toBe(true);
      expect((e as ThrottledError).waitFromHeaders).toBe(true);
      expect((e as ThrottledError).retryAfterMs).toBe(3 * 60_000);
      expect(c.lastUsage(acct)?.[0]?.estimatedTimeToRegainAccessMinutes).toBe(3);
      expect(seenUsage).toHaveLength(3);
      expect(seenUsage.at(-1)).toBe(100);
    } finally {
      await c.close();
      await limited.close();
    }
  });

  it('injected transient errors (JSON and HTML) are retryable TransientErrors', async () => {
    sb.faults.set({ transientErrorRate: 1, transientErrorKind: 'json' });
    const json = await caught(fb.getAdAccount(adAccountId, { token }));
    expect(json).toBeInstanceOf(TransientError);
    expect((json as TransientError).retryAfterMs).toBeGreaterThan(0);

    sb.faults.set({ transientErrorRate: 1, transientErrorKind: 'html' });
    const html = await caught(fb.getAdAccount(adAccountId, { token }));
    expect(html).toBeInstanceOf(TransientError);
    expect((html as TransientError).httpStatus).toBe(500);
  });

  it('injected latency beyond the timeout is a TransientError', async () => {
    sb.faults.set({ latencyMs: 1_000 });
    const slow = clientFor(sb, { timeoutMs: 200 });
    const e = await caught(slow.getAdAccount(adAccountId, { token }));
    await slow.close();
    expect(e).toBeInstanceOf(TransientError);
    expect((e as Error).message).toMatch(/timed out/);
  });

  it('a flagged audience refuses uploads (audience_flagged) and reports operation status 471', async () => {
    const id = await newAudience();
    sb.faults.set({ audienceFaults: [{ audienceId: id, kind: 'flagged', atMs: Date.now() - 1 }] });
    const e = await caught(
      fb.addUsers(
        {
          audienceId: id,
          payload: { schema: SCHEMA, data: rows(0, 2) },
          session: { sessionId: fb.newSessionId(), batchSeq: 1, lastBatch: true },
        },
        { token },
      ),
    );
    expect(e).toBeInstanceOf(InvalidRequestError);
    expect((e as InvalidRequestError).reason).toBe('audience_flagged');
    expect((await fb.getAudience(id, { token })).operationStatus?.code).toBe(471);
  });

  it('an audience deleted under us is audience_missing', async () => {
    const id = await newAudience();
    sb.faults.set({ audienceFaults: [{ audienceId: id, kind: 'deleted', atMs: Date.now() - 1 }] });
    const e = await caught(fb.getAudience(id, { token }));
    expect(e).toBeInstanceOf(InvalidRequestError);
    expect((e as InvalidRequestError).reason).toBe('audience_missing');
  });
});
