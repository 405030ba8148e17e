import { readLocalApi } from '../start/local-api-file.js';
import { readLocalSecrets } from '../start/local-secrets.js';

export interface Connection {
  baseUrl: string;
  apiKey?: string;
}

export const DEFAULT_API_URL = 'http://127.0.0.1:8080';

/**
 * The API to talk to: flags, then AUDIENCE_EXPORT_API_URL / _KEY, then a `start` running on this DATA_DIR (its
 * local-api.json, and the key it generated in local-secrets.json), then the default local address. The local key
 * goes only to that local API: a URL given by flag or variable never receives it.
 */
export async function connectionOf(
  values: { 'api-url'?: string; 'api-key'?: string },
  dataDir: string,
  env: NodeJS.ProcessEnv = process.env,
): Promise<Connection> {
  const givenUrl = values['api-url'] ?? env.AUDIENCE_EXPORT_API_URL;
  const givenKey = values['api-key'] ?? env.AUDIENCE_EXPORT_API_KEY;
  const local = givenUrl === undefined ? await readLocalApi(dataDir) : undefined;
  const localKey = local?.localKey && givenKey === undefined ? (await readLocalSecrets(dataDir))?.apiKey : undefined;
  return { baseUrl: givenUrl ?? local?.url ?? DEFAULT_API_URL, apiKey: givenKey ?? localKey };
}
