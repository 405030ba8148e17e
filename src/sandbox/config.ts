import { z } from 'zod';

/** Permissions a sandbox token can carry. */
export const Scope = {
  AdsManagement: 'ads_management',
  AdsRead: 'ads_read',
  BusinessManagement: 'business_management',
} as const;

const TokenSchema = z.object({
  token: z.string().min(8),
  /** Which fixture this token stands for, so `SandboxFixtures` can name it. */
  role: z.enum(['system', 'user', 'expired', 'noAdsManagement', 'other']).default('other'),
  userId: z.string().regex(/^\d+$/),
  /** `SYSTEM_USER` (debug_token type UNCONFIRMED for system users) or `USER`. */
  type: z.enum(['USER', 'SYSTEM_USER']).default('USER'),
  scopes: z.array(z.string()).default([]),
  declined: z.array(z.string()).default([]),
  /** Unix seconds; 0 = never expires (non-expiring system-user tokens). */
  expiresAt: z.number().int().nonnegative().default(0),
  issuedAt: z.number().int().nonnegative().optional(),
});
export type SandboxToken = z.infer<typeof TokenSchema>;

const AdAccountSchema = z.object({
  /** Bare digits; the node id is `act_<digits>`. */
  id: z.string().regex(/^\d+$/),
  name: z.string(),
  tosAccepted: z.boolean().default(true),
  currency: z.string().default('EUR'),
  timezoneName: z.string().default('Europe/Berlin'),
  accountStatus: z.number().int().default(1),
  /** User ids (people and system users) assigned to the account. */
  userIds: z.array(z.string()).default([]),
});
export type SandboxAdAccount = z.infer<typeof AdAccountSchema>;

export const SandboxConfigSchema = z.object({
  appId: z.string().regex(/^\d+$/),
  appSecret: z.string().min(8),
  appName: z.string().default('audience-export sandbox app'),
  /** App Settings > Advanced > Require App Secret. */
  requireAppSecretProof: z.boolean().default(true),
  /** Accept the classic proof (HMAC of the token only, no `appsecret_time`); UNCONFIRMED at Meta, so off. */
  acceptClassicProof: z.boolean().default(false),
  businessId: z.string().regex(/^\d+$/),
  businessName: z.string().default('Sandbox Business'),
  adAccounts: z.array(AdAccountSchema).min(1),
  tokens: z.array(TokenSchema).min(1),
  /** Oldest version still served; older ones fail with 2635. */
  minApiVersion: z
    .string()
    .regex(/^v\d+\.\d+$/)
    .default('v24.0'),
  /** Newest released version; newer ones do not exist yet. */
  maxApiVersion: z
    .string()
    .regex(/^v\d+\.\d+$/)
    .default('v27.0'),
  /** Upload sessions close this long after their first batch (Meta: 90 minutes). */
  sessionWindowMs: z
    .number()
    .int()
    .positive()
    .default(90 * 60_000),
  maxAudiencesPerAccount: z.number().int().positive().default(500),
  maxRowsPerRequest: z.number().int().positive().default(10_000),
  /** Members below which delivery_status is 300 (100 vs 1,000 is UNCONFIRMED; 100 per the Help Center). */
  minDeliverySize: z.number().int().nonnegative().default(100),
  oauth: z
    .object({
      /** Exact redirect URIs allowed (Strict Mode); empty = any absolute http(s) URL. */
      redirectUris: z.array(z.string()).default([]),
      /** The dialog answers `error=access_denied` (the person cancels). */
      deny: z.boolean().default(false),
      /** The person the dialog logs in. */
      userId: z.string().optional(),
      /**
       * A Facebook Login for Business configuration: when set, the dialog requires its id as `config_id` (in place
       * of `scope`) and grants its permissions; when unset, a dialog naming a `config_id` is refused.
       */
      loginConfig: z
        .object({
          id: z.string().regex(/^\d+$/),
          scopes: z.array(z.string()).default(['ads_management', 'ads_read', 'business_management']),
        })
        .optional(),
      shortLivedSeconds: z
        .number()
        .int()
        .positive()
        .default(2 * 3600),
      longLivedSeconds: z.number().int().positive().default(5_183_944),
    })
    .prefault({}),
});
export type SandboxConfig = z.infer<typeof SandboxConfigSchema>;
export type SandboxConfigInput = z.input<typeof SandboxConfigSchema>;

const LatencySchema = z.union([
  z.number().nonnegative(),
  z.tuple([z.number().nonnegative(), z.number().nonnegative()]),
]);

export const FaultConfigSchema = z.object({
  /** Added before every answer: fixed ms or a uniform `[min, max]`. */
  latencyMs: LatencySchema.nullable().default(null),
  /** Per-ad-account call budget (the custom_audience BUC); null = unlimited, usage header still sent. */
  throttle: z
    .object({
      callsPerWindow: z.number().int().positive(),
      windowMs: z.number().int().positive().default(3_600_000),
      /** How long a block lasts; each call during a block restarts it (as Meta says calls extend it). */
      blockMs: z.number().int().positive().default(300_000),
      /** Overrides the sandbox-only `x-sandbox-retry-after-ms` hint (otherwise the block's remaining time). */
      retryAfterMs: z.number().int().nonnegative().optional(),
    })
    .nullable()
    .default(null),
  /** Share of calls (0..1) answered with a transient error. */
  transientErrorRate: z.number().min(0).max(1).default(0),
  /** `json` = code 2 is_transient; `html` = HTTP 500 HTML page; `mixed` = either. */
  transientErrorKind: z.enum(['json', 'html', 'mixed']).default('json'),
  /**
   * Routes answered with a transient error (code 2, `is_transient`), named as the router names them (`GET
   * debug_token`, `GET node/sessions`): the next `times` calls, counted down here, or every call without `times`.
   */
  failingRoutes: z
    .array(z.object({ route: z.string().min(1), times: z.number().int().positive().optional() }))
    .default([]),
  /** Token string -> epoch ms at which it expires (earlier than its own expiry). */
  tokenExpiry: z.record(z.string(), z.number()).default({}),
  /** Audiences deleted or flagged (471) at a moment (`atMs`, epoch ms) or on their Nth call (`onCall`). */
  audienceFaults: z
    .array(
      z.object({
        audienceId: z.string(),
        kind: z.enum(['deleted', 'flagged']),
        atMs: z.number().optional(),
        onCall: z.number().int().positive().optional(),
      }),
    )
    .default([]),
});
export type FaultConfig = z.infer<typeof FaultConfigSchema>;
export type FaultConfigInput = z.input<typeof FaultConfigSchema>;

/** Applies only the keys a patch names (others keep their current value); unknown keys are refused. */
export function mergeFaults(current: FaultConfig, patch: unknown): FaultConfig {
  if (typeof patch !== 'object' || patch === null || Array.isArray(patch)) {
    throw new Error('faults must be a JSON object');
  }
  const unknown = Object.keys(patch).filter((k) => !(k in FaultConfigSchema.shape));
  if (unknown.length > 0) throw new Error(`unknown fault settings: ${unknown.join(', ')}`);
  return FaultConfigSchema.parse({ ...current, ...patch });
}

const DAY_S = 86_400;

/** The default world: one app, one business, two ad accounts (terms accepted / not), four tokens. */
export function defaultSandboxConfig(nowMs = Date.now()): SandboxConfigInput {
  const now = Math.floor(nowMs / 1000);
  const systemUserId = '100000000000001';
  const personId = '100000000000002';
  return {
    appId: '900000000000001',
    appSecret: 'sandbox-app-secret-0123456789abcdef',
    businessId: '700000000000001',
    adAccounts: [
      { id: '100000000000101', name: 'Sandbox Ads', tosAccepted: true, userIds: [systemUserId, personId] },
      {
        id: '100000000000102',
        name: 'Sandbox Ads (terms not accepted)',
        tosAccepted: false,
        userIds: [systemUserId, personId],
      },
    ],
    tokens: [
      {
        token: 'EAAsandboxSYSTEMUSERtoken000000000001',
        role: 'system',
        userId: systemUserId,
        type: 'SYSTEM_USER',
        scopes: ['ads_management', 'ads_read', 'business_management'],
        expiresAt: 0,
      },
      {
        token: 'EAAsandboxUSERtoken000000000000000002',
        role: 'user',
        userId: personId,
        scopes: ['ads_management', 'ads_read', 'business_management'],
        expiresAt: now + 60 * DAY_S,
      },
      {
        token: 'EAAsandboxEXPIREDtoken00000000000003',
        role: 'expired',
        userId: personId,
        scopes: ['ads_management', 'ads_read'],
        expiresAt: now - DAY_S,
        issuedAt: now - 61 * DAY_S,
      },
      {
        token: 'EAAsandboxREADONLYtoken0000000000004',
        role: 'noAdsManagement',
        userId: personId,
        scopes: ['ads_read'],
        declined: ['ads_management'],
        expiresAt: now + 60 * DAY_S,
      },
    ],
    oauth: { userId: personId },
  };
}

/** Later keys win; arrays are replaced, `oauth` is merged one level deep. */
export function resolveSandboxConfig(partial: Partial<SandboxConfigInput> = {}, nowMs = Date.now()): SandboxConfig {
  const base = defaultSandboxConfig(nowMs);
  return SandboxConfigSchema.parse({ ...base, ...partial, oauth: { ...base.oauth, ...partial.oauth } });
}
