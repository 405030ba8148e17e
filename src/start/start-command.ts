import { join, resolve } from 'node:path';
import type { Config } from '../config.js';
import { SourceConfigError } from '../sources/errors.js';
import { consoleLink } from './console-link.js';
import { removeLocalApi, writeLocalApi } from './local-api-file.js';
import { LOCAL_SECRETS_FILE } from './local-secrets.js';
import { startLocalStack, type LocalStack } from './local-stack.js';

/**
 * `audience-export start`: Temporal dev server (unless TEMPORAL_ADDRESS is set), the sandbox (unless a Facebook
 * app is configured), database, worker and API in one process tree, until SIGINT/SIGTERM stops all of it.
 */
export async function runStartCommand(_args: string[], config: Config): Promise<number> {
  const log = (line: string) => console.error(line);
  let stack: LocalStack;
  try {
    stack = await startLocalStack(config, { log });
  } catch (err) {
    if (!(err instanceof SourceConfigError)) throw err;
    console.error(`${err.message}\n${whatToDoWithoutProfiles(config)}`);
    return 2;
  }
  const dataDir = resolve(config.database.dataDir);
  const keyFromEnv = config.api.keys.length > 0;
  await writeLocalApi(dataDir, { url: stack.apiUrl, pid: process.pid, localKey: !keyFromEnv });
  const f = stack.sandbox?.fixtures;
  // The key is printed only inside the sign-in link's fragment: a key on a line of its own ends up in scrollback
  // and pasted logs; the CLI on this machine reads it from DATA_DIR instead.
  const keyHint = keyFromEnv ? 'one of API_KEYS' : `apiKey in ${join(dataDir, LOCAL_SECRETS_FILE)}`;
  console.log(
    [
      '',
      'audience-export is running (Ctrl-C stops everything)',
      `  Console:      ${keyFromEnv ? `${consoleLink(stack.config.api.publicUrl)}   (sign in with one of API_KEYS)` : consoleLink(stack.config.api.publicUrl, stack.apiKey)}`,
      `  API:          ${stack.apiUrl}`,
      `  API docs:     ${stack.apiUrl}/docs`,
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
      `  curl -H "Authorization: Bearer $KEY" ${stack.apiUrl}/destinations   (KEY: ${keyHint})`,
      `  audience-export exports list   (on this machine the CLI finds this API and its key in ${config.database.dataDir})`,
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
  await removeLocalApi(dataDir);
  await stack.stop();
  log('[start] stopped');
  return failed ? 1 : 0;
}

/** A profile source that cannot be read: on a fresh DATA_DIR that is the demo tables not seeded yet. */
function whatToDoWithoutProfiles(config: Config): string {
  if (config.database.profileSource) {
    return 'Fix PROFILE_SOURCE (see src/sources/profile-source-config.ts), then run start again.';
  }
  return (
    'No profiles to export yet: run `audience-export seed` (demo profiles into this DATA_DIR; --profiles N), ' +
    'then start again; or set PROFILE_SOURCE to your own tables (README, "PostgreSQL, a Temporal cluster…").'
  );
}
