import { Agent, request, type Dispatcher } from 'undici';
import { adAccountDigits, toAdAccountId } from './ad-account-id.js';
import { appSecretProof } from './appsecret-proof.js';
import { classifyGraphError, networkError } from './errors.js';
import {
  AD_ACCOUNT_FIELDS,
  AUDIENCE_FIELDS,
  UnexpectedResponseError,
  parseAccessToken,
  parseAdAccount,
  parseAudience,
  parseDebugToken,
  parsePage,
  parsePermissions,
  parseSessions,
  parseUploadResult,
  usersRequestBody,
  type AccessToken,
  type AdAccount,
  type Audience,
  type Page,
  type Permissions,
  type SessionStatus,
  type TokenInfo,
  type UploadResult,
  type UploadSession,
  type UsersPayload,
} from './responses.js';
import { newSessionId } from './session-id.js';
import { parseUsageHeaders, type BucUsage, type GraphUsage } from './usage.js';

export interface GraphClientOptions {
  /** e.g. `https://graph.facebook.com` or the sandbox's URL; no version, no trailing slash needed. */
  graphUrl: string;
  /** Host of the login dialog, e.g. `https://www.facebook.com`. */
  dialogUrl: string;
  /** e.g. `v26.0`; every call names it explicitly (an unversioned call gets the app's default version). */
  apiVersion: string;
  /** Needed for debugToken, loginDialogUrl and the OAuth exchanges. */
  appId?: string;
  /** When set, every call carries `appsecret_proof` + `appsecret_time`; also needed for debugToken and OAuth. */
  appSecret?: string;
  /**
   * Whole-call timeout (headers and body).
   * @default 60000
   */
  timeoutMs?: number;
  /** A dispatcher to use instead of the client's own keep-alive Agent (it is then not closed by `close()`). */
  dispatcher?: Dispatcher;
  /** Called with the rate-limit headers of every response that carries them, successes and failures alike. */
  onUsage?: (usage: GraphUsage, call: { operation: string; adAccountId?: string }) => void;
  /** Clock for proofs and token expiries (tests). */
  now?: () => number;
}

/** What every call takes: the token to act with, and an optional signal that aborts the call at once. */
export interface CallOptions {
  token: string;
  signal?: AbortSignal;
}

export interface UsersInput {
  audienceId: string;
  payload: UsersPayload;
  session: UploadSession;
}

export class GraphClientConfigError extends Error {
  override readonly name = 'GraphClientConfigError';
  constructor(
    readonly missing: 'appId' | 'appSecret' | 'appId and appSecret',
    readonly operation: string,
  ) {
    super(`${operation} needs the Facebook ${missing}; set FACEBOOK_APP_ID and FACEBOOK_APP_SECRET`);
  }
}

type Query = Record<string, string | number | undefined>;

interface RequestSpec {
  method: 'GET' | 'POST' | 'DELETE';
  /** Path after the version, e.g. `123/users`. */
  path: string;
  /** A template without ids for errors and usage callbacks, e.g. `POST /{audience}/users`. */
  operation: string;
  query?: Query;
  body?: unknown;
  /** The token for the Authorization header (and the proof); undefined for the OAuth exchanges. */
  token?: string;
  signal?: AbortSignal;
  adAccountId?: string;
}

const DEFAULT_TIMEOUT_MS = 60_000;
const AD_ACCOUNTS_PAGE_SIZE = 50;
/** Meta's FAQ: big `/customaudiences` pages fail with code 1 "reduce the amount of data" (reference 1). */
export const DEFAULT_AUDIENCE_PAGE_SIZE = 20;
/** Stop following `next` after this many pages: a cursor loop must not spin forever. */
const MAX_PAGES = 1_000;

export type GraphClient = ReturnType<typeof createGraphClient>;

/**
 * A Graph API client for the calls audience-export makes (reference sections 1–4). Tokens travel only in the
 * `Authorization` header (except where Meta's GET-only endpoints need them as parameters: `debug_token`'s
 * `input_token` and the OAuth exchanges); `appsecret_proof` and `appsecret_time` go in the query string, since they
 * are not secret — they cannot be reversed and expire in 5 minutes. Payloads always go in a JSON body, also for
 * DELETE. Nothing here logs; errors carry codes and fbtrace ids, never tokens, proofs, URLs or rows.
 */
export function createGraphClient(options: GraphClientOptions) {
  const graphUrl = options.graphUrl.replace(/\/+$/, '');
  const dialogUrl = options.dialogUrl.replace(/\/+$/, '');
  const { apiVersion, appId, appSecret } = options;
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const now = options.now ?? Date.now;
  const ownAgent = options.dispatcher
    ? undefined
    : new Agent({ keepAliveTimeout: 30_000, keepAliveMaxTimeout: 300_000, connections: 32 });
  const dispatcher: Dispatcher = options.dispatcher ?? ownAgent!;
  const usageByAccount = new Map<string, BucUsage[]>();
  let lastUsageSeen: GraphUsage | undefined;

  function recordUsage(usage: GraphUsage | undefined, operation: string, adAccountId?: string): void {
    if (!usage) return;
    lastUsageSeen = usage;
    for (const [id, entries] of Object.entries(usage.business)) usageByAccount.set(id.replace(/^act_/, ''), entries);
    options.onUsage?.(usage, { operation, ...(adAccountId ? { adAccountId } : {}) });
  }

  async function call(spec: RequestSpec): Promise<unknown> {
    const query: Query = { ...spec.query };
    if (spec.token && appSecret) Object.assign(query, appSecretProof(spec.token, appSecret, now()));
    const qs = new URLSearchParams();
    for (const [k, v] of Object.entries(query)) if (v !== undefined) qs.set(k, String(v));
    const url = `${graphUrl}/${apiVersion}/${spec.path}${qs.size > 0 ? `?${qs.toString()}` : ''}`;

    const headers: Record<string, string> = { accept: 'application/json' };
    if (spec.token) headers.authorization = `Bearer ${spec.token}`;
    let body: string | undefined;
    if (spec.body !== undefined) {
      body = JSON.stringify(spec.body);
      headers['content-type'] = 'application/json';
    }

    spec.signal?.throwIfAborted();
    const timeout = AbortSignal.timeout(timeoutMs);
    const signal = spec.signal ? AbortSignal.any([spec.signal, timeout]) : timeout;

    let res: Dispatcher.ResponseData;
    let text: string;
    try {
      res = await request(url, { method: spec.method, headers, body, signal, dispatcher });
      text = await res.body.text();
    } catch (err) {
      // The caller's abort is not a Facebook failure: surface it as the caller's own reason.
      if (spec.signal?.aborted) throw spec.signal.reason;
      throw networkError(spec.operation, err, timeout.aborted);
    }

    const usage = parseUsageHeaders(res.headers);
    recordUsage(usage, spec.operation, spec.adAccountId);

    let parsed: unknown;
    try {
      parsed = text === '' ? undefined : JSON.parse(text);
    } catch {
      parsed = undefined;
    }
    if (res.statusCode >= 200 && res.statusCode < 300 && parsed !== undefined) {
      // Graph may answer 200 with an error object in a few legacy paths; treat it as the error it is.
      if (parsed !== null && typeof parsed === 'object' && 'error' in parsed) {
        throw classifyGraphError({ httpStatus: res.statusCode, body: parsed, usage, ...errCtx(spec) });
      }
      return parsed;
    }
    throw classifyGraphError({ httpStatus: res.statusCode, body: parsed, usage, ...errCtx(spec) });
  }

  const errCtx = (spec: RequestSpec) => ({
    operation: spec.operation,
    ...(spec.adAccountId ? { adAccountId: spec.adAccountId } : {}),
  });

  function requireApp(operation: string): { appId: string; appSecret: string } {
    if (!appId && !appSecret) throw new GraphClientConfigError('appId and appSecret', operation);
    if (!appId) throw new GraphClientConfigError('appId', operation);
    if (!appSecret) throw new GraphClientConfigError('appSecret', operation);
    return { appId, appSecret };
  }

  function users(
    method: 'POST' | 'DELETE',
    edge: 'users' | 'usersreplace',
    input: UsersInput,
    opts: CallOptions,
  ): Promise<UploadResult> {
    const operation = `${method} /{audience}/${edge}`;
    return call({
      method,
      path: `${encodeId(input.audienceId)}/${edge}`,
      operation,
      body: usersRequestBody(input.payload, input.session),
      ...opts,
    }).then((b) => parseUploadResult(b, operation));
  }

  async function allPages<T>(fetchPage: (after?: string) => Promise<Page<T>>): Promise<T[]> {
    const items: T[] = [];
    let after: string | undefined;
    for (let i = 0; i < MAX_PAGES; i++) {
      const page = await fetchPage(after);
      items.push(...page.items);
      if (!page.after || page.after === after) return items;
      after = page.after;
    }
    return items;
  }

  return {
    apiVersion,

    /** A fresh upload session id: a positive 48-bit random integer. */
    newSessionId,

    /** Adds rows to an audience in a session (`POST /{audience}/users`). */
    addUsers: (input: UsersInput, opts: CallOptions) => users('POST', 'users', input, opts),

    /** Removes rows from an audience (`DELETE /{audience}/users`, payload in the body). */
    removeUsers: (input: UsersInput, opts: CallOptions) => users('DELETE', 'users', input, opts),

    /** One batch of a replace session (`POST /{audience}/usersreplace`); batch 1 starts the replace. */
    replaceUsers: (input: UsersInput, opts: CallOptions) => users('POST', 'usersreplace', input, opts),

    /** Removes rows from every customer-file audience of an ad account (erasure requests). */
    async removeFromAllAudiences(
      adAccountId: string,
      payload: UsersPayload,
      opts: CallOptions,
      session?: UploadSession,
    ): Promise<Omit<UploadResult, 'audienceId'>> {
      const id = toAdAccountId(adAccountId);
      const operation = 'DELETE /{ad_account}/usersofanyaudience';
      const body = await call({
        method: 'DELETE',
        path: `${id}/usersofanyaudience`,
        operation,
        body: usersRequestBody(payload, session),
        adAccountId: id,
        ...opts,
      });
      // Here `account_id` names the ad account, not an audience.
      const { audienceId: _ignored, ...result } = parseUploadResult(body, operation);
      return result;
    },

    /** The status of one upload session (`GET /{audience}/sessions?session_id=`). */
    async getSessions(audienceId: string, sessionId: number | string, opts: CallOptions): Promise<SessionStatus[]> {
      const body = await call({
        method: 'GET',
        path: `${encodeId(audienceId)}/sessions`,
        operation: 'GET /{audience}/sessions',
        query: { session_id: sessionId },
        ...opts,
      });
      return parseSessions(body);
    },

    /**
     * Inspects a token with the app token (`appId|appSecret`, reference 2.3). `valid` is false when Meta says so
     * or when the token was issued for another app.
     */
    async debugToken(inputToken: string, opts: { signal?: AbortSignal } = {}): Promise<TokenInfo> {
      const app = requireApp('debugToken');
      const body = await call({
        method: 'GET',
        path: 'debug_token',
        operation: 'GET /debug_token',
        query: { input_token: inputToken },
        token: `${app.appId}|${app.appSecret}`,
        ...opts,
      });
      return parseDebugToken(body, app.appId);
    },

    /** The token's permissions split into granted and not granted (`GET /me/permissions`). */
    async getPermissions(opts: CallOptions): Promise<Permissions> {
      return parsePermissions(
        await call({ method: 'GET', path: 'me/permissions', operation: 'GET /me/permissions', ...opts }),
      );
    },

    /** Every ad account the token can see, across all pages, with their Custom Audience terms state. */
    listAdAccounts(opts: CallOptions): Promise<AdAccount[]> {
      const operation = 'GET /me/adaccounts';
      return allPages(async (after) =>
        parsePage(
          await call({
            method: 'GET',
            path: 'me/adaccounts',
            operation,
            query: { fields: AD_ACCOUNT_FIELDS, limit: AD_ACCOUNTS_PAGE_SIZE, after },
            ...opts,
          }),
          (item) => parseAdAccount(item, operation),
          operation,
        ),
      );
    },

    /** One ad account, including whether it accepted the Custom Audience terms and where to accept them. */
    async getAdAccount(adAccountId: string, opts: CallOptions): Promise<AdAccount> {
      const id = toAdAccountId(adAccountId);
      const operation = 'GET /{ad_account}';
      const body = await call({
        method: 'GET',
        path: id,
        operation,
        query: { fields: AD_ACCOUNT_FIELDS },
        adAccountId: id,
        ...opts,
      });
      return parseAdAccount(body, operation);
    },

    /** One page of an ad account's audiences (owned and shared; filter `subtype === 'CUSTOM'` yourself). */
    async listAudiences(
      adAccountId: string,
      page: { limit?: number; after?: string },
      opts: CallOptions,
    ): Promise<Page<Audience>> {
      const id = toAdAccountId(adAccountId);
      const operation = 'GET /{ad_account}/customaudiences';
      const body = await call({
        method: 'GET',
        path: `${id}/customaudiences`,
        operation,
        query: { fields: AUDIENCE_FIELDS, limit: page.limit ?? DEFAULT_AUDIENCE_PAGE_SIZE, after: page.after },
        adAccountId: id,
        ...opts,
      });
      return parsePage(body, (item) => parseAudience(item, operation), operation);
    },

    /** One audience with its size bounds, statuses, subtype and data source. */
    async getAudience(audienceId: string, opts: CallOptions): Promise<Audience> {
      const operation = 'GET /{audience}';
      const body = await call({
        method: 'GET',
        path: encodeId(audienceId),
        operation,
        query: { fields: AUDIENCE_FIELDS },
        ...opts,
      });
      return parseAudience(body, operation);
    },

    /** Creates a customer-list audience (`subtype=CUSTOM`, `customer_file_source=USER_PROVIDED_ONLY`). */
    async createAudience(
      adAccountId: string,
      audience: { name: string; description?: string },
      opts: CallOptions,
    ): Promise<{ id: string }> {
      const id = toAdAccountId(adAccountId);
      const operation = 'POST /{ad_account}/customaudiences';
      const body = await call({
        method: 'POST',
        path: `${id}/customaudiences`,
        operation,
        body: {
          name: audience.name,
          ...(audience.description !== undefined ? { description: audience.description } : {}),
          subtype: 'CUSTOM',
          customer_file_source: 'USER_PROVIDED_ONLY',
        },
        adAccountId: id,
        ...opts,
      });
      const created = (body as { id?: unknown } | null)?.id;
      if (typeof created !== 'string' && typeof created !== 'number') {
        throw new UnexpectedResponseError(operation, 'id');
      }
      return { id: String(created) };
    },

    /** Deletes an audience permanently (`DELETE /{audience}`). */
    async deleteAudience(audienceId: string, opts: CallOptions): Promise<void> {
      const operation = 'DELETE /{audience}';
      const body = await call({ method: 'DELETE', path: encodeId(audienceId), operation, ...opts });
      if ((body as { success?: unknown } | null)?.success !== true && body !== true) {
        throw new UnexpectedResponseError(operation, 'success: true');
      }
    },

    /** The login dialog URL (`<dialogUrl>/<version>/dialog/oauth`) for the server-side code flow. */
    loginDialogUrl(input: { redirectUri: string; state: string; scopes: string[] }): string {
      if (!appId) throw new GraphClientConfigError('appId', 'loginDialogUrl');
      const qs = new URLSearchParams({
        client_id: appId,
        redirect_uri: input.redirectUri,
        state: input.state,
        response_type: 'code',
        scope: input.scopes.join(','),
      });
      return `${dialogUrl}/${apiVersion}/dialog/oauth?${qs.toString()}`;
    },

    /** Exchanges a login code (single use; `redirectUri` byte-identical to the dialog's) for a short-lived token. */
    async exchangeCode(
      input: { code: string; redirectUri: string },
      opts: { signal?: AbortSignal } = {},
    ): Promise<AccessToken> {
      const app = requireApp('exchangeCode');
      const operation = 'GET /oauth/access_token (code)';
      const body = await call({
        method: 'GET',
        path: 'oauth/access_token',
        operation,
        query: {
          client_id: app.appId,
          client_secret: app.appSecret,
          redirect_uri: input.redirectUri,
          code: input.code,
        },
        ...opts,
      });
      return parseAccessToken(body, operation, now());
    },

    /** Exchanges a short-lived user token for a long-lived one (about 60 days). */
    async exchangeForLongLivedToken(shortToken: string, opts: { signal?: AbortSignal } = {}): Promise<AccessToken> {
      const app = requireApp('exchangeForLongLivedToken');
      const operation = 'GET /oauth/access_token (fb_exchange_token)';
      const body = await call({
        method: 'GET',
        path: 'oauth/access_token',
        operation,
        query: {
          grant_type: 'fb_exchange_token',
          client_id: app.appId,
          client_secret: app.appSecret,
          fb_exchange_token: shortToken,
        },
        ...opts,
      });
      return parseAccessToken(body, operation, now());
    },

    /** The last `custom_audience` (and other) BUC entries seen for an ad account, or undefined. */
    lastUsage(adAccountId: string): BucUsage[] | undefined {
      return usageByAccount.get(adAccountDigits(adAccountId));
    },

    /** The rate-limit headers of the most recent response that carried any. */
    lastUsageSeen: (): GraphUsage | undefined => lastUsageSeen,

    /** Closes the client's own connection pool (not a dispatcher passed in). */
    async close(): Promise<void> {
      await ownAgent?.close();
    },
  };
}

/** Graph node ids are digits (or `act_` digits); anything else must not reach a URL path unescaped. */
function encodeId(id: string): string {
  return encodeURIComponent(id);
}
