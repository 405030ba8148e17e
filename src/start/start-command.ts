import type { Config } from '../config.js';
import { consoleLink } from './console-link.js';
import { startLocalStack } from './local-stack.js';

/**
 * `audience-export start`: Temporal dev server (unless TEMPORAL_ADDRESS is set), the sandbox (unless a Facebook
 * app is configured), database, worker and API in one process tree, until SIGINT/SIGTERM stops all of it.
 */
export async function runStartCommand(_args: string[], config: Config): Promise<number> {
  const log = (line: string) => console.error(line);
  const stack = await startLocalStack(config, { log });
  const keyFromEnv = config.api.keys.length > 0;
  const f = stack.sandbox?.fixtures;
  console.log(
    [
      '',
      'audience-export is running (Ctrl-C stops everything)',
      `  Console:      ${keyFromEnv ? `${consoleLink(stack.config.api.publicUrl)}   (sign in with one of API_KEYS)` : consoleLink(stack.config.api.publicUrl, stack.apiKey)}`,
      `  API:          ${stack.apiUrl}`,
      `  API docs:     ${stack.apiUrl}/docs`,
      `  API key:      ${keyFromEnv ? 'one of API_KEYS' : `${stack.apiKey}   (kept in ${config.database.dataDir}/local-secrets.json)`}`,
      `  Temporal:     ${stack.temporalAddress} (namespace ${stack.config.temporal.namespace})`,
      `  Temporal UI:  ${stack.temporalUiUrl ?? 'not known: set TEMPORAL_UI_URL'}`,
      `  Database:     ${config.database.url ? 'DATABASE_URL' : `embedded PostgreSQL in ${config.database.dataDir}`}`,
      ...(stack.sandbox && f
        ? [
            `  Graph API:    sandbox at ${stack.sandbox.url} (no FACEBOOK_APP_ID configured)`,
            `    ad account ${f.adAccountId}, system-user token ${f.systemUserToken}`,
          ]
        : [`  Graph API:    ${stack.config.facebook.graphUrl} (app ${stack.config.facebook.appId})`]),
      '',
      `  curl -H 'Authorization: Bearer ${keyFromEnv ? '<key>' : stack.apiKey}' ${stack.apiUrl}/destinations`,
      '',
    ].join('\n'),
  );
  const signal = await new Promise<string>((resolve) => {
    process.once('SIGINT', () => resolve('SIGINT'));
    process.once('SIGTERM', () => resolve('SIGTERM'));
    stack.workerDone.then(
      () => resolve('worker stopped'),
      (err: unknown) => resolve(`worker failed: ${err instanceof Error ? err.message : String(err)}`),
    );
  });
  log(`[start] ${signal}: stopping the worker, API, sandbox and Temporal`);
  const failed = signal.startsWith('worker failed');
  await stack.stop();
  log('[start] stopped');
  return failed ? 1 : 0;
}
