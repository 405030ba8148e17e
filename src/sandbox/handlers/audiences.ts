import { GraphError, graphErrors } from '../errors.js';
import { deliveryStatus, OperationStatus, sizeBounds } from '../rules/audience-size.js';
import { pick, selectFields } from '../rules/fields.js';
import { pageOf } from '../rules/paging.js';
import { type Handler, str } from '../request.js';
import { type Audience, requireRead, requireWrite, type SandboxWorld } from '../world.js';

const AUDIENCE_FIELDS = [
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
  'fields_violating_integrity_policy',
] as const;
const FILE_SOURCES = ['USER_PROVIDED_ONLY', 'PARTNER_PROVIDED_ONLY', 'BOTH_USER_AND_PARTNER_PROVIDED'];

function operationStatus(a: Audience) {
  if (a.flagged) return OperationStatus.Flagged;
  if (a.replace) return OperationStatus.ReplaceInProgress;
  if (a.lastReplaceFailed) return { code: 415, description: 'Replace failed' };
  if (!a.schema) return OperationStatus.NoUpload;
  return OperationStatus.Normal;
}

export function audienceView(world: SandboxWorld, a: Audience): Record<string, unknown> {
  const size = a.members?.size ?? 0;
  const bounds = sizeBounds(size);
  return {
    id: a.id,
    account_id: a.accountId,
    name: a.name,
    description: a.description,
    subtype: a.subtype,
    customer_file_source: a.customerFileSource,
    data_source: { type: 'FILE_IMPORTED', sub_type: a.schema?.subtype ?? 'UNKNOWN', creation_params: '[]' },
    approximate_count_lower_bound: bounds.lower,
    approximate_count_upper_bound: bounds.upper,
    operation_status: operationStatus(a),
    delivery_status: a.flagged
      ? { code: 400, description: 'This audience cannot be used: it was flagged for integrity review.' }
      : deliveryStatus(size, world.config.minDeliverySize),
    time_created: a.timeCreated,
    time_updated: a.timeUpdated,
    time_content_updated: a.timeContentUpdated,
    retention_days: a.retentionDays,
    is_value_based: a.isValueBased,
    fields_violating_integrity_policy: a.flagged ? ['name'] : undefined,
  };
}

export const listAudiences: Handler = (req, world) => {
  const t = req.authenticate();
  const acct = world.account(req.segments[0]!, t, 'get');
  req.log.accountId = acct.id;
  req.meterAccount(acct.id);
  requireRead(t);
  const fields = selectFields(str(req.params, 'fields'), AUDIENCE_FIELDS, 'CustomAudience', ['id']);
  const mine = [...world.audiences.values()].filter((a) => a.accountId === acct.id);
  const views = mine.map((a) => {
    world.settle(a);
    return pick(audienceView(world, a), fields);
  });
  return { body: pageOf(views, req.params as Record<string, string | undefined>, req.selfUrl) };
};

export const createAudience: Handler = (req, world) => {
  const t = req.authenticate();
  const acct = world.account(req.segments[0]!, t, 'post');
  req.log.accountId = acct.id;
  req.meterAccount(acct.id);
  requireWrite(t);
  if (!acct.tosAccepted) {
    throw new GraphError(
      2663,
      '(#2663) Terms of service has not been accepted. Accept the Custom Audience terms at https://business.facebook.com/ads/manage/customaudiences/tos/?act=' +
        acct.id,
    );
  }
  const name = str(req.params, 'name');
  if (!name || name.trim() === '') throw graphErrors.invalidParameter('The parameter name is required');
  const subtype = str(req.params, 'subtype');
  if (subtype !== 'CUSTOM') {
    throw graphErrors.invalidParameter('subtype must be CUSTOM (the sandbox serves customer-list audiences only)');
  }
  const source = str(req.params, 'customer_file_source');
  if (!source || !FILE_SOURCES.includes(source)) {
    throw graphErrors.invalidParameter(`customer_file_source must be one of ${FILE_SOURCES.join(', ')}`);
  }
  const retention = str(req.params, 'retention_days');
  if (retention !== undefined && !(/^\d+$/.test(retention) && (Number(retention) === 0 || Number(retention) <= 180))) {
    throw graphErrors.invalidParameter('retention_days must be between 1 and 180 (0 = forever)');
  }
  if (world.activeAudiences(acct.id) >= world.config.maxAudiencesPerAccount) {
    throw new GraphError(
      2654,
      `(#2654) Failed to create custom audience: the ad account has reached the limit of ${world.config.maxAudiencesPerAccount} customer-file custom audiences. Delete unused ones first.`,
    );
  }
  const nowS = Math.floor(world.now() / 1000);
  const isValueBased = req.params.is_value_based === true || req.params.is_value_based === 'true';
  const a: Audience = {
    id: world.newAudienceId(),
    accountId: acct.id,
    name,
    description: str(req.params, 'description') ?? '',
    subtype: 'CUSTOM',
    customerFileSource: source,
    retentionDays: retention === undefined ? 0 : Number(retention),
    isValueBased,
    timeCreated: nowS,
    timeUpdated: nowS,
    timeContentUpdated: 0,
    flagged: false,
    lastReplaceFailed: false,
    calls: 0,
  };
  world.audiences.set(a.id, a);
  req.log.audienceId = a.id;
  return { body: { id: a.id } };
};

function audienceFor(req: Parameters<Handler>[0], world: SandboxWorld, method: string): Audience {
  const t = req.authenticate();
  const a = world.audience(req.segments[0]!, t, method);
  req.log.accountId = a.accountId;
  req.log.audienceId = a.id;
  req.meterAccount(a.accountId);
  return a;
}

export const getAudience: Handler = (req, world) => {
  const a = audienceFor(req, world, 'get');
  requireRead(req.authenticate());
  const fields = selectFields(str(req.params, 'fields'), AUDIENCE_FIELDS, 'CustomAudience', ['id']);
  return { body: pick(audienceView(world, a), fields) };
};

export const updateAudience: Handler = (req, world) => {
  const a = audienceFor(req, world, 'post');
  requireWrite(req.authenticate());
  if (a.flagged) throw graphErrors.invalidParameter('This audience is flagged and cannot be edited', 1713228);
  const name = str(req.params, 'name');
  const description = str(req.params, 'description');
  if (name !== undefined) a.name = name;
  if (description !== undefined) a.description = description;
  a.timeUpdated = Math.floor(world.now() / 1000);
  return { body: { success: true } };
};

export const deleteAudience: Handler = (req, world) => {
  const a = audienceFor(req, world, 'delete');
  requireWrite(req.authenticate());
  world.deleteAudience(a.id);
  return { body: { success: true } };
};

export const listSessions: Handler = (req, world) => {
  const a = audienceFor(req, world, 'get');
  requireRead(req.authenticate());
  const wanted = str(req.params, 'session_id');
  const sessions = [...world.accountSessions(a.accountId).values()].filter(
    (s) => s.audienceId === a.id && (wanted === undefined || s.id === wanted),
  );
  const views = sessions.map((s) => ({
    session_id: s.id,
    start_time: String(Math.floor(s.startedAtMs / 1000)),
    end_time: s.endedAtMs === undefined ? '0' : String(Math.floor(s.endedAtMs / 1000)),
    num_received: String(s.numReceived),
    // Every valid row "matches" in the sandbox.
    num_matched: String(s.numReceived - s.numInvalid),
    num_invalid_entries: String(s.numInvalid),
    progress: s.state === 'open' ? '50' : '100',
    stage: s.state === 'open' ? 'uploading' : s.state === 'finished' ? 'finished' : 'timed_out',
  }));
  return { body: pageOf(views, req.params as Record<string, string | undefined>, req.selfUrl) };
};
