import { z } from 'zod';
import { temporalConnectionFromEnv, type TemporalConnectionSettings } from './temporal/connection-settings.js';

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

/** Every environment variable the service reads, validated once at start-up. */
const EnvSchema = z.object({
  TEMPORAL_ADDRESS: z.string().default('localhost:7233'),
  TEMPORAL_NAMESPACE: z.string().default('default'),
  TEMPORAL_TASK_QUEUE: z.string().default('audience-export'),
  TEMPORAL_UI_URL: z.url().default('http://localhost:8233'),
  /** `true` lets a Temporal address other than loopback be reached without TLS (a private network's choice). */
  TEMPORAL_ALLOW_PLAINTEXT: z.enum(['true', 'false', '1', '0']).optional(),
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
  API_KEYS: csv.pipe(z.array(z.string().min(16, 'each API key needs at least 16 characters'))),
  PUBLIC_URL: optionalUrl,

  ENCRYPTION_KEY: z
    .string()
    .refine((s) => Buffer.from(s, 'base64').length === 32, 'must be 32 bytes, base64-encoded (openssl rand -base64 32)')
    .optional(),

  EXPORT_MAX_PROFILES: intFromEnv(10_000_000),
  EXPORT_PAGE_SIZE: intFromEnv(10_000).pipe(z.number().max(10_000, 'Meta accepts at most 10,000 rows per call')),
  EXPORT_PAGE_CONCURRENCY: intFromEnv(4),
  WORKER_ACTIVITY_CONCURRENCY: intFromEnv(16),
  /** Threads normalising and hashing large pages; 0 = off; unset = one less than the cores, at least 1. */
  WORKER_HASH_THREADS: z.coerce.number().int().min(0).max(64).optional(),

  WEBHOOK_URL: optionalUrl,
  WEBHOOK_SECRET: z.string().optional(),
  /** host:port where the worker serves the Temporal SDK's Prometheus metrics (e.g. 0.0.0.0:9464); off when unset. */
  WORKER_METRICS_ADDRESS: z.string().optional(),
  /** Comma-separated delays (ms) of the post-export audience health checks; unset = the workflow's 1 h and 24 h. */
  EXPORT_HEALTH_CHECK_DELAYS_MS: z
    .string()
    .regex(/^(\d+(,\d+)*)?$/, 'must be comma-separated milliseconds, e.g. 3600000,86400000 (empty for none)')
    .optional(),

  SANDBOX_PORT: intFromEnv(8787, 0),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
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
  api: { host: string; port: number; keys: string[]; publicUrl: string };
  encryptionKey?: Buffer;
  export: { maxProfiles: number; pageSize: number; pageConcurrency: number; activityConcurrency: number };
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

/** Parses the environment into the one typed config object. Values are never echoed (they may be secrets). */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const parsed = EnvSchema.safeParse(env);
  if (!parsed.success) {
    throw new ConfigError(parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`));
  }
  const e = parsed.data;
  const temporal = temporalConnectionFromEnv(env, {
    allowPlaintext: e.TEMPORAL_ALLOW_PLAINTEXT === 'true' || e.TEMPORAL_ALLOW_PLAINTEXT === '1',
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
    },
    encryptionKey: e.ENCRYPTION_KEY ? Buffer.from(e.ENCRYPTION_KEY, 'base64') : undefined,
    export: {
      maxProfiles: e.EXPORT_MAX_PROFILES,
      pageSize: e.EXPORT_PAGE_SIZE,
      pageConcurrency: e.EXPORT_PAGE_CONCURRENCY,
      activityConcurrency: e.WORKER_ACTIVITY_CONCURRENCY,
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
