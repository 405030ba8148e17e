import { describe, expect, it } from 'vitest';
import {
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
} from '../../src/facebook/responses.js';

const OP = 'POST /{audience}/users';

describe('parseUploadResult', () => {
  it('reads audience_id and the counts; session_id stays the string Meta returns', () => {
    expect(
      parseUploadResult(
        {
          audience_id: '238500',
          session_id: '9778993',
          num_received: 10000,
          num_invalid_entries: 12,
          invalid_entry_samples: { abc: 'invalid hash' },
        },
        OP,
      ),
    ).toEqual({
      audienceId: '238500',
      sessionId: '9778993',
      numReceived: 10000,
      numInvalidEntries: 12,
      invalidEntrySamples: [{ sample: 'abc', reason: 'invalid hash' }],
    });
  });

  it('accepts account_id for the audience (the replace doc prose) and [] or {} for no samples', () => {
    const a = parseUploadResult(
      { account_id: '1', session_id: 5, num_received: '3', num_invalid_entries: 0, invalid_entry_samples: [] },
      OP,
    );
    expect(a).toEqual({
      audienceId: '1',
      sessionId: '5',
      numReceived: 3,
      numInvalidEntries: 0,
      invalidEntrySamples: [],
    });
    const b = parseUploadResult({ audience_id: '1', num_received: 3, invalid_entry_samples: {} }, OP);
    expect(b.invalidEntrySamples).toEqual([]);
    expect(b.numInvalidEntries).toBe(0);
  });

  it('refuses a body without num_received', () => {
    expect(() => parseUploadResult({ success: true }, OP)).toThrow(UnexpectedResponseError);
    expect(() => parseUploadResult('nope', OP)).toThrow(/POST \/\{audience\}\/users/);
  });
});

describe('usersRequestBody', () => {
  it('puts schema, is_raw and data in payload and the session in Meta’s names', () => {
    expect(
      usersRequestBody(
        { schema: ['EMAIL', 'DATA_PROCESSING_OPTIONS'], data: [['h', ['LDU']]] },
        { sessionId: 77, batchSeq: 2, lastBatch: false, estimatedTotal: 20000 },
      ),
    ).toEqual({
      payload: { schema: ['EMAIL', 'DATA_PROCESSING_OPTIONS'], is_raw: true, data: [['h', ['LDU']]] },
      session: { session_id: 77, batch_seq: 2, last_batch_flag: false, estimated_num_total: 20000 },
    });
    expect(usersRequestBody({ schema: ['EMAIL'], data: [] })).not.toHaveProperty('session');
  });
});

describe('parseAudience', () => {
  it('maps size bounds, statuses, subtype, data source and unix times', () => {
    const a = parseAudience(
      {
        id: '2385',
        account_id: '42',
        name: 'VIP',
        subtype: 'CUSTOM',
        customer_file_source: 'USER_PROVIDED_ONLY',
        data_source: { type: 'FILE_IMPORTED', sub_type: 'MULTI_HASHES' },
        approximate_count_lower_bound: 1000,
        approximate_count_upper_bound: 1200,
        operation_status: { code: 414, description: 'Replace in progress' },
        delivery_status: { code: 300, description: 'too small' },
        time_content_updated: 1_700_000_000,
        time_created: 0,
        is_value_based: false,
      },
      'GET /{audience}',
    );
    expect(a).toEqual({
      id: '2385',
      adAccountId: 'act_42',
      name: 'VIP',
      subtype: 'CUSTOM',
      customerFileSource: 'USER_PROVIDED_ONLY',
      dataSource: { type: 'FILE_IMPORTED', subType: 'MULTI_HASHES' },
      sizeLowerBound: 1000,
      sizeUpperBound: 1200,
      operationStatus: { code: 414, description: 'Replace in progress' },
      deliveryStatus: { code: 300, description: 'too small' },
      timeContentUpdated: new Date(1_700_000_000_000),
      isValueBased: false,
    });
    expect(() => parseAudience({ name: 'x' }, 'GET /{audience}')).toThrow(/lacks id/);
  });
});

describe('parseAdAccount', () => {
  it('accepts only custom_audience_tos === 1 as accepted terms', () => {
    const base = { id: 'act_42', account_id: '42' };
    expect(parseAdAccount({ ...base, tos_accepted: { custom_audience_tos: 1 } }, 'x').customAudienceTermsAccepted).toBe(
      true,
    );
    expect(
      parseAdAccount({ ...base, tos_accepted: { web_custom_audience_tos: 1 } }, 'x').customAudienceTermsAccepted,
    ).toBe(false);
    expect(parseAdAccount({ ...base, tos_accepted: { custom_audience_tos: 0 } }, 'x').customAudienceTermsAccepted).toBe(
      false,
    );
    const none = parseAdAccount(base, 'x');
    expect(none.customAudienceTermsAccepted).toBe(false);
    expect(none.termsUrl).toBe('https://business.facebook.com/ads/manage/customaudiences/tos/?act=42');
  });

  it('normalises the id and keeps the business', () => {
    const a = parseAdAccount({ account_id: '7', name: 'A', business: { id: '9', name: 'B' }, account_status: 1 }, 'x');
    expect(a).toMatchObject({
      id: 'act_7',
      accountId: '7',
      name: 'A',
      business: { id: '9', name: 'B' },
      accountStatus: 1,
    });
  });
});

describe('parsePage', () => {
  it('has a next cursor only when paging.next is present', () => {
    const body = (next?: string) => ({
      data: [1, 2],
      paging: { cursors: { before: 'b', after: 'a' }, ...(next ? { next } : {}) },
    });
    expect(parsePage(body('https://next'), Number, 'x')).toEqual({ items: [1, 2], after: 'a' });
    expect(parsePage(body(), Number, 'x')).toEqual({ items: [1, 2] });
    expect(() => parsePage({}, Number, 'x')).toThrow(UnexpectedResponseError);
  });
});

describe('parseDebugToken', () => {
  const data = {
    app_id: '900',
    type: 'SYSTEM_USER',
    is_valid: true,
    expires_at: 0,
    issued_at: 1_700_000_000,
    scopes: ['ads_management', 'ads_read'],
    granular_scopes: [{ scope: 'ads_management', target_ids: ['42'] }],
    user_id: '100',
  };

  it('reads validity, scopes, type, user and a never-expiring token as null', () => {
    expect(parseDebugToken({ data }, '900')).toEqual({
      valid: true,
      scopes: ['ads_management', 'ads_read'],
      expiresAt: null,
      issuedAt: new Date(1_700_000_000_000),
      type: 'SYSTEM_USER',
      userId: '100',
      appId: '900',
      granularScopes: [{ scope: 'ads_management', targetIds: ['42'] }],
    });
  });

  it('is invalid for another app’s token even when Meta says valid', () => {
    const t = parseDebugToken({ data: { ...data, expires_at: 1_800_000_000 } }, '901');
    expect(t.valid).toBe(false);
    expect(t.invalidReason).toBe('other_app');
    expect(t.expiresAt).toEqual(new Date(1_800_000_000_000));
    expect(parseDebugToken({ data: { ...data, is_valid: false } }, '900').invalidReason).toBe('invalid');
  });
});

describe('parsePermissions and parseAccessToken', () => {
  it('treats anything but granted as missing', () => {
    expect(
      parsePermissions({
        data: [
          { permission: 'ads_management', status: 'granted' },
          { permission: 'ads_read', status: 'declined' },
          { permission: 'business_management', status: 'expired' },
        ],
      }),
    ).toEqual({
      granted: ['ads_management'],
      notGranted: [
        { permission: 'ads_read', status: 'declined' },
        { permission: 'business_management', status: 'expired' },
      ],
    });
  });

  it('computes expiresAt from expires_in', () => {
    expect(parseAccessToken({ access_token: 't', token_type: 'bearer', expires_in: 60 }, 'x', 1_000)).toEqual({
      accessToken: 't',
      expiresAt: new Date(61_000),
    });
    expect(parseAccessToken({ access_token: 't' }, 'x').expiresAt).toBeNull();
    expect(() => parseAccessToken({ error: 1 }, 'x')).toThrow(/access_token/);
  });
});

describe('parseSessions', () => {
  it('reads Meta’s all-string fields as numbers and dates', () => {
    expect(
      parseSessions({
        data: [
          {
            session_id: '77',
            start_time: '1700000000',
            end_time: '0',
            num_received: '20000',
            num_matched: '15000',
            num_invalid_entries: '3',
            progress: '100',
            stage: 'finished',
          },
        ],
      }),
    ).toEqual([
      {
        sessionId: '77',
        startTime: new Date(1_700_000_000_000),
        numReceived: 20000,
        numMatched: 15000,
        numInvalidEntries: 3,
        progress: '100',
        stage: 'finished',
      },
    ]);
  });
});
