import { loadClientConnectConfig } from '@temporalio/envconfig';
import { accessSync, constants } from 'node:fs';
import { isIP } from 'node:net';

/** What a Temporal connection needs beyond the address: TLS (certificates loaded) and an API key. Secret. */
type ConnectOptions = ReturnType<typeof loadClientConnectConfig>['connectionOptions'];
export interface TemporalConnectionSettings {
  apiKey?: string;
  /** `undefined`/`false`: plaintext; `true`: TLS with the system's CAs; an object: TLS with these files. */
  tls?: ConnectOptions['tls'];
  /** gRPC headers from TEMPORAL_GRPC_META_* variables. */
  metadata?: ConnectOptions['metadata'];
}

export type TemporalConnectionResult =
  | { ok: true; address?: string; namespace?: string; connection: TemporalConnectionSettings }
  | { ok: false; problems: string[] };

const DEFAULT_ADDRESS = 'localhost:7233';

const PATH_VARIABLES = [
  'TEMPORAL_TLS_CLIENT_CERT_PATH',
  'TEMPORAL_TLS_CLIENT_KEY_PATH',
  'TEMPORAL_TLS_SERVER_CA_CERT_PATH',
  'TEMPORAL_CONFIG_FILE',
] as const;

/** `host:port`, `[v6]:port` or a bare host: loopback hosts may go without TLS. */
export function isLoopbackAddress(address: string): boolean {
  const host = (/^\[([^\]]+)\]/.exec(address)?.[1] ?? address.replace(/:\d+$/, '')).toLowerCase();
  if (host === 'localhost' || host.endsWith('.localhost')) return true;
  if (isIP(host) === 4) return host.startsWith('127.');
  return host === '::1';
}

function unreadable(path: string): string | undefined {
  try {
    accessSync(path, constants.R_OK);
    return undefined;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code ?? 'unreadable';
  }
}

/**
 * The Temporal connection from the standard `@temporalio/envconfig` variables (TEMPORAL_ADDRESS,
 * TEMPORAL_NAMESPACE, TEMPORAL_API_KEY, TEMPORAL_TLS, TEMPORAL_TLS_CLIENT_CERT_PATH / _KEY_PATH,
 * TEMPORAL_TLS_SERVER_CA_CERT_PATH, TEMPORAL_TLS_SERVER_NAME, their _DATA forms, TEMPORAL_GRPC_META_*). A TOML
 * profile is read only when TEMPORAL_CONFIG_FILE names one, so a developer's CLI profile never changes where a
 * service connects. Refuses, naming the variables: unreadable files, a certificate without its key, and a
 * non-loopback address without TLS (the API key or workflow data would cross the network in clear) unless
 * `allowPlaintext`.
 */
export function temporalConnectionFromEnv(
  env: NodeJS.ProcessEnv,
  options: { allowPlaintext: boolean },
): TemporalConnectionResult {
  const problems: string[] = [];
  for (const name of PATH_VARIABLES) {
    const path = env[name];
    const code = path ? unreadable(path) : undefined;
    if (code) problems.push(`${name}: cannot read ${path} (${code})`);
  }
  const cert = env.TEMPORAL_TLS_CLIENT_CERT_PATH ?? env.TEMPORAL_TLS_CLIENT_CERT_DATA;
  const key = env.TEMPORAL_TLS_CLIENT_KEY_PATH ?? env.TEMPORAL_TLS_CLIENT_KEY_DATA;
  if (Boolean(cert) !== Boolean(key)) {
    problems.push(
      'TEMPORAL_TLS_CLIENT_CERT_PATH, TEMPORAL_TLS_CLIENT_KEY_PATH: a client certificate needs its key (set both or neither)',
    );
  }
  if (env.TEMPORAL_TLS !== undefined && !['true', 'false', '1', '0'].includes(env.TEMPORAL_TLS)) {
    problems.push('TEMPORAL_TLS: must be true or false');
  }
  if (problems.length > 0) return { ok: false, problems };

  let loaded;
  try {
    loaded = loadClientConnectConfig({
      disableFile: !env.TEMPORAL_CONFIG_FILE,
      overrideEnvVars: definedOnly(env),
    });
  } catch (err) {
    return { ok: false, problems: [`TEMPORAL_CONFIG_FILE / TEMPORAL_*: ${(err as Error).message}`] };
  }
  const { address, apiKey, tls, metadata } = loaded.connectionOptions;
  const tlsOn = tls != null && tls !== false;
  const finalAddress = address ?? DEFAULT_ADDRESS;
  if (!tlsOn && !options.allowPlaintext && !isLoopbackAddress(finalAddress)) {
    return {
      ok: false,
      problems: [
        `TEMPORAL_ADDRESS: ${finalAddress} is not a loopback address and TLS is off` +
          (apiKey ? ' (the API key would be sent in clear)' : '') +
          ': set TEMPORAL_TLS=true (and the TEMPORAL_TLS_* files), or TEMPORAL_ALLOW_PLAINTEXT=true on a private network',
      ],
    };
  }
  return {
    ok: true,
    address,
    namespace: loaded.namespace,
    connection: { apiKey, tls, ...(metadata && Object.keys(metadata).length > 0 ? { metadata } : {}) },
  };
}

function definedOnly(env: NodeJS.ProcessEnv): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(env)) if (v !== undefined) out[k] = v;
  return out;
}
