import { termsUrl } from './ad-account-id.js';
import type { GraphUsage } from './usage.js';

/**
 * Typed Graph API errors (reference 6.1, 6.2, 4.5). We branch on `code` + `error_subcode` + `is_transient`, never
 * on Meta's message: it changes, and it may echo request input (tokens, hashed rows). So no error here keeps
 * Meta's message text; each carries a fixed description, the codes and the fbtrace id.
 */

export const GraphErrorKind = {
  throttled: 'throttled',
  transient: 'transient',
  auth: 'auth',
  permission: 'permission',
  termsNotAccepted: 'terms_not_accepted',
  invalidRequest: 'invalid_request',
  replaceSession: 'replace_session',
  deprecatedVersion: 'deprecated_version',
  appCredentials: 'app_credentials',
} as const;
export type GraphErrorKind = (typeof GraphErrorKind)[keyof typeof GraphErrorKind];

/** What to do after a `/usersreplace` error (reference 4.5). */
export const ReplaceAction = {
  wait: 'wait',
  restartSession: 'restart_session',
  switchToAdds: 'switch_to_adds',
  fail: 'fail',
} as const;
export type ReplaceAction = (typeof ReplaceAction)[keyof typeof ReplaceAction];

/** Base backoffs; callers that count attempts use {@link backoffMs}. */
export const THROTTLE_BASE_BACKOFF_MS = 30_000;
export const THROTTLE_MAX_BACKOFF_MS = 60 * 60_000;
export const TRANSIENT_BASE_BACKOFF_MS = 1_000;
export const TRANSIENT_MAX_BACKOFF_MS = 30_000;
/** 1870145 "audience update in progress": Meta says wait for operation status Normal. */
export const REPLACE_BUSY_WAIT_MS = 60_000;

/** Exponential backoff without jitter for attempt 1, 2, 3… (reference 6.5: 30 s, 60 s, 2 min … capped). */
export function backoffMs(kind: 'throttled' | 'transient', attempt: number): number {
  const [base, max] =
    kind === 'throttled'
      ? [THROTTLE_BASE_BACKOFF_MS, THROTTLE_MAX_BACKOFF_MS]
      : [TRANSIENT_BASE_BACKOFF_MS, TRANSIENT_MAX_BACKOFF_MS];
  return Math.min(max, base * 2 ** Math.max(0, attempt - 1));
}

/** Context every Graph error carries. None of it is secret or personal. */
export interface GraphErrorContext {
  code?: number;
  subcode?: number;
  type?: string;
  fbtraceId?: string;
  httpStatus?: number;
  isTransient?: boolean;
  /** The call that failed, e.g. `POST /{audience}/users` (a template: no ids, no query). */
  operation?: string;
  usage?: GraphUsage;
  cause?: unknown;
}

export abstract class GraphApiError extends Error {
  abstract readonly kind: GraphErrorKind;
  abstract readonly retryable: boolean;
  readonly retryAfterMs?: number;
  readonly code?: number;
  readonly subcode?: number;
  readonly type?: string;
  readonly fbtraceId?: string;
  readonly httpStatus?: number;
  readonly isTransient?: boolean;
  readonly operation?: string;
  readonly usage?: GraphUsage;

  constructor(description: string, ctx: GraphErrorContext, retryAfterMs?: number) {
    super(formatMessage(description, ctx), ctx.cause === undefined ? undefined : { cause: ctx.cause });
    this.name = new.target.name;
    this.code = ctx.code;
    this.subcode = ctx.subcode;
    this.type = ctx.type;
    this.fbtraceId = ctx.fbtraceId;
    this.httpStatus = ctx.httpStatus;
    this.isTransient = ctx.isTransient;
    this.operation = ctx.operation;
    this.usage = ctx.usage;
    if (retryAfterMs !== undefined) this.retryAfterMs = retryAfterMs;
  }
}

function formatMessage(description: string, ctx: GraphErrorContext): string {
  const codes =
    ctx.code === undefined ? '' : ` (code ${ctx.code}${ctx.subcode === undefined ? '' : `/${ctx.subcode}`})`;
  const where = ctx.operation ? `${ctx.operation}: ` : '';
  const trace = ctx.fbtraceId ? ` [fbtrace_id ${ctx.fbtraceId}]` : '';
  return `${where}${description}${codes}${trace}`;
}

export class ThrottledError extends GraphApiError {
  readonly kind = GraphErrorKind.throttled;
  readonly retryable = true;
  override readonly retryAfterMs: number;
  /** True when the wait came from Meta's headers, not from our default backoff. */
  readonly waitFromHeaders: boolean;
  constructor(ctx: GraphErrorContext, retryAfterMs: number, waitFromHeaders: boolean) {
    super(
      `Facebook rate limit reached; wait ${Math.ceil(retryAfterMs / 1000)} s before calling this ad account again (calls during a block extend it)`,
      ctx,
      retryAfterMs,
    );
    this.retryAfterMs = retryAfterMs;
    this.waitFromHeaders = waitFromHeaders;
  }
}

export class TransientError extends GraphApiError {
  readonly kind = GraphErrorKind.transient;
  readonly retryable = true;
  override readonly retryAfterMs: number;
  constructor(description: string, ctx: GraphErrorContext, retryAfterMs = TRANSIENT_BASE_BACKOFF_MS) {
    super(`${description}; retry with backoff`, ctx, retryAfterMs);
    this.retryAfterMs = retryAfterMs;
  }
}

export const AuthReason = {
  expired: 'expired',
  invalid: 'invalid',
  passwordChanged: 'password_changed',
  appNotInstalled: 'app_not_installed',
  checkpointed: 'checkpointed',
  unconfirmedUser: 'unconfirmed_user',
  sessionInvalid: 'session_invalid',
} as const;
export type AuthReason = (typeof AuthReason)[keyof typeof AuthReason];

export const AUTH_SUBCODE_REASONS: Record<number, AuthReason> = {
  458: AuthReason.appNotInstalled,
  459: AuthReason.checkpointed,
  460: AuthReason.passwordChanged,
  463: AuthReason.expired,
  464: AuthReason.unconfirmedUser,
  467: AuthReason.invalid,
  492: AuthReason.sessionInvalid,
};

export class AuthError extends GraphApiError {
  readonly kind = GraphErrorKind.auth;
  readonly retryable = false;
  readonly reason: AuthReason;
  /** When the token expired, if Meta said so (parsed from its fixed-format expiry sentence, nothing else). */
  readonly expiredAt?: Date;
  constructor(ctx: GraphErrorContext, reason: AuthReason, expiredAt?: Date) {
    const when = expiredAt ? ` on ${expiredAt.toISOString()}` : '';
    const why = reason === AuthReason.expired ? `the Facebook token expired${when}` : `the Facebook token is ${reason}`;
    super(`${why}; reconnect Facebook (log in again or issue a new system-user token)`, ctx);
    this.reason = reason;
    if (expiredAt) this.expiredAt = expiredAt;
  }
}

/**
 * Facebook refused this service's own app token (`FACEBOOK_APP_ID|FACEBOOK_APP_SECRET`, sent to `debug_token`):
 * a fault of our configuration, not of any destination's token, so no destination is to be reconnected.
 */
export class AppCredentialsError extends GraphApiError {
  readonly kind = GraphErrorKind.appCredentials;
  readonly retryable = false;
  constructor(ctx: GraphErrorContext) {
    super(
      'Facebook refused the app credentials: FACEBOOK_APP_ID or FACEBOOK_APP_SECRET is wrong (compare them with ' +
        'App settings → Basic in Meta for Developers); no destination token could be checked',
      ctx,
    );
  }
}

export class PermissionError extends GraphApiError {
  readonly kind: GraphErrorKind = GraphErrorKind.permission;
  readonly retryable = false;
  constructor(description: string, ctx: GraphErrorContext) {
    super(description, ctx);
  }
}

export class TermsNotAcceptedError extends PermissionError {
  override readonly kind = GraphErrorKind.termsNotAccepted;
  readonly termsUrl: string;
  constructor(ctx: GraphErrorContext, adAccountId?: string) {
    const url = termsUrl(adAccountId);
    super(
      `the ad account has not accepted Facebook's Custom Audience terms; a person with a role on the account must accept them at ${url}`,
      ctx,
    );
    this.termsUrl = url;
  }
}

export const InvalidRequestReason = {
  audienceMissing: 'audience_missing',
  audienceFlagged: 'audience_flagged',
  schemaMismatch: 'schema_mismatch',
  other: 'other',
} as const;
export type InvalidRequestReason = (typeof InvalidRequestReason)[keyof typeof InvalidRequestReason];

export class InvalidRequestError extends GraphApiError {
  readonly kind = GraphErrorKind.invalidRequest;
  readonly retryable = false;
  readonly reason: InvalidRequestReason;
  constructor(description: string, ctx: GraphErrorContext, reason: InvalidRequestReason = InvalidRequestReason.other) {
    super(description, ctx);
    this.reason = reason;
  }
}

const REPLACE_SUBCODES: Record<number, { action: ReplaceAction; description: string }> = {
  1870144: {
    action: ReplaceAction.switchToAdds,
    description: 'the audience has 100 million or more members, so replace is not supported; use adds and removes',
  },
  1870145: {
    action: ReplaceAction.wait,
    description: 'an audience update is in progress; wait until its operation status is Normal, then retry',
  },
  1870147: {
    action: ReplaceAction.restartSession,
    description: 'the replace session did not start with batch 1; start over with a new session id',
  },
  1870148: {
    action: ReplaceAction.restartSession,
    description: 'the replace did not fully update the audience; check its size and run the replace again',
  },
  1870158: {
    action: ReplaceAction.switchToAdds,
    description: 'the replace session passed its 90-minute window; send the remaining rows as adds',
  },
  1870159: {
    action: ReplaceAction.switchToAdds,
    description: 'the replace session already finished; send the remaining rows as adds',
  },
};

export class ReplaceSessionError extends GraphApiError {
  readonly kind = GraphErrorKind.replaceSession;
  readonly retryable: boolean;
  override readonly subcode: number;
  readonly action: ReplaceAction;
  constructor(ctx: GraphErrorContext & { subcode: number }) {
    const known = REPLACE_SUBCODES[ctx.subcode];
    const action = known?.action ?? ReplaceAction.fail;
    super(
      known?.description ?? 'Facebook refused the replace session; fail the replace',
      ctx,
      action === ReplaceAction.wait ? REPLACE_BUSY_WAIT_MS : undefined,
    );
    this.subcode = ctx.subcode;
    this.action = action;
    this.retryable = action === ReplaceAction.wait;
  }
}

export class DeprecatedVersionError extends GraphApiError {
  readonly kind = GraphErrorKind.deprecatedVersion;
  readonly retryable = false;
  constructor(ctx: GraphErrorContext) {
    super('this Graph API version is deprecated; set FACEBOOK_API_VERSION to a supported version', ctx);
  }
}
