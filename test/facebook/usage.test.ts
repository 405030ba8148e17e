import { describe, expect, it } from 'vitest';
import { bucUsageFor, parseUsageHeaders, regainAccessMs } from '../../src/facebook/usage.js';

const buc = (entries: Record<string, unknown>) => JSON.stringify(entries);

describe('parseUsageHeaders', () => {
  it('parses all three headers, case-insensitively, into camelCase numbers', () => {
    const usage = parseUsageHeaders({
      'X-Business-Use-Case-Usage': buc({
        '1001': [
          {
            type: 'custom_audience',
            call_count: 28,
            total_cputime: 10,
            total_time: 12,
            estimated_time_to_regain_access: 0,
            ads_api_access_tier: 'standard_access',
          },
        ],
      }),
      'x-app-usage': '{"call_count":5,"total_time":3,"total_cputime":2}',
      'X-AD-ACCOUNT-USAGE':
        '{"acc_id_util_pct":9.67,"reset_time_duration":100,"ads_api_access_tier":"standard_access"}',
    });
    expect(usage).toEqual({
      business: {
        '1001': [
          {
            type: 'custom_audience',
            callCount: 28,
            totalCputime: 10,
            totalTime: 12,
            estimatedTimeToRegainAccessMinutes: 0,
            accessTier: 'standard_access',
          },
        ],
      },
      app: { callCount: 5, totalTime: 3, totalCputime: 2 },
      adAccount: { utilPct: 9.67, resetTimeDurationSeconds: 100, accessTier: 'standard_access' },
    });
  });

  it('returns undefined without headers and drops malformed ones without failing', () => {
    expect(parseUsageHeaders({ 'content-type': 'application/json' })).toBeUndefined();
    expect(parseUsageHeaders({ 'x-business-use-case-usage': 'not json', 'x-app-usage': '[1,2]' })).toBeUndefined();
    const usage = parseUsageHeaders({
      'x-business-use-case-usage': 'oops',
      'x-app-usage': '{"call_count":"7"}',
    });
    expect(usage).toEqual({ business: {}, app: { callCount: 7, totalTime: 0, totalCputime: 0 } });
  });

  it('accepts a single entry object where Meta documents an array', () => {
    const usage = parseUsageHeaders({
      'x-business-use-case-usage': buc({ '5': { type: 'custom_audience', call_count: 100 } }),
    });
    expect(usage?.business['5']?.[0]?.callCount).toBe(100);
  });
});

describe('regainAccessMs', () => {
  const usage = parseUsageHeaders({
    'x-business-use-case-usage': buc({
      '1001': [{ type: 'custom_audience', call_count: 100, estimated_time_to_regain_access: 5 }],
      '2002': [{ type: 'custom_audience', call_count: 100, estimated_time_to_regain_access: 12 }],
    }),
  });

  it("reads the named ad account's wait in minutes, with or without act_", () => {
    expect(regainAccessMs(usage, 'act_1001')).toBe(5 * 60_000);
    expect(regainAccessMs(usage, '1001')).toBe(5 * 60_000);
    expect(bucUsageFor(usage, 'act_2002')?.[0]?.estimatedTimeToRegainAccessMinutes).toBe(12);
  });

  it('takes the longest wait when the account is unknown or absent', () => {
    expect(regainAccessMs(usage)).toBe(12 * 60_000);
    expect(regainAccessMs(usage, 'act_3003')).toBe(12 * 60_000);
  });

  it('falls back to x-ad-account-usage reset time when that account is used up, else nothing', () => {
    const full = parseUsageHeaders({ 'x-ad-account-usage': '{"acc_id_util_pct":100,"reset_time_duration":90}' });
    expect(regainAccessMs(full)).toBe(90_000);
    const partial = parseUsageHeaders({ 'x-ad-account-usage': '{"acc_id_util_pct":50,"reset_time_duration":90}' });
    expect(regainAccessMs(partial)).toBeUndefined();
    expect(regainAccessMs(undefined)).toBeUndefined();
  });
});
