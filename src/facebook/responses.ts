import { termsUrl, toAdAccountId } from './ad-account-id.js';

/**
 * Pure parsers from Graph API response bodies (reference 2, 3, 4.4, Appendix A) to our shapes. Defensive: Graph
 * returns 64-bit ids and some counts as strings, omits fields freely and varies some shapes between endpoints.
 */

export class UnexpectedResponseError extends Error {
  override readonly name = 'UnexpectedResponseError';
  constructor(
    readonly operation: string,
    readonly missing: string,
  ) {
    super(`${operation}: Facebook's response lacks ${missing}; the Graph API version may have changed its shape`);
  }
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => v !== null && typeof v === 'object' && !Array.isArray(v);
const str = (v: unknown): string | undefined =>
  typeof v === 'string' ? v : typeof v === 'number' && Number.isFinite(v) ? String(v) : undefined;
const int = (v: unknown): number | undefined => {
  const n = typeof v === 'string' && v.trim() !== '' ? Number(v) : v;
  return typeof n === 'number' && Number.isFinite(n) ? n : undefined;
};
const unixDate = (v: unknown): Date | undefined => {
  const n = int(v);
  return n === undefined || n <= 0 ? undefined : new Date(n * 1000);
};

export type { Cell } from '../domain/canonical-row.js';
import type { Cell } from '../domain/canonical-row.js';

export interface UsersPayload {
  schema: string[];
  data: readonly (readonly Cell[])[];
}

export interface UploadSession {
  sessionId: number;
  batchSeq: number;
  lastBatch: boolean;
  estimatedTotal?: number;
}

export interface UploadResult {
  /** The audience, from `audience_id` or (replace's documented prose) `account_id`; absent for usersofanyaudience. */
  audienceId?: string;
  sessionId?: string;
  /** Rows received in this session so far (cumulative across batches). */
  numReceived: number;
  numInvalidEntries: number;
  /** Meta's samples, normalised to a list of reasons. Never logged: a sample may be a submitted value. */
  invalidEntrySamples: Array<{ sample: string; reason: string }>;
}

export function parseUploadResult(body: unknown, operation: string): UploadResult {
  if (!isObj(body)) throw new UnexpectedResponseError(operation, 'a JSON object');
  const numReceived = int(body.num_received);
  if (numReceived === undefined) throw new UnexpectedResponseError(operation, 'num_received');
  const samples = body.invalid_entry_samples;
  let invalidEntrySamples: UploadResult['invalidEntrySamples'] = [];
  if (Array.isArray(samples)) {
    invalidEntrySamples = samples.map((s) => ({ sample: str(s) ?? '', reason: '' }));
  } else if (isObj(samples)) {
    invalidEntrySamples = Object.entries(samples).map(([sample, reason]) => ({ sample, reason: str(reason) ?? '' }));
  }
  const audienceId = str(body.audience_id) ?? str(body.account_id);
  const sessionId = str(body.session_id);
  return {
    ...(audienceId !== undefined ? { audienceId } : {}),
    ...(sessionId !== undefined ? { sessionId } : {}),
    numReceived,
    numInvalidEntries: int(body.num_invalid_entries) ?? 0,
    invalidEntrySamples,
  };
}

/** The request body for `/users`, `/usersreplace` and `/usersofanyaudience` (reference 4.2, 4.3). */
export function usersRequestBody(payload: UsersPayload, session?: UploadSession): Obj {
  const body: Obj = { payload: { schema: payload.schema, is_raw: true, data: payload.data } };
  if (session) {
    body.session = {
      session_id: session.sessionId,
      batch_seq: session.batchSeq,
      last_batch_flag: session.lastBatch,
      ...(session.estimatedTotal !== undefined ? { estimated_num_total: session.estimatedTotal } : {}),
    };
  }
  return body;
}

export interface SessionStatus {
  sessionId: string;
  startTime?: Date;
  endTime?: Date;
  numReceived?: number;
  numMatched?: number;
  numInvalidEntries?: number;
  /** Meta's values; their meanings are unconfirmed (reference 3.1), so they are passed through. */
  progress?: string;
  stage?: string;
}

export function parseSessions(body: unknown): SessionStatus[] {
  const data = isObj(body) && Array.isArray(body.data) ? body.data : [];
  return data.filter(isObj).map((s) => ({
    sessionId: str(s.session_id) ?? '',
    ...opt('startTime', unixDate(s.start_time)),
    ...opt('endTime', unixDate(s.end_time)),
    ...opt('numReceived', int(s.num_received)),
    ...opt('numMatched', int(s.num_matched)),
    ...opt('numInvalidEntries', int(s.num_invalid_entries)),
    ...opt('progress', str(s.progress)),
    ...opt('stage', str(s.stage)),
  }));
}

function opt<K extends string, V>(key: K, value: V | undefined): { [P in K]?: V } {
  return (value === undefined ? {} : { [key]: value }) as { [P in K]?: V };
}

export interface AudienceStatus {
  code: number;
  description: string;
}

export interface Audience {
  id: string;
  adAccountId?: string;
  name?: string;
  description?: string;
  subtype?: string;
  customerFileSource?: string;
  dataSource?: { type?: string; subType?: string };
  sizeLowerBound?: number;
  sizeUpperBound?: number;
  operationStatus?: AudienceStatus;
  deliveryStatus?: AudienceStatus;
  timeCreated?: Date;
  timeUpdated?: Date;
  timeContentUpdated?: Date;
  retentionDays?: number;
  isValueBased?: boolean;
}

export const AUDIENCE_FIELDS = [
  'id',
  'account_id',
  'name',
  'description',
  'subtype',
  'customer_file_source',
  'data_source',
  'approximate_count_lower_bound',
  'approximate_count_upper_bound',
  'operation_status',
  'delivery_status',
  'time_created',
  'time_updated',
  'time_content_updated',
  'retention_days',
  'is_value_based',
].join(',');

function status(v: unknown): AudienceStatus | undefined {
  if (!isObj(v)) return undefined;
  const code = int(v.code);
  return code === undefined ? undefined : { code, description: str(v.description) ?? '' };
}

export function parseAudience(body: unknown, operation: string): Audience {
  if (!isObj(body)) throw new UnexpectedResponseError(operation, 'a JSON object');
  const id = str(body.id);
  if (id === undefined) throw new UnexpectedResponseError(operation, 'id');
  const ds = isObj(body.data_source) ? body.data_source : undefined;
  const accountId = str(body.account_id);
  return {
    id,
    ...opt('adAccountId', accountId === undefined ? undefined : toAdAccountIdSafe(accountId)),
    ...opt('name', str(body.name)),
    ...opt('description', str(body.description)),
    ...opt('subtype', str(body.subtype)),
    ...opt('customerFileSource', str(body.customer_file_source)),
    ...opt('dataSource', ds ? { ...opt('type', str(ds.type)), ...opt('subType', str(ds.sub_type)) } : undefined),
    ...opt('sizeLowerBound', int(body.approximate_count_lower_bound)),
    ...opt('sizeUpperBound', int(body.approximate_count_upper_bound)),
    ...opt('operationStatus', status(body.operation_status)),
    ...opt('deliveryStatus', status(body.delivery_status)),
    ...opt('timeCreated', unixDate(body.time_created)),
    ...opt('timeUpdated', unixDate(body.time_updated)),
    ...opt('timeContentUpdated', unixDate(body.time_content_updated)),
    ...opt('retentionDays', int(body.retention_days)),
    ...opt('isValueBased', typeof body.is_value_based === 'boolean' ? body.is_value_based : undefined),
  };
}

function toAdAccountIdSafe(id: string): string | undefined {
  try {
    return toAdAccountId(id);
  } catch {
    return undefined;
  }
}

export interface AdAccount {
  /** `act_<digits>`. */
  id: string;
  accountId: string;
  name?: string;
  accountStatus?: number;
  disableReason?: number;
  currency?: string;
  timezoneName?: string;
  business?: { id: string; name?: string };
  /** `tos_accepted.custom_audience_tos === 1`; `web_custom_audience_tos` is a different contract (reference 2.7). */
  customAudienceTermsAccepted: boolean;
  /** Where a person accepts the terms when they are not accepted. */
  termsUrl: string;
  userTasks?: string[];
}

export const AD_ACCOUNT_FIELDS =
  'id,account_id,name,account_status,disable_reason,currency,timezone_name,business{id,name},tos_accepted,user_tasks';

export function parseAdAccount(body: unknown, operation: string): AdAccount {
  if (!isObj(body)) throw new UnexpectedResponseError(operation, 'a JSON object');
  const rawId = str(body.id) ?? str(body.account_id);
  const id = rawId === undefined ? undefined : toAdAccountIdSafe(rawId);
  if (id === undefined) throw new UnexpectedResponseError(operation, 'id');
  const tos = isObj(body.tos_accepted) ? body.tos_accepted : {};
  const business = isObj(body.business) ? body.business : undefined;
  const businessId = business ? str(business.id) : undefined;
  return {
    id,
    accountId: id.slice('act_'.length),
    ...opt('name', str(body.name)),
    ...opt('accountStatus', int(body.account_status)),
    ...opt('disableReason', int(body.disable_reason)),
    ...opt('currency', str(body.currency)),
    ...opt('timezoneName', str(body.timezone_name)),
    ...opt('business', businessId && business ? { id: businessId, ...opt('name', str(business.name)) } : undefined),
    customAudienceTermsAccepted: int(tos.custom_audience_tos) === 1,
    termsUrl: termsUrl(id),
    ...opt(
      'userTasks',
      Array.isArray(body.user_tasks) ? body.user_tasks.filter((t) => typeof t === 'string') : undefined,
    ),
  };
}

export interface Page<T> {
  items: T[];
  /** Cursor for the next page; absent on the last page. */
  after?: string;
}

/** A Graph list edge: `{data, paging: {cursors: {after}, next}}`; there is a next page only when `next` is set. */
export function parsePage<T>(body: unknown, parseItem: (item: unknown) => T, operation: string): Page<T> {
  if (!isObj(body) || !Array.isArray(body.data)) throw new UnexpectedResponseError(operation, 'data');
  const paging = isObj(body.paging) ? body.paging : {};
  const cursors = isObj(paging.cursors) ? paging.cursors : {};
  const after = str(cursors.after);
  const hasNext = typeof paging.next === 'string' && paging.next !== '';
  return { items: body.data.map(parseItem), ...(hasNext && after ? { after } : {}) };
}

export interface TokenInfo {
  /** Valid per Meta and issued for our app. */
  valid: boolean;
  /** Why not valid: Meta said so, or the token belongs to another app (a hijack defence, reference 2.3). */
  invalidReason?: 'invalid' | 'other_app';
  scopes: string[];
  /** null = never expires (`expires_at` 0). */
  expiresAt: Date | null;
  dataAccessExpiresAt?: Date;
  issuedAt?: Date;
  type?: string;
  userId?: string;
  appId?: string;
  /** Per-scope asset restrictions, when the person granted a subset of their assets. */
  granularScopes: Array<{ scope: string; targetIds: string[] }>;
}

export function parseDebugToken(body: unknown, expectedAppId: string): TokenInfo {
  const data = isObj(body) && isObj(body.data) ? body.data : undefined;
  if (!data) throw new UnexpectedResponseError('GET /debug_token', 'data');
  const appId = str(data.app_id);
  const metaValid = data.is_valid === true;
  const ownApp = appId === expectedAppId;
  const expiresAtRaw = int(data.expires_at);
  const scopes = Array.isArray(data.scopes) ? data.scopes.filter((s) => typeof s === 'string') : [];
  const granular = Array.isArray(data.granular_scopes) ? data.granular_scopes.filter(isObj) : [];
  return {
    valid: metaValid && ownApp,
    ...opt('invalidReason', !metaValid ? ('invalid' as const) : !ownApp ? ('other_app' as const) : undefined),
    scopes,
    expiresAt: expiresAtRaw === undefined || expiresAtRaw === 0 ? null : new Date(expiresAtRaw * 1000),
    ...opt('dataAccessExpiresAt', unixDate(data.data_access_expires_at)),
    ...opt('issuedAt', unixDate(data.issued_at)),
    ...opt('type', str(data.type)),
    ...opt('userId', str(data.user_id)),
    ...opt('appId', appId),
    granularScopes: granular.map((g) => ({
      scope: str(g.scope) ?? '',
      targetIds: Array.isArray(g.target_ids) ? g.target_ids.map(str).filter((t) => t !== undefined) : [],
    })),
  };
}

export interface Permissions {
  granted: string[];
  /** Declined, expired or anything else: treat as missing (reference 2.3). */
  notGranted: Array<{ permission: string; status: string }>;
}

export function parsePermissions(body: unknown): Permissions {
  const data = isObj(body) && Array.isArray(body.data) ? body.data.filter(isObj) : [];
  const result: Permissions = { granted: [], notGranted: [] };
  for (const p of data) {
    const permission = str(p.permission);
    if (!permission) continue;
    const st = str(p.status) ?? '';
    if (st === 'granted') result.granted.push(permission);
    else result.notGranted.push({ permission, status: st });
  }
  return result;
}

export interface AccessToken {
  accessToken: string;
  /** null when Meta names no lifetime. */
  expiresAt: Date | null;
}

export function parseAccessToken(body: unknown, operation: string, nowMs: number = Date.now()): AccessToken {
  const token = isObj(body) ? str(body.access_token) : undefined;
  if (!token || !isObj(body)) throw new UnexpectedResponseError(operation, 'access_token');
  const expiresIn = int(body.expires_in);
  return { accessToken: token, expiresAt: expiresIn && expiresIn > 0 ? new Date(nowMs + expiresIn * 1000) : null };
}
