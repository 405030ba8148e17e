import { z } from 'zod';
import { parseApiKeys, type ApiKey } from './api/api-keys.js';
import { temporalConnectionFromEnv, type TemporalConnectionSettings } from './temporal/connection-settings.js';
import { DEFAULT_EXPORT_TIMEOUT_MS } from './workflows/contracts.js';

/** The Graph API version we build against: supported until at least 2027 (reference section 1). */
export const DEFAULT_FACEBOOK_API_VERSION = 'v26.0';

const intFromEnv = (fallback: number, min = 1) => z.coerce.number().int().min(min).default(fallback);
const optionalUrl = z.url().optional();
const csv = z
  .string()
  .default('')
  .transform((s) =>
    s
      .split(',')
      .map((x) => x.trim())
      .filter(Boolean),
  );
const flag = z.enum(['true', 'false', '1', '0']).optional();
const isTrue = (v: string | undefined): boolean => v === 'true' || v === '1';

/** Strict base64 of exactly 32 bytes: Node's decoder skips bad letters, so a 44-letter phrase would pass as a key. */
const isKey32 = (s: string): boolean => {
  const bytes = Buffer.from(s, 'base64');
  return bytes.length === 32 && bytes.toString('base64') === s;
};
const KEY_HINT = 'must be 32 bytes, base64-encoded (openssl rand -base64 32)';

/** `version:base64,...`: keys of earlier ENCRYPTION_KEY_VERSIONs, only read (tokens sealed before a rotation). */
const PreviousKeysSchema = csv.transform((entries, ctx) => {
  const keys: Record<number, Buffer> = {};
  entries.forEach((entry, i) => {
    const m = /^(\d{1,3}):(.*)$/.exec(entry);
    const version = Number(m?.[1]);
    if (!m || version < 1 || version > 255 || !isKey32(m[2]!)) {
      ctx.addIssue({ code: 'custom', message: `entry ${i + 1} must be version:key (1..255, then ${KEY_HINT})` });
    } else if (keys[version]) {
      ctx.addIssue({ code: 'custom', message: `entry ${i + 1}: version ${version} is given twice` });
    } else keys[version] = Buffer.from(m[2]!, 'base64');
  });
  return keys;
});

/** Where a webhook may be posted: https, or http to this machine only (a signing secret is no use in clear). */
const isLoopbackHost = (host: string): boolean =>
  host === 'localhost' || /^127(\.\d{1,3}){3}$/.test(host) || host === '[::1]';

/** Every environment variable the service reads, validated once at start-up. */
const EnvSchema = z
  .object({
    TEMPORAL_ADDRESS: z.string().default('localhost:7233'),
    TEMPORAL_NAMESPACE: z.string().default('default'),
    TEMPORAL_TASK_QUEUE: z.string().default('audience-export'),
    TEMPORAL_UI_URL: z.url().default('http://localhost:8233'),
    /** `true` lets a Temporal address other than loopback be reached without TLS (a private network's choice). */
    TEMPORAL_ALLOW_PLAINTEXT: flag,
    /** A prebuilt workflow bundle (`bundleWorkflowCode`); unset = the worker bundles src/workflows at start. */
    WORKFLOW_BUNDLE_PATH: z.string().optional(),

    DATABASE_URL: optionalUrl,
    SOURCE_DATABASE_URL: optionalUrl,
    DATA_DIR: z.string().default('.data'),
    /** The profile source: inline JSON or a path to a JSON file (src/sources/profile-source-config.ts). */
    PROFILE_SOURCE: z.string().optional(),

    FACEBOOK_APP_ID: z.string().regex(/^\d+$/, 'must be the numeric app id').optional(),
    /** Meta's app secrets are 32 hex characters (its docs give no format; every one seen is): shorter is a bad copy. */
    FACEBOOK_APP_SECRET: z
      .string()
      .min(32, 'is shorter than a Meta app secret (32 characters, App settings → Basic)')
      .optional(),
    /** Facebook Login for Business: the login configuration whose id replaces `scope` in the dialog. */
    FACEBOOK_LOGIN_CONFIG_ID: z.string().regex(/^\d+$/, 'must be the numeric configuration id').optional(),
    FACEBOOK_GRAPH_URL: z.url().default('https://graph.facebook.com'),
    FACEBOOK_DIALOG_URL: z.url().default('https://www.facebook.com'),
    FACEBOOK_API_VERSION: z
      .string()
      .regex(/^v\d+\.\d+$/, 'must look like v26.0')
      .default(DEFAULT_FACEBOOK_API_VERSION),
    FACEBOOK_TIMEOUT_MS: intFromEnv(60_000),
    /** Only for the local sandbox: trust its `x-sandbox-retry-after-ms` throttle hint (Meta sends no such header). */
    FACEBOOK_RETRY_AFTER_HEADER: z.string().optional(),

    API_HOST: z.string().default('127.0.0.1'),
    API_PORT: intFromEnv(8080, 0),
    /** `name:role:secret,...` (roles admin, operator, viewer); a bare secret is an admin key (src/api/api-keys.ts). */
    API_KEYS: csv.transform((entries, ctx) => {
      const { keys, problems } = parseApiKeys(entries);
      for (const message of problems) ctx.addIssue({ code: 'custom', message });
      return keys;
    }),
    /** `true`: `/docs` needs an API key too (production); unset = the docs are public. */
    API_DOCS_REQUIRE_KEY: flag,
    /**
     * Behind a proxy or load balancer, whose X-Forwarded-For to trust for the client address (Fastify's trustProxy):
     * `true` (any), or comma-separated addresses/CIDRs of the proxies. Rate limits per address need it, else all share the proxy's.
     */
    API_TRUST_PROXY: z.string().optional(),
    API_FAILED_AUTH_PER_MINUTE: intFromEnv(30),
    API_PREVIEWS_PER_MINUTE: intFromEnv(30),
    API_PREVIEW_CONCURRENCY: intFromEnv(2),
    API_ERASURES_PER_MINUTE: intFromEnv(60),
    API_CALLBACKS_PER_MINUTE: intFromEnv(30),
    /** PostgreSQL's statement_timeout on the API's connections; 0 = none. */
    API_STATEMENT_TIMEOUT_MS: intFromEnv(60_000, 0),
    PUBLIC_URL: optionalUrl,

    ENCRYPTION_KEY: z.string().refine(isKey32, KEY_HINT).optional(),
    /** The version byte tokens sealed with ENCRYPTION_KEY carry; raise it with each new key. */
    ENCRYPTION_KEY_VERSION: z.coerce.number().int().min(1).max(255).default(1),
    ENCRYPTION_PREVIOUS_KEYS: PreviousKeysSchema,

    EXPORT_MAX_PROFILES: intFromEnv(10_000_000),
    EXPORT_PAGE_SIZE: intFromEnv(10_000).pipe(z.number().max(10_000, 'Meta accepts at most 10,000 rows per call')),
    EXPORT_PAGE_CONCURRENCY: intFromEnv(4),
    /** How long an export may take, rate-limit waits included, before Temporal stops it (its execution timeout). */
    EXPORT_TIMEOUT_MS: intFromEnv(DEFAULT_EXPORT_TIMEOUT_MS, 1_000),
    WORKER_ACTIVITY_CONCURRENCY: intFromEnv(16),
    /** Threads normalising and hashing large pages; 0 = off; unset = one less than the cores, at least 1. */
    WORKER_HASH_THREADS: z.coerce.number().int().min(0).max(64).optional(),

    WEBHOOK_URL: optionalUrl.refine((u) => {
      const url = u === undefined ? undefined : new URL(u);
      return !url || url.protocol === 'https:' || (url.protocol === 'http:' && isLoopbackHost(url.hostname));
    }, 'must be https (http only to localhost / 127.0.0.1 / [::1])'),
    WEBHOOK_SECRET: z.string().min(32, 'needs at least 32 characters (openssl rand -hex 24)').optional(),
    /** host:port where the worker serves the Temporal SDK's Prometheus metrics (e.g. 0.0.0.0:9464); off when unset. */
    WORKER_METRICS_ADDRESS: z.string().optional(),
    /** Comma-separated delays (ms) of the post-export audience health checks; unset = the workflow's 1 h and 24 h. */
    EXPORT_HEALTH_CHECK_DELAYS_MS: z
      .string()
      .regex(/^(\d+(,\d+)*)?$/, 'must be comma-separated milliseconds, e.g. 3600000,86400000 (empty for none)')
      .optional(),

    SANDBOX_PORT: intFromEnv(8787, 0),
    LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  })
  .refine((e) => e.WEBHOOK_URL === undefined || e.WEBHOOK_SECRET !== undefined, {
    path: ['WEBHOOK_SECRET'],
    message: 'is required with WEBHOOK_URL: receivers check the signature made with it',
  })
  .refine((e) => !e.ENCRYPTION_PREVIOUS_KEYS[e.ENCRYPTION_KEY_VERSION], {
    path: ['ENCRYPTION_PREVIOUS_KEYS'],
    message: 'holds the version of ENCRYPTION_KEY itself: raise ENCRYPTION_KEY_VERSION for a new key',
  })
  .refine((e) => e.ENCRYPTION_KEY !== undefined || Object.keys(e.ENCRYPTION_PREVIOUS_KEYS).length === 0, {
    path: ['ENCRYPTION_KEY'],
    message: 'is required with ENCRYPTION_PREVIOUS_KEYS (the new key tokens are sealed with)',
  });

export type Env = z.infer<typeof EnvSchema>;

export interface Config {
  temporal: {
    address: string;
    namespace: string;
    taskQueue: string;
    uiUrl: string;
    /** API key and TLS from the TEMPORAL_* variables (src/temporal/connection-settings.ts). Secret: never logged. */
    connection: TemporalConnectionSettings;
  };
  database: { url?: string; sourceUrl?: string; dataDir: string; profileSource?: string };
  facebook: {
    appId?: string;
    appSecret?: string;
    /** Facebook Login for Business configuration id; when set the dialog asks for it instead of `scope`. */
    loginConfigId?: string;
    graphUrl: string;
    dialogUrl: string;
    apiVersion: string;
    timeoutMs: number;
    retryAfterHeader?: string;
  };
  api: {
    host: string;
    port: number;
    /** Named keys with roles (src/api/api-keys.ts). Secrets: never logged. */
    keys: ApiKey[];
    publicUrl: string;
    /** `/docs` needs a key (API_DOCS_REQUIRE_KEY). */
    docsRequireKey: boolean;
    trustProxy?: true | string[];
    limits: {
      failedAuthPerMinute: number;
      previewsPerMinute: number;
      previewConcurrency: number;
      erasuresPerMinute: number;
      callbacksPerMinute: number;
      statementTimeoutMs: number;
    };
  };
  /** Seals tokens now; `encryptionKeyVersion` is written with it, `previousEncryptionKeys` are only read. */
  encryptionKey?: Buffer;
  encryptionKeyVersion: number;
  previousEncryptionKeys: Readonly<Record<number, Buffer>>;
  export: {
    maxProfiles: number;
    pageSize: number;
    pageConcurrency: number;
    activityConcurrency: number;
    /** The export workflow's execution timeout (EXPORT_TIMEOUT_MS). */
    timeoutMs: number;
  };
  webhook: { url?: string; secret?: string };
  /** Worker: Prometheus endpoint of the SDK's metrics; export timing overrides. */
  worker: {
    metricsAddress?: string;
    healthCheckDelaysMs?: number[];
    hashThreads?: number;
    workflowBundlePath?: string;
  };
  sandbox: { port: number };
  logLevel: Env['LOG_LEVEL'];
}

/** A configuration error that names every bad variable, so an operator can fix them all at once. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  }
}

const trustProxyOf = (v: string): true | string[] => (v === 'true' ? true : v.split(',').map((s) => s.trim()));

/** Parses the environment into the one typed config object. Values are never echoed (they may be secrets). */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const parsed = EnvSchema.safeParse(env);
  if (!parsed.success) {
    throw new ConfigError(parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`));
  }
  const e = parsed.data;
  const temporal = temporalConnectionFromEnv(env, {
    allowPlaintext: isTrue(e.TEMPORAL_ALLOW_PLAINTEXT),
  });
  if (!temporal.ok) throw new ConfigError(temporal.problems);
  return {
    temporal: {
      address: temporal.address ?? e.TEMPORAL_ADDRESS,
      namespace: temporal.namespace ?? e.TEMPORAL_NAMESPACE,
      taskQueue: e.TEMPORAL_TASK_QUEUE,
      uiUrl: e.TEMPORAL_UI_URL,
      connection: temporal.connection,
    },
    database: {
      url: e.DATABASE_URL,
      sourceUrl: e.SOURCE_DATABASE_URL,
      dataDir: e.DATA_DIR,
      profileSource: e.PROFILE_SOURCE,
    },
    facebook: {
      appId: e.FACEBOOK_APP_ID,
      appSecret: e.FACEBOOK_APP_SECRET,
      loginConfigId: e.FACEBOOK_LOGIN_CONFIG_ID,
      graphUrl: e.FACEBOOK_GRAPH_URL.replace(/\/+$/, ''),
      dialogUrl: e.FACEBOOK_DIALOG_URL.replace(/\/+$/, ''),
      apiVersion: e.FACEBOOK_API_VERSION,
      timeoutMs: e.FACEBOOK_TIMEOUT_MS,
      retryAfterHeader: e.FACEBOOK_RETRY_AFTER_HEADER,
    },
    api: {
      host: e.API_HOST,
      port: e.API_PORT,
      keys: e.API_KEYS,
      publicUrl: (e.PUBLIC_URL ?? `http://${e.API_HOST}:${e.API_PORT}`).replace(/\/+$/, ''),
      docsRequireKey: isTrue(e.API_DOCS_REQUIRE_KEY),
      ...(e.API_TRUST_PROXY ? { trustProxy: trustProxyOf(e.API_TRUST_PROXY) } : {}),
      limits: {
        failedAuthPerMinute: e.API_FAILED_AUTH_PER_MINUTE,
        previewsPerMinute: e.API_PREVIEWS_PER_MINUTE,
        previewConcurrency: e.API_PREVIEW_CONCURRENCY,
        erasuresPerMinute: e.API_ERASURES_PER_MINUTE,
        callbacksPerMinute: e.API_CALLBACKS_PER_MINUTE,
        statementTimeoutMs: e.API_STATEMENT_TIMEOUT_MS,
      },
    },
    encryptionKey: e.ENCRYPTION_KEY ? Buffer.from(e.ENCRYPTION_KEY, 'base64') : undefined,
    encryptionKeyVersion: e.ENCRYPTION_KEY_VERSION,
    previousEncryptionKeys: e.ENCRYPTION_PREVIOUS_KEYS,
    export: {
      maxProfiles: e.EXPORT_MAX_PROFILES,
      pageSize: e.EXPORT_PAGE_SIZE,
      pageConcurrency: e.EXPORT_PAGE_CONCURRENCY,
      activityConcurrency: e.WORKER_ACTIVITY_CONCURRENCY,
      timeoutMs: e.EXPORT_TIMEOUT_MS,
    },
    webhook: { url: e.WEBHOOK_URL, secret: e.WEBHOOK_SECRET },
    worker: {
      metricsAddress: e.WORKER_METRICS_ADDRESS,
      hashThreads: e.WORKER_HASH_THREADS,
      workflowBundlePath: e.WORKFLOW_BUNDLE_PATH,
      healthCheckDelaysMs:
        e.EXPORT_HEALTH_CHECK_DELAYS_MS === undefined
          ? undefined
          : e.EXPORT_HEALTH_CHECK_DELAYS_MS.split(',').filter(Boolean).map(Number),
    },
    sandbox: { port: e.SANDBOX_PORT },
    logLevel: e.LOG_LEVEL,
  };
}
