import { createHash, createHmac } from 'node:crypto';
import { request } from 'undici';
import type { MembersPage } from '../../src/sandbox/admin.js';
import type { BucUsageEntry } from '../../src/sandbox/rules/throttle.js';
import { startSandbox, type Sandbox, type SandboxOptions } from '../../src/sandbox/server.js';
import type { RequestLogEntry } from '../../src/sandbox/world.js';

export const VERSION = 'v25.0';

// Graph answers are untyped JSON; tests read them field by field.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;

export interface CallResult {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Json;
  text: string;
}

export interface CallOptions {
  token?: string | null;
  body?: unknown;
  form?: Record<string, string>;
  /** false: no proof; 'stale': a proof 10 minutes old; 'bad': a wrong proof. */
  proof?: boolean | 'stale' | 'bad' | 'classic';
  version?: string | null;
  /** Where the token goes. @default 'header' */
  tokenIn?: 'header' | 'query';
}

export function sha(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/** A Graph call over real HTTP, with a Bearer token and a time-stamped appsecret_proof by default. */
export async function graph(
  sb: Sandbox,
  method: 'GET' | 'POST' | 'DELETE',
  path: string,
  o: CallOptions = {},
): Promise<CallResult> {
  const token = o.token === undefined ? sb.fixtures.systemUserToken : o.token;
  const url = new URL(`${sb.url}/${o.version === null ? '' : `${o.version ?? VERSION}/`}${path}`);
  if (token && o.proof !== false) {
    const nowS = Math.floor(sb.state.now() / 1000) - (o.proof === 'stale' ? 600 : 0);
    const secret = o.proof === 'bad' ? 'not-the-secret-000' : sb.fixtures.appSecret;
    if (o.proof === 'classic') {
      url.searchParams.set('appsecret_proof', createHmac('sha256', secret).update(token).digest('hex'));
    } else {
      url.searchParams.set('appsecret_proof', createHmac('sha256', secret).update(`${token}|${nowS}`).digest('hex'));
      url.searchParams.set('appsecret_time', String(nowS));
    }
  }
  const headers: Record<string, string> = {};
  if (token && o.tokenIn === 'query') url.searchParams.set('access_token', token);
  else if (token) headers.authorization = `Bearer ${token}`;
  let body: string | undefined;
  if (o.form) {
    headers['content-type'] = 'application/x-www-form-urlencoded';
    body = new URLSearchParams(o.form).toString();
  } else if (o.body !== undefined) {
    headers['content-type'] = 'application/json';
    body = JSON.stringify(o.body);
  }
  const res = await request(url, { method, headers, body });
  const text = await res.body.text();
  let parsed: unknown = undefined;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = undefined;
  }
  return { status: res.statusCode, headers: res.headers, body: parsed, text };
}

export async function admin(sb: Sandbox, method: 'GET' | 'PUT', path: string, body?: unknown): Promise<Json> {
  const res = await request(`${sb.url}/__sandbox/${path}`, {
    method,
    ...(body !== undefined ? { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) } : {}),
  });
  return res.body.json();
}

/** A mutable clock for session windows and expiries. */
export function testClock(start = Date.now()) {
  let t = start;
  return { now: () => t, advance: (ms: number) => void (t += ms) };
}

export async function withSandbox(options: SandboxOptions = {}): Promise<Sandbox> {
  return startSandbox(options);
}

export async function createAudience(sb: Sandbox, extra: Record<string, unknown> = {}): Promise<string> {
  const res = await graph(sb, 'POST', `${sb.fixtures.adAccountId}/customaudiences`, {
    body: { name: 'Test audience', subtype: 'CUSTOM', customer_file_source: 'USER_PROVIDED_ONLY', ...extra },
  });
  if (res.status !== 200) throw new Error(`create failed: ${res.text}`);
  return (res.body as { id: string }).id;
}

/** A distinct valid 64-hex hash per label. */
export const h = (label: string | number) => sha(`sandbox-test-${label}`);

export function expectGraphError(res: CallResult, code: number, subcode?: number): void {
  const err = (
    res.body as {
      error?: { code: number; error_subcode?: number; fbtrace_id?: string; type?: string; message?: string };
    }
  )?.error;
  if (!err || err.code !== code || (subcode !== undefined && err.error_subcode !== subcode)) {
    throw new Error(
      `expected Graph error ${code}${subcode ? `/${subcode}` : ''}, got ${res.status} ${res.text.slice(0, 300)}`,
    );
  }
  if (typeof err.fbtrace_id !== 'string' || typeof err.type !== 'string' || typeof err.message !== 'string') {
    throw new Error(`error lacks Facebook's shape: ${res.text}`);
  }
}

export async function members(sb: Sandbox, audienceId: string, query = 'limit=10000'): Promise<MembersPage> {
  return (
    await request(`${sb.url}/__sandbox/audiences/${audienceId}/members?${query}`)
  ).body.json() as Promise<MembersPage>;
}

export async function requestLog(sb: Sandbox, since = 0): Promise<RequestLogEntry[]> {
  const res = await request(`${sb.url}/__sandbox/requests?since=${since}`);
  return ((await res.body.json()) as { requests: RequestLogEntry[] }).requests;
}

/** The custom_audience entry of `x-business-use-case-usage` for an ad account. */
export function bucUsage(res: CallResult, accountDigits: string): BucUsageEntry | undefined {
  const header = res.headers['x-business-use-case-usage'];
  if (typeof header !== 'string') return undefined;
  return (JSON.parse(header) as Record<string, BucUsageEntry[]>)[accountDigits]?.[0];
}
