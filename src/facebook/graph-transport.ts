import { Agent, request, type Dispatcher } from 'undici';
import { adAccountDigits } from './ad-account-id.js';
import { appSecretProof } from './appsecret-proof.js';
import { classifyGraphError, networkError } from './classify-error.js';
import { ThrottledError, TransientError } from './errors.js';
import { parseUsageHeaders, type BucUsage, type GraphUsage } from './usage.js';

export interface GraphClientOptions {
  /** e.g. `https://graph.facebook.com` or the sandbox's URL; no version. */
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
   * Whole-call timeout (connect, headers and body).
   * @default 60000
   */
  timeoutMs?: number;
  /** A dispatcher to use instead of the client's own keep-alive Agent (it is then not closed by `close()`). */
  dispatcher?: Dispatcher;
  /** Called with the rate-limit headers of every response that carries them, successes and failures alike. */
  onUsage?: (usage: GraphUsage, call: { operation: string; adAccountId?: string }) => void;
  /**
   * A response header whose value (milliseconds), when present on a throttled answer, replaces the computed wait.
   * Meta sends none; the local sandbox sends `x-sandbox-retry-after-ms` so demos and tests can use short blocks.
   */
  retryAfterHeader?: string;
  /** Clock for proofs and token expiries (tests). */
  now?: () => number;
  /**
   * The most bytes of a response body read; a larger answer is abandoned as a TransientError. Graph's answers to
   * our calls are a few kilobytes (a page of 50 audiences is about 50 KB).
   * @default 8 MiB
   */
  maxResponseBytes?: number;
}

/** What every call takes: the token to act with, and an optional signal that aborts the call at once. */
export interface CallOptions {
  token: string;
  signal?: AbortSignal;
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

export interface RequestSpec {
  method: 'GET' | 'POST' | 'DELETE';
  /** Path after the version, e.g. `123/users`. */
  path: string;
  /** A template without ids for errors and usage callbacks, e.g. `POST /{audience}/users`. */
  operation: string;
  query?: Record<string, string | number | undefined>;
  body?: unknown;
  /** Sent as an application/x-www-form-urlencoded body instead of `body` (the OAuth exchanges' secrets). */
  form?: Record<string, string>;
  /** The token for the Authorization header (and the proof); undefined for the OAuth exchanges. */
  token?: string;
  signal?: AbortSignal;
  /** The ad account the call concerns, when known: picks the throttle wait and the terms URL of errors. */
  adAccountId?: string;
}

const DEFAULT_TIMEOUT_MS = 60_000;
export const DEFAULT_MAX_RESPONSE_BYTES = 8 * 1024 * 1024;

class ResponseTooLarge extends Error {}

/** The body as text, refused past `max` bytes (by Content-Length at once, else while it streams). */
async function readCapped(res: Dispatcher.ResponseData, max: number): Promise<string> {
  const declared = Number(res.headers['content-length']);
  if (Number.isFinite(declared) && declared > max) {
    res.body.destroy();
    throw new ResponseTooLarge();
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of res.body) {
    size += (chunk as Buffer).length;
    if (size > max) {
      res.body.destroy();
      throw new ResponseTooLarge();
    }
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks, size).toString('utf8');
}

export type GraphTransport = ReturnType<typeof createGraphTransport>;

/**
 * One Graph API request: versioned URL, bearer token, time-stamped `appsecret_proof` in the query string (not
 * secret: irreversible and valid 5 minutes), JSON body (also for DELETE), a timeout, the caller's abort signal,
 * usage headers read on every response, and typed errors. One keep-alive Agent per client. Nothing here logs.
 */
export function createGraphTransport(options: GraphClientOptions) {
  const graphUrl = options.graphUrl.replace(/\/+$/, '');
  const { apiVersion, appId, appSecret } = options;
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const maxResponseBytes = options.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES;
  const now = options.now ?? Date.now;
  const ownAgent = options.dispatcher
    ? undefined
    : new Agent({ keepAliveTimeout: 30_000, keepAliveMaxTimeout: 300_000, connections: 32 });
  const dispatcher: Dispatcher = options.dispatcher ?? ownAgent!;
  const usageByAccount = new Map<string, BucUsage[]>();
  let lastUsageSeen: GraphUsage | undefined;

  function recordUsage(usage: GraphUsage | undefined, spec: RequestSpec): void {
    if (!usage) return;
    lastUsageSeen = usage;
    for (const [id, entries] of Object.entries(usage.business)) usageByAccount.set(id.replace(/^act_/, ''), entries);
    options.onUsage?.(usage, {
      operation: spec.operation,
      ...(spec.adAccountId ? { adAccountId: spec.adAccountId } : {}),
    });
  }

  async function call(spec: RequestSpec): Promise<unknown> {
    const query = { ...spec.query };
    if (spec.token && appSecret) Object.assign(query, appSecretProof(spec.token, appSecret, now()));
    const qs = new URLSearchParams();
    for (const [k, v] of Object.entries(query)) if (v !== undefined) qs.set(k, String(v));
    const url = `${graphUrl}/${apiVersion}/${spec.path}${qs.size > 0 ? `?${qs.toString()}` : ''}`;

    const headers: Record<string, string> = { accept: 'application/json' };
    if (spec.token) headers.authorization = `Bearer ${spec.token}`;
    let body: string | undefined;
    if (spec.form !== undefined) {
      body = new URLSearchParams(spec.form).toString();
      headers['content-type'] = 'application/x-www-form-urlencoded';
    } else if (spec.body !== undefined) {
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
      text = await readCapped(res, maxResponseBytes);
    } catch (err) {
      if (err instanceof ResponseTooLarge) {
        throw new TransientError(`Facebook's answer was larger than ${maxResponseBytes} bytes and was not read`, {
          operation: spec.operation,
        });
      }
      // The caller's abort is not a Facebook failure: surface it as the caller's own reason.
      if (spec.signal?.aborted) throw spec.signal.reason;
      throw networkError(spec.operation, err, timeout.aborted);
    }

    const usage = parseUsageHeaders(res.headers);
    recordUsage(usage, spec);

    let parsed: unknown;
    try {
      parsed = text === '' ? undefined : JSON.parse(text);
    } catch {
      parsed = undefined;
    }
    const ok = res.statusCode >= 200 && res.statusCode < 300 && parsed !== undefined;
    // Graph may answer 200 with an error object on a few legacy paths; that is still an error.
    if (ok && !(parsed !== null && typeof parsed === 'object' && 'error' in parsed)) return parsed;
    const error = classifyGraphError({
      httpStatus: res.statusCode,
      body: parsed,
      usage,
      operation: spec.operation,
      ...(spec.adAccountId ? { adAccountId: spec.adAccountId } : {}),
    });
    const retryAfter = options.retryAfterHeader ? Number(res.headers[options.retryAfterHeader.toLowerCase()]) : NaN;
    if (error instanceof ThrottledError && Number.isFinite(retryAfter) && retryAfter >= 0) {
      throw new ThrottledError(
        {
          code: error.code,
          subcode: error.subcode,
          type: error.type,
          fbtraceId: error.fbtraceId,
          operation: error.operation,
          usage,
        },
        retryAfter,
        true,
      );
    }
    throw error;
  }

  return {
    call,
    apiVersion,
    now,

    /** The app id and secret, or a GraphClientConfigError naming what is missing. */
    requireApp: (operation: string): { appId: string; appSecret: string } => {
      if (!appId && !appSecret) throw new GraphClientConfigError('appId and appSecret', operation);
      if (!appId) throw new GraphClientConfigError('appId', operation);
      if (!appSecret) throw new GraphClientConfigError('appSecret', operation);
      return { appId, appSecret };
    },

    /** The last BUC entries (e.g. `custom_audience`) seen for an ad account, or undefined. */
    lastUsage: (adAccountId: string): BucUsage[] | undefined => usageByAccount.get(adAccountDigits(adAccountId)),

    /** The rate-limit headers of the most recent response that carried any. */
    lastUsageSeen: (): GraphUsage | undefined => lastUsageSeen,

    /** Closes the client's own connection pool (not a dispatcher passed in). */
    close: async (): Promise<void> => {
      await ownAgent?.close();
    },
  };
}

/** Graph node ids are digits; anything else must not reach a URL path unescaped. */
export const encodeId = (id: string): string => encodeURIComponent(id);
