import {
  AUTH_SUBCODE_REASONS,
  AuthError,
  AuthReason,
  DeprecatedVersionError,
  InvalidRequestError,
  InvalidRequestReason,
  PermissionError,
  ReplaceSessionError,
  TermsNotAcceptedError,
  ThrottledError,
  TransientError,
  backoffMs,
  type GraphApiError,
  type GraphErrorContext,
} from './errors.js';
import { regainAccessMs, type GraphUsage } from './usage.js';

/**
 * From Meta's error object (reference 6.1, 6.2) to the one typed error that says whether and when to retry.
 * Branches on code, subcode and is_transient only.
 */

const THROTTLE_CODES = new Set([4, 17, 32, 341, 368, 613]);
const TRANSIENT_CODES = new Set([1, 2, 803]);
const TERMS_CODES = new Set([1870034, 1870090, 2655, 2663, 2664]);
const TERMS_SUBCODES = new Set([1870034, 1870090]);
const AUDIENCE_MISSING_CODES = new Set([1487301, 1487366]);
const FLAGGED_SUBCODES = new Set([1713228, 1713230, 1713231]);

const isThrottleCode = (code: number) => THROTTLE_CODES.has(code) || (code >= 80000 && code <= 80014);

/** Meta's error object (reference 6.1), read defensively. */
export interface GraphErrorBody {
  code?: number;
  error_subcode?: number;
  type?: string;
  is_transient?: boolean;
  fbtrace_id?: string;
}

/** Extracts `error` from a parsed response body; undefined when the body carries no Graph error object. */
export function readGraphErrorBody(body: unknown): GraphErrorBody | undefined {
  if (body === null || typeof body !== 'object') return undefined;
  const error = (body as { error?: unknown }).error;
  if (error === null || typeof error !== 'object') return undefined;
  const e = error as Record<string, unknown>;
  const int = (v: unknown) => {
    const n = typeof v === 'string' && v.trim() !== '' ? Number(v) : v;
    return typeof n === 'number' && Number.isInteger(n) ? n : undefined;
  };
  return {
    code: int(e.code),
    error_subcode: int(e.error_subcode),
    type: typeof e.type === 'string' ? e.type : undefined,
    is_transient: typeof e.is_transient === 'boolean' ? e.is_transient : undefined,
    fbtrace_id: typeof e.fbtrace_id === 'string' ? e.fbtrace_id : undefined,
  };
}

/**
 * The expiry date in Meta's 190/463 sentence, "Session has expired on Tuesday, 01-Dec-26 10:00:00 PST." (also
 * accepted: an RFC 1123 date, "Tue, 01 Dec 2026 18:00:00 GMT"). Only the date is read; the rest is discarded.
 */
export function parseExpiredAt(message: unknown): Date | undefined {
  if (typeof message !== 'string') return undefined;
  const rfc1123 = /expired on ([A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} GMT)/.exec(message);
  if (rfc1123) {
    const ms = Date.parse(rfc1123[1]!);
    return Number.isNaN(ms) ? undefined : new Date(ms);
  }
  const m =
    /expired on (?:[A-Za-z]+, )?(\d{1,2})-([A-Za-z]{3})-(\d{2,4}) (\d{2}):(\d{2}):(\d{2}) ([A-Z]{2,4}|[+-]\d{4})/.exec(
      message,
    );
  if (!m) return undefined;
  const [, d, mon, y, hh, mm, ss, zone] = m as unknown as [
    string,
    string,
    string,
    string,
    string,
    string,
    string,
    string,
  ];
  const month = MONTHS.indexOf(mon.toLowerCase());
  let offsetMin: number | undefined;
  if (/^[+-]\d{4}$/.test(zone)) {
    const sign = zone.startsWith('-') ? -1 : 1;
    offsetMin = sign * (Number(zone.slice(1, 3)) * 60 + Number(zone.slice(3, 5)));
  } else if (zone in ZONE_OFFSET_HOURS) {
    offsetMin = (ZONE_OFFSET_HOURS[zone] ?? 0) * 60;
  }
  if (month < 0 || offsetMin === undefined) return undefined;
  const year = y.length === 2 ? 2000 + Number(y) : Number(y);
  const utc = Date.UTC(year, month, Number(d), Number(hh), Number(mm), Number(ss)) - offsetMin * 60_000;
  return Number.isNaN(utc) ? undefined : new Date(utc);
}

const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];
const ZONE_OFFSET_HOURS: Record<string, number> = {
  UTC: 0,
  GMT: 0,
  PST: -8,
  PDT: -7,
  MST: -7,
  MDT: -6,
  CST: -6,
  CDT: -5,
  EST: -5,
  EDT: -4,
};

export interface ClassifyInput {
  httpStatus: number;
  /** The parsed JSON body, or undefined when the body was not JSON (an HTML error page, say). */
  body: unknown;
  usage?: GraphUsage;
  operation?: string;
  /** The ad account the call concerned, when known: picks the BUC entry and the terms URL. */
  adAccountId?: string;
  /** Attempt number when the caller retries, to scale the default backoff. */
  attempt?: number;
}

/** Turns a failed response into the one typed error that says whether and when to retry. */
export function classifyGraphError(input: ClassifyInput): GraphApiError {
  const { httpStatus, usage, operation, adAccountId } = input;
  const attempt = input.attempt ?? 1;
  const e = readGraphErrorBody(input.body);
  const ctx: GraphErrorContext = {
    httpStatus,
    usage,
    operation,
    code: e?.code,
    subcode: e?.error_subcode,
    type: e?.type,
    fbtraceId: e?.fbtrace_id,
    isTransient: e?.is_transient,
  };
  const code = e?.code;

  if (code === undefined) {
    if (httpStatus === 429) return throttled(ctx, usage, adAccountId, attempt);
    // HTML "Sorry, something went wrong" pages, empty bodies, proxies' 5xx: all transient (reference 6.1, 8.14).
    return new TransientError(
      `Facebook answered HTTP ${httpStatus} without a Graph error object`,
      ctx,
      backoffMs('transient', attempt),
    );
  }
  const sub = e?.error_subcode;

  if (isThrottleCode(code)) return throttled(ctx, usage, adAccountId, attempt);
  if (code === 2650 && sub !== undefined && sub >= 1870144 && sub <= 1870159) {
    return new ReplaceSessionError({ ...ctx, subcode: sub });
  }
  if (TRANSIENT_CODES.has(code) || e?.is_transient === true) {
    return new TransientError(
      code === 803 ? 'the new audience is not writable yet' : 'Facebook reported a temporary error',
      ctx,
      code === 803 ? Math.max(2_000, backoffMs('transient', attempt)) : backoffMs('transient', attempt),
    );
  }
  if (code === 190 || code === 102) {
    const reason =
      code === 102
        ? AuthReason.sessionInvalid
        : ((sub === undefined ? undefined : AUTH_SUBCODE_REASONS[sub]) ?? AuthReason.invalid);
    const message = (input.body as { error?: { message?: unknown } }).error?.message;
    return new AuthError(ctx, reason, reason === AuthReason.expired ? parseExpiredAt(message) : undefined);
  }
  if (TERMS_CODES.has(code) || (sub !== undefined && TERMS_SUBCODES.has(sub))) {
    return new TermsNotAcceptedError(ctx, adAccountId);
  }
  if (code === 294) {
    return new PermissionError(
      'the token lacks the ads_management permission (or the app is not allowed); reconnect Facebook granting ads_management',
      ctx,
    );
  }
  if (code === 10 || (code >= 200 && code <= 299)) {
    return new PermissionError(
      'the token may not do this; make sure its user or system user has a role on the ad account that owns the audience',
      ctx,
    );
  }
  if (code === 2635) return new DeprecatedVersionError(ctx);
  if (code === 100 && sub === 33) {
    return new InvalidRequestError(
      'the audience does not exist or is not shared with this token; check the audience id and that the system user is assigned to its ad account',
      ctx,
      InvalidRequestReason.audienceMissing,
    );
  }
  if (AUDIENCE_MISSING_CODES.has(code)) {
    return new InvalidRequestError(
      'the audience was deleted or is not shared with this ad account; choose or create another audience',
      ctx,
      InvalidRequestReason.audienceMissing,
    );
  }
  if (code === 100 && sub !== undefined && FLAGGED_SUBCODES.has(sub)) {
    return new InvalidRequestError(
      'the audience is flagged by Facebook (operation status 471) and cannot be changed; resolve it in Audience Manager',
      ctx,
      InvalidRequestReason.audienceFlagged,
    );
  }
  if (code === 2650) {
    return new InvalidRequestError(
      "Facebook refused to update the audience (often a schema different from the audience's first upload)",
      ctx,
      InvalidRequestReason.schemaMismatch,
    );
  }
  return new InvalidRequestError('Facebook rejected the request as invalid; this needs a code or data fix', ctx);
}

function throttled(
  ctx: GraphErrorContext,
  usage: GraphUsage | undefined,
  adAccountId: string | undefined,
  attempt: number,
): ThrottledError {
  const fromHeaders = regainAccessMs(usage, adAccountId);
  const backoff = backoffMs('throttled', attempt);
  // Reference 6.5: max(Meta's regain time, our backoff), so a 0-minute header never makes us hammer.
  return new ThrottledError(
    ctx,
    Math.max(fromHeaders ?? 0, backoff),
    fromHeaders !== undefined && fromHeaders >= backoff,
  );
}

/** A network failure or our own timeout: transient by definition (the request may or may not have arrived). */
export function networkError(operation: string, cause: unknown, timedOut: boolean, attempt = 1): TransientError {
  return new TransientError(
    timedOut ? 'the call to Facebook timed out' : 'the call to Facebook failed on the network',
    { operation, cause: sanitizeCause(cause) },
    backoffMs('transient', attempt),
  );
}

/** Keep only the error's class and code: undici's messages can include the URL, and our URLs carry proofs. */
function sanitizeCause(cause: unknown): Error | undefined {
  if (!(cause instanceof Error)) return undefined;
  const code = (cause as { code?: unknown }).code;
  const safe = new Error(`${cause.name}${typeof code === 'string' ? ` ${code}` : ''}`);
  safe.name = cause.name;
  return safe;
}
