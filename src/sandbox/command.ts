import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import type { SandboxConfigInput } from './config.js';
import { startSandbox } from './server.js';

export const SANDBOX_USAGE = `Usage: audience-export sandbox [--port N] [--host H] [--config file.json] [--latency-ms MS] [--quiet]

  --port N          port to listen on (default SANDBOX_PORT, else 8787; 0 = any free port)
  --host H          address to listen on (default 127.0.0.1)
  --config FILE     a partial sandbox world as JSON (src/sandbox/config.ts), e.g. {"oauth":{"deny":true}}
  --latency-ms MS   added to every answer: N or MIN-MAX milliseconds, e.g. 300-1500
  --quiet           do not log requests

Serves the local Graph API stand-in (src/sandbox/README.md) until interrupted, and prints its fake tokens and ids.`;

/** `--latency-ms 300` or `--latency-ms 300-1500`. */
export function parseLatency(value: string): number | [number, number] {
  const m = /^(\d+)(?:-(\d+))?$/.exec(value.trim());
  if (!m) throw new Error(`--latency-ms must be N or MIN-MAX (milliseconds), got '${value}'`);
  const min = Number(m[1]);
  return m[2] === undefined ? min : [min, Math.max(min, Number(m[2]))];
}

/** Serves the sandbox until interrupted and prints the fake tokens and ids it serves. */
export async function runSandboxCommand(args: string[], defaultPort: number): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args,
      options: {
        port: { type: 'string', default: String(defaultPort) },
        host: { type: 'string', default: '127.0.0.1' },
        config: { type: 'string' },
        'latency-ms': { type: 'string' },
        quiet: { type: 'boolean', default: false },
      },
    }));
  } catch (err) {
    console.error(`${err instanceof Error ? err.message : String(err)}\n${SANDBOX_USAGE}`);
    return 2;
  }
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    console.error(`--port must be a port number, got '${values.port}'\n${SANDBOX_USAGE}`);
    return 2;
  }
  let config: Partial<SandboxConfigInput> = {};
  let latencyMs: number | [number, number] | null = null;
  try {
    if (values.config) config = JSON.parse(await readFile(values.config, 'utf8')) as Partial<SandboxConfigInput>;
    if (values['latency-ms']) latencyMs = parseLatency(values['latency-ms']);
  } catch (err) {
    console.error(`${err instanceof Error ? err.message : String(err)}\n${SANDBOX_USAGE}`);
    return 2;
  }
  let sandbox;
  try {
    sandbox = await startSandbox({ port, host: values.host, config, faults: { latencyMs }, log: !values.quiet });
  } catch (err) {
    console.error(`Cannot start the sandbox: ${err instanceof Error ? err.message : String(err)}`);
    return 2;
  }
  const f = sandbox.fixtures;
  console.log(
    [
      `Graph API sandbox listening on ${sandbox.url} (sandbox-only fake tokens below)`,
      `  FACEBOOK_GRAPH_URL=${sandbox.url}  FACEBOOK_DIALOG_URL=${sandbox.url}`,
      `  FACEBOOK_APP_ID=${f.appId}  FACEBOOK_APP_SECRET=${f.appSecret}`,
      `  system user token:           ${f.systemUserToken}`,
      `  user token (60 days):        ${f.userToken}`,
      `  expired token:               ${f.expiredToken}`,
      `  token without ads_management: ${f.noAdsManagementToken}`,
      `  ad account (terms accepted): ${f.adAccountId}`,
      `  ad account (no terms):       ${f.adAccountWithoutTermsId}`,
      `  business:                    ${f.businessId}`,
      `  inspect: ${sandbox.url}/__sandbox/requests  ${sandbox.url}/__sandbox/audiences/<id>/members`,
    ].join('\n'),
  );
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  await sandbox.close();
  return 0;
}
