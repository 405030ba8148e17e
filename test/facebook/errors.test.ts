import { describe, expect, it } from 'vitest';
import {
  AuthError,
  DeprecatedVersionError,
  GraphApiError,
  InvalidRequestError,
  PermissionError,
  ReplaceSessionError,
  TermsNotAcceptedError,
  ThrottledError,
  TransientError,
  backoffMs,
} from '../../src/facebook/errors.js';
import { classifyGraphError, networkError, parseExpiredAt } from '../../src/facebook/classify-error.js';
import { parseUsageHeaders } from '../../src/facebook/usage.js';

const SECRET_ECHO = 'EAAsecretTOKEN b36a83701f1c3191e19722d6f90274bc1b5501fe69ebf33313e440fe4b0fe210';

function graphError(code: number, subcode?: number, extra: Record<string, unknown> = {}) {
  return {
    error: {
      // Meta's message may echo input: the classifier must never copy it.
      message: `(#${code}) something about ${SECRET_ECHO}`,
      type: 'OAuthException',
      code,
      ...(subcode === undefined ? {} : { error_subcode: subcode }),
      fbtrace_id: 'AbCdEf123',
      ...extra,
    },
  };
}

const classify = (code: number, subcode?: number, extra?: Record<string, unknown>, adAccountId?: string) =>
  classifyGraphError({
    httpStatus: 400,
    body: graphError(code, subcode, extra),
    operation: 'POST /{audience}/users',
    ...(adAccountId ? { adAccountId } : {}),
  });

describe('classifyGraphError', () => {
  it.each([
    [4, undefined],
    [17, 2446079],
    [32, undefined],
    [341, undefined],
    [613, 1487742],
    [80000, undefined],
    [80003, 2446079],
    [80014, undefined],
  ])('code %s/%s is a retryable ThrottledError with at least the base backoff', (code, sub) => {
    const e = classify(code, sub);
    expect(e).toBeInstanceOf(ThrottledError);
    expect(e.kind).toBe('throttled');
    expect(e.retryable).toBe(true);
    expect(e.retryAfterMs).toBe(30_000);
    expect((e as ThrottledError).waitFromHeaders).toBe(false);
  });

  it("reads the throttle wait from the ad account's estimated_time_to_regain_access (minutes)", () => {
    const usage = parseUsageHeaders({
      'x-business-use-case-usage': JSON.stringify({
        '42': [{ type: 'custom_audience', call_count: 100, estimated_time_to_regain_access: 7 }],
        '99': [{ type: 'custom_audience', call_count: 100, estimated_time_to_regain_access: 30 }],
      }),
    });
    const e = classifyGraphError({ httpStatus: 400, body: graphError(80003, 2446079), usage, adAccountId: 'act_42' });
    expect(e).toBeInstanceOf(ThrottledError);
    expect(e.retryAfterMs).toBe(7 * 60_000);
    expect((e as ThrottledError).waitFromHeaders).toBe(true);
    expect(e.usage).toBe(usage);
  });

  it('grows the default throttle backoff with the attempt, capped at an hour', () => {
    const at = (attempt: number) => classifyGraphError({ httpStatus: 400, body: graphError(17), attempt }).retryAfterMs;
    expect([at(1), at(2), at(3), at(20)]).toEqual([30_000, 60_000, 120_000, 3_600_000]);
    expect(backoffMs('transient', 1)).toBe(1_000);
    expect(backoffMs('transient', 10)).toBe(30_000);
  });

  it.each([[1], [2], [803]])('code %s is a retryable TransientError', (code) => {
    const e = classify(code);
    expect(e).toBeInstanceOf(TransientError);
    expect(e.retryable).toBe(true);
    expect(e.retryAfterMs).toBeGreaterThanOrEqual(1_000);
  });

  it('is_transient makes an otherwise unknown code transient', () => {
    expect(classify(1234, undefined, { is_transient: true })).toBeInstanceOf(TransientError);
    expect(classify(1234, undefined, { is_transient: false })).toBeInstanceOf(InvalidRequestError);
  });

  it('HTML pages, empty bodies and 5xx without an error object are transient; 429 without one is throttled', () => {
    for (const [status, body] of [
      [500, undefined],
      [502, undefined],
      [400, undefined],
      [200, { unexpected: true }],
    ] as const) {
      const e = classifyGraphError({ httpStatus: status, body });
      expect(e).toBeInstanceOf(TransientError);
      expect(e.httpStatus).toBe(status);
    }
    expect(classifyGraphError({ httpStatus: 429, body: undefined })).toBeInstanceOf(ThrottledError);
  });

  it.each([
    [190, undefined, 'invalid'],
    [190, 463, 'expired'],
    [190, 460, 'password_changed'],
    [190, 458, 'app_not_installed'],
    [102, undefined, 'session_invalid'],
  ])('code %s/%s is a non-retryable AuthError (%s) telling to reconnect', (code, sub, reason) => {
    const e = classify(code, sub);
    expect(e).toBeInstanceOf(AuthError);
    expect((e as AuthError).reason).toBe(reason);
    expect(e.retryable).toBe(false);
    expect(e.retryAfterMs).toBeUndefined();
    expect(e.message).toMatch(/reconnect Facebook/);
  });

  it('an expired token error carries the expiry date from Meta’s sentence, and nothing else of it', () => {
    const body = {
      error: {
        message:
          'Error validating access token: Session has expired on Tuesday, 01-Dec-26 10:00:00 PST. The current time is Wednesday, 02-Dec-26 01:00:00 PST.',
        type: 'OAuthException',
        code: 190,
        error_subcode: 463,
      },
    };
    const e = classifyGraphError({ httpStatus: 400, body }) as AuthError;
    expect(e.expiredAt?.toISOString()).toBe('2026-12-01T18:00:00.000Z');
    expect(e.message).toContain('expired on 2026-12-01T18:00:00.000Z');
    expect(e.message).not.toContain('Error validating');
  });

  it.each([[10], [200], [270], [299], [294]])('code %s is a non-retryable PermissionError', (code) => {
    const e = classify(code);
    expect(e).toBeInstanceOf(PermissionError);
    expect(e).not.toBeInstanceOf(TermsNotAcceptedError);
    expect(e.kind).toBe('permission');
    expect(e.retryable).toBe(false);
  });

  it('294 says to grant ads_management', () => {
    expect(classify(294).message).toMatch(/ads_management/);
  });

  it.each([
    [200, 1870034],
    [200, 1870090],
    [1870090, undefined],
    [2663, undefined],
    [2664, undefined],
    [2655, undefined],
  ])('code %s/%s is a TermsNotAcceptedError with the terms URL of the ad account', (code, sub) => {
    const e = classify(code, sub, {}, 'act_555');
    expect(e).toBeInstanceOf(TermsNotAcceptedError);
    expect(e).toBeInstanceOf(PermissionError);
    expect(e.kind).toBe('terms_not_accepted');
    expect(e.retryable).toBe(false);
    expect((e as TermsNotAcceptedError).termsUrl).toBe(
      'https://business.facebook.com/ads/manage/customaudiences/tos/?act=555',
    );
    expect(e.message).toContain('?act=555');
  });

  it.each([
    [100, undefined, 'other'],
    [194, undefined, 'other'],
    [2500, undefined, 'other'],
    [100, 33, 'audience_missing'],
    [1487366, undefined, 'audience_missing'],
    [100, 1713230, 'audience_flagged'],
    [2650, undefined, 'schema_mismatch'],
    [2654, 1713092, 'other'],
  ])('code %s/%s is a non-retryable InvalidRequestError (%s)', (code, sub, reason) => {
    const e = classify(code, sub);
    expect(e).toBeInstanceOf(InvalidRequestError);
    expect((e as InvalidRequestError).reason).toBe(reason);
    expect(e.retryable).toBe(false);
  });

  it.each([
    [1870144, 'switch_to_adds', false],
    [1870145, 'wait', true],
    [1870147, 'restart_session', false],
    [1870148, 'restart_session', false],
    [1870158, 'switch_to_adds', false],
    [1870159, 'switch_to_adds', false],
    [1870150, 'fail', false],
  ])('2650/%s is a ReplaceSessionError with action %s', (sub, action, retryable) => {
    const e = classify(2650, sub);
    expect(e).toBeInstanceOf(ReplaceSessionError);
    expect((e as ReplaceSessionError).subcode).toBe(sub);
    expect((e as ReplaceSessionError).action).toBe(action);
    expect(e.retryable).toBe(retryable);
    expect(e.retryAfterMs !== undefined).toBe(retryable);
  });

  it('2635 is a DeprecatedVersionError telling to change FACEBOOK_API_VERSION', () => {
    const e = classify(2635);
    expect(e).toBeInstanceOf(DeprecatedVersionError);
    expect(e.retryable).toBe(false);
    expect(e.message).toMatch(/FACEBOOK_API_VERSION/);
  });

  it('keeps code, subcode, type and fbtrace id, and never Meta’s message text', () => {
    const all = [4, 1, 190, 200, 2663, 100, 2635, 2650].map((c) => classify(c, c === 2650 ? 1870147 : 33));
    for (const e of all) {
      expect(e).toBeInstanceOf(GraphApiError);
      expect(e.fbtraceId).toBe('AbCdEf123');
      expect(e.type).toBe('OAuthException');
      expect(e.message).toContain('fbtrace_id AbCdEf123');
      expect(e.message).toContain('POST /{audience}/users');
      expect(e.message).not.toContain('EAAsecret');
      expect(e.message).not.toContain('b36a8370');
      expect(JSON.stringify(e)).not.toContain('EAAsecret');
    }
  });

  it('reads codes given as strings', () => {
    const e = classifyGraphError({ httpStatus: 400, body: { error: { code: '2650', error_subcode: '1870158' } } });
    expect(e).toBeInstanceOf(ReplaceSessionError);
  });
});

describe('networkError', () => {
  it('is transient and keeps only the cause’s class and code, not its message (which may hold a URL)', () => {
    const cause = Object.assign(new Error('connect ECONNREFUSED https://x/v26.0/1?appsecret_proof=abc'), {
      code: 'ECONNREFUSED',
    });
    const e = networkError('GET /{audience}', cause, false);
    expect(e).toBeInstanceOf(TransientError);
    expect(e.retryable).toBe(true);
    expect(e.message).toMatch(/network/);
    expect(String((e.cause as Error).message)).toBe('Error ECONNREFUSED');
    expect(networkError('GET /x', cause, true).message).toMatch(/timed out/);
  });
});

describe('parseExpiredAt', () => {
  it('handles numeric offsets and refuses what it does not know', () => {
    expect(parseExpiredAt('Session has expired on Monday, 05-Jan-26 12:30:00 +0100.')?.toISOString()).toBe(
      '2026-01-05T11:30:00.000Z',
    );
    expect(
      parseExpiredAt('Session has expired on Tue, 01 Dec 2026 18:00:00 GMT. The current time is …')?.toISOString(),
    ).toBe('2026-12-01T18:00:00.000Z');
    expect(parseExpiredAt('Session has expired on Monday, 05-Jan-26 12:30:00 XYZ.')).toBeUndefined();
    expect(parseExpiredAt('The session was invalidated')).toBeUndefined();
    expect(parseExpiredAt(undefined)).toBeUndefined();
  });
});
