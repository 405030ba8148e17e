import type { SandboxAdAccount } from '../config.js';
import { GraphError } from '../errors.js';
import { pick, selectFields } from '../rules/fields.js';
import { pageOf } from '../rules/paging.js';
import { type Handler, str } from '../request.js';
import { requireRead, type SandboxWorld } from '../world.js';

const ACCOUNT_FIELDS = [
  'id',
  'account_id',
  'name',
  'account_status',
  'disable_reason',
  'currency',
  'timezone_name',
  'business',
  'tos_accepted',
  'user_tos_accepted',
  'user_tasks',
] as const;

function accountView(world: SandboxWorld, a: SandboxAdAccount, systemUser: boolean): Record<string, unknown> {
  const tos = a.tosAccepted ? { custom_audience_tos: 1 } : {};
  return {
    id: `act_${a.id}`,
    account_id: a.id,
    name: a.name,
    account_status: a.accountStatus,
    disable_reason: 0,
    currency: a.currency,
    timezone_name: a.timezoneName,
    business: { id: world.config.businessId, name: world.config.businessName },
    tos_accepted: tos,
    // Not valid for system users (reference 2.7).
    user_tos_accepted: systemUser ? undefined : tos,
    user_tasks: ['MANAGE', 'ADVERTISE', 'ANALYZE'],
  };
}

export const getMe: Handler = (req) => {
  const t = req.authenticate();
  return { body: { id: t.userId, name: t.type === 'SYSTEM_USER' ? 'Sandbox System User' : 'Sandbox Person' } };
};

export const getPermissions: Handler = (req) => {
  const t = req.authenticate();
  return {
    body: {
      data: [
        ...t.scopes.map((permission) => ({ permission, status: 'granted' })),
        ...t.declined.map((permission) => ({ permission, status: 'declined' })),
      ],
    },
  };
};

export const listAdAccounts: Handler = (req, world) => {
  const t = req.authenticate();
  requireRead(t);
  const fields = selectFields(str(req.params, 'fields'), ACCOUNT_FIELDS, 'AdAccount', ['account_id', 'id']);
  const mine = [...world.accounts.values()].filter((a) => a.userIds.includes(t.userId));
  const views = mine.map((a) => pick(accountView(world, a, t.type === 'SYSTEM_USER'), fields));
  return { body: pageOf(views, req.params as Record<string, string | undefined>, req.selfUrl) };
};

export const getAdAccount: Handler = (req, world) => {
  const t = req.authenticate();
  const a = world.account(req.segments[0]!, t, 'get');
  req.log.accountId = a.id;
  req.meterAccount(a.id);
  requireRead(t);
  const fields = selectFields(str(req.params, 'fields'), ACCOUNT_FIELDS, 'AdAccount', ['id']);
  return { body: pick(accountView(world, a, t.type === 'SYSTEM_USER'), fields) };
};

export const debugToken: Handler = (req, world) => {
  const caller = str(req.params, 'access_token') ?? req.rawToken;
  const appToken = `${world.config.appId}|${world.config.appSecret}`;
  // An app token with a wrong id or secret: Meta's answer as public reports of debug_token quote it (no subcode).
  if (caller?.includes('|') === true && caller !== appToken) {
    throw new GraphError(190, 'Invalid OAuth access token signature.');
  }
  if (caller !== appToken) world.validToken(caller);
  const input = str(req.params, 'input_token');
  if (!input) throw new GraphError(100, '(#100) The parameter input_token is required');
  const t = world.tokens.get(input);
  if (!t) {
    return {
      body: {
        data: {
          error: { code: 190, message: 'Invalid OAuth access token - Cannot parse access token', subcode: 467 },
          is_valid: false,
          scopes: [],
        },
      },
    };
  }
  const expiryMs = world.tokenExpiryMs(t);
  const valid = world.now() < expiryMs;
  const issuedAt = t.issuedAt ?? Math.floor(world.now() / 1000) - 3600;
  return {
    body: {
      data: {
        app_id: world.config.appId,
        type: t.type,
        application: world.config.appName,
        data_access_expires_at: issuedAt + 90 * 86_400,
        expires_at: Number.isFinite(expiryMs) ? Math.floor(expiryMs / 1000) : 0,
        is_valid: valid,
        issued_at: issuedAt,
        scopes: t.scopes,
        granular_scopes: t.scopes.map((scope) => ({
          scope,
          ...(scope.startsWith('ads_')
            ? { target_ids: [...world.accounts.values()].filter((a) => a.userIds.includes(t.userId)).map((a) => a.id) }
            : {}),
        })),
        user_id: t.userId,
        ...(valid
          ? {}
          : { error: { code: 190, subcode: 463, message: 'Error validating access token: Session has expired.' } }),
      },
    },
  };
};
