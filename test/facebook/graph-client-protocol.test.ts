import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { appSecretProof } from '../../src/facebook/appsecret-proof.js';
import { AuthError, TransientError } from '../../src/facebook/errors.js';
import { createGraphClient, type GraphClient } from '../../src/facebook/graph-client.js';
import type { GraphUsage } from '../../src/facebook/usage.js';

/**
 * Wire-level behaviour the sandbox cannot show (what exactly goes on the wire, timeouts, aborts, connection
 * reuse), against a small recording HTTP server. Graph semantics are tested against the sandbox.
 */

interface Seen {
  method: string;
  url: URL;
  headers: IncomingMessage['headers'];
  body: string;
  socketPort: number;
}

type Handler = (req: Seen, res: ServerResponse) => void;

let server: Server;
let baseUrl: string;
let seen: Seen[] = [];
let handler: Handler;

const json = (res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) => {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
};

beforeAll(async () => {
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const s: Seen = {
        method: req.method ?? '',
        url: new URL(req.url ?? '/', 'http://x'),
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
        socketPort: req.socket.remotePort ?? 0,
      };
      seen.push(s);
      handler(s, res);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

beforeEach(() => {
  seen = [];
  handler = (_req, res) =>
    json(res, 200, { audience_id: '1', session_id: '2', num_received: 1, num_invalid_entries: 0 });
});

const TOKEN = 'EAAprotocolTOKEN0001';
const SECRET = 'protocol-app-secret-0123456789';
const NOW = 1_760_000_000_000;

function client(extra: Partial<Parameters<typeof createGraphClient>[0]> = {}): GraphClient {
  return createGraphClient({
    graphUrl: `${baseUrl}/`,
    dialogUrl: 'https://www.facebook.com',
    apiVersion: 'v26.0',
    appId: '900',
    appSecret: SECRET,
    now: () => NOW,
    ...extra,
  });
}

const input = {
  audienceId: '23850',
  payload: { schema: ['EMAIL', 'DATA_PROCESSING_OPTIONS'], data: [['a'.repeat(64), ['LDU']] as (string | string[])[]] },
  session: { sessionId: 123456789012, batchSeq: 1, lastBatch: true },
};

describe('graph client on the wire', () => {
  it('removeUsers sends DELETE with the payload in a JSON body, the token only in Authorization, the proof in the query', async () => {
    const c = client();
    await c.removeUsers(input, { token: TOKEN });
    await c.close();
    const [req] = seen;
    expect(req!.method).toBe('DELETE');
    expect(req!.url.pathname).toBe('/v26.0/23850/users');
    expect(req!.headers.authorization).toBe(`Bearer ${TOKEN}`);
    expect(req!.headers['content-type']).toBe('application/json');
    expect(JSON.parse(req!.body)).toEqual({
      payload: { schema: ['EMAIL', 'DATA_PROCESSING_OPTIONS'], is_raw: true, data: [['a'.repeat(64), ['LDU']]] },
      session: { session_id: 123456789012, batch_seq: 1, last_batch_flag: true },
    });
    const proof = appSecretProof(TOKEN, SECRET, NOW);
    expect(Object.fromEntries(req!.url.searchParams)).toEqual(proof);
    expect(req!.url.search).not.toContain(TOKEN);
  });

  it('the OAuth exchanges send the app secret, the code and the short token in a POST form, never in the URL', async () => {
    handler = (_req, res) => json(res, 200, { access_token: 'EAAlong', token_type: 'bearer', expires_in: 60 });
    const c = client();
    await c.exchangeCode({ code: 'the-code', redirectUri: 'https://api.example/facebook/callback' });
    await c.exchangeForLongLivedToken('EAAshort');
    await c.close();
    expect(seen.map((r) => [r.method, r.url.pathname, r.url.search])).toEqual([
      ['POST', '/v26.0/oauth/access_token', ''],
      ['POST', '/v26.0/oauth/access_token', ''],
    ]);
    for (const r of seen) expect(r.headers['content-type']).toBe('application/x-www-form-urlencoded');
    expect(Object.fromEntries(new URLSearchParams(seen[0]!.body))).toEqual({
      client_id: '900',
      client_secret: SECRET,
      redirect_uri: 'https://api.example/facebook/callback',
      code: 'the-code',
    });
    expect(Object.fromEntries(new URLSearchParams(seen[1]!.body))).toEqual({
      grant_type: 'fb_exchange_token',
      client_id: '900',
      client_secret: SECRET,
      fb_exchange_token: 'EAAshort',
    });
  });

  it('sends no proof when no app secret is configured', async () => {
    const c = client({ appSecret: undefined });
    await c.addUsers(input, { token: TOKEN });
    await c.close();
    expect(seen[0]!.url.search).toBe('');
    expect(seen[0]!.method).toBe('POST');
  });

  it('reuses pooled keep-alive connections for sequential calls', async () => {
    const c = client();
    for (let i = 0; i < 10; i++) await c.addUsers(input, { token: TOKEN });
    await c.close();
    // undici may alternate between two pooled sockets, but it never opens one per call.
    expect(seen).toHaveLength(10);
    expect(new Set(seen.map((s) => s.socketPort)).size).toBeLessThanOrEqual(2);
  });

  it('times out a call that hangs, as a retryable TransientError', async () => {
    handler = () => {
      /* never answers */
    };
    const c = client({ timeoutMs: 200 });
    const err = await c.getAudience('1', { token: TOKEN }).catch((e: unknown) => e);
    await c.close();
    expect(err).toBeInstanceOf(TransientError);
    expect((err as TransientError).message).toMatch(/timed out/);
    expect((err as TransientError).retryable).toBe(true);
  });

  it("aborts at once on the caller's signal, with the caller's reason (not a Facebook error)", async () => {
    handler = () => {
      /* never answers */
    };
    const c = client({ timeoutMs: 10_000 });
    const controller = new AbortController();
    const pending = c.getAudience('1', { token: TOKEN, signal: controller.signal }).catch((e: unknown) => e);
    setTimeout(() => controller.abort(new Error('consent withdrawn')), 50);
    const err = await pending;
    await c.close();
    expect(err).toBeInstanceOf(Error);
    expect((err as Error).message).toBe('consent withdrawn');
    expect(err).not.toBeInstanceOf(TransientError);
  });

  it('reads at most maxResponseBytes of an answer, whether declared by Content-Length or streamed', async () => {
    const c = client({ maxResponseBytes: 1_000 });
    const big = JSON.stringify({ id: '1', name: 'x'.repeat(5_000) });
    handler = (_req, res) => json(res, 200, JSON.parse(big));
    const declared = await c.getAudience('1', { token: TOKEN }).catch((e: unknown) => e);
    expect(declared).toBeInstanceOf(TransientError);
    expect((declared as Error).message).toMatch(/larger than 1000 bytes and was not read/);
    // Chunked, no Content-Length: refused once the 1,001st byte arrives.
    handler = (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      for (let i = 0; i < big.length; i += 500) res.write(big.slice(i, i + 500));
      res.end();
    };
    expect(await c.getAudience('1', { token: TOKEN }).catch((e: unknown) => e)).toBeInstanceOf(TransientError);
    // An answer within the cap reads as before.
    handler = (_req, res) => json(res, 200, { id: '1', name: 'small', subtype: 'CUSTOM' });
    expect((await c.getAudience('1', { token: TOKEN })).id).toBe('1');
    await c.close();
  });

  it('treats an HTML error page as transient and a connection refusal as transient', async () => {
    handler = (_req, res) => {
      res.writeHead(500, { 'content-type': 'text/html' });
      res.end('<html><body>Sorry, something went wrong.</body></html>');
    };
    const c = client();
    const err = await c.getAudience('1', { token: TOKEN }).catch((e: unknown) => e);
    await c.close();
    expect(err).toBeInstanceOf(TransientError);
    expect((err as TransientError).httpStatus).toBe(500);

    const dead = createGraphClient({ graphUrl: 'http://127.0.0.1:1', dialogUrl: 'x', apiVersion: 'v26.0' });
    const refused = await dead.getAudience('1', { token: TOKEN }).catch((e: unknown) => e);
    await dead.close();
    expect(refused).toBeInstanceOf(TransientError);
    expect((refused as Error).message).not.toContain(TOKEN);
  });

  it('exposes rate-limit headers of every response, failures included, per ad account', async () => {
    const usageHeader = JSON.stringify({
      '42': [
        {
          type: 'custom_audience',
          call_count: 96,
          total_cputime: 1,
          total_time: 1,
          estimated_time_to_regain_access: 0,
        },
      ],
    });
    handler = (req, res) =>
      req.url.pathname.endsWith('/users')
        ? json(
            res,
            200,
            { audience_id: '1', num_received: 1, num_invalid_entries: 0 },
            { 'x-business-use-case-usage': usageHeader },
          )
        : json(
            res,
            400,
            { error: { code: 190, error_subcode: 463, type: 'OAuthException', message: `bad ${TOKEN}` } },
            { 'x-app-usage': '{"call_count":12,"total_time":3,"total_cputime":4}' },
          );
    const observed: Array<{ usage: GraphUsage; operation: string }> = [];
    const c = client({ onUsage: (usage, call) => observed.push({ usage, operation: call.operation }) });
    await c.addUsers(input, { token: TOKEN });
    expect(c.lastUsage('act_42')?.[0]).toMatchObject({ type: 'custom_audience', callCount: 96 });
    const err = await c.getAudience('1', { token: TOKEN }).catch((e: unknown) => e);
    await c.close();
    expect(err).toBeInstanceOf(AuthError);
    expect((err as AuthError).usage?.app?.callCount).toBe(12);
    expect((err as Error).message).not.toContain(TOKEN);
    expect(observed.map((o) => o.operation)).toEqual(['POST /{audience}/users', 'GET /{audience}']);
    expect(c.lastUsageSeen()?.app?.callCount).toBe(12);
  });

  it('builds the versioned login dialog URL on the dialog host', () => {
    const url = new URL(
      client({ dialogUrl: 'https://www.facebook.com/' }).loginDialogUrl({
        redirectUri: 'https://app.example/cb?x=1',
        state: 's t',
        scopes: ['ads_management', 'ads_read'],
      }),
    );
    expect(url.origin + url.pathname).toBe('https://www.facebook.com/v26.0/dialog/oauth');
    expect(Object.fromEntries(url.searchParams)).toEqual({
      client_id: '900',
      redirect_uri: 'https://app.example/cb?x=1',
      state: 's t',
      response_type: 'code',
      scope: 'ads_management,ads_read',
    });
    expect(() => client({ appId: undefined }).loginDialogUrl({ redirectUri: 'x', state: 'y', scopes: [] })).toThrow(
      /FACEBOOK_APP_ID/,
    );
  });
});
