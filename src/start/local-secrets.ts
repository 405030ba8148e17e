import { randomBytes } from 'node:crypto';
import { chmod, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ensurePrivateDir } from '../private-dir.js';

/** Secrets a local run needs and nobody gave: made once, kept in DATA_DIR so restarts can read old data. */
export interface LocalSecrets {
  /** Base64 of 32 random bytes (the token encryption key). */
  encryptionKey: string;
  apiKey: string;
}

export const LOCAL_SECRETS_FILE = 'local-secrets.json';

function isLocalSecrets(value: unknown): value is LocalSecrets {
  const v = value as Partial<LocalSecrets> | null;
  return typeof v?.encryptionKey === 'string' && typeof v.apiKey === 'string';
}

/** Reads `DATA_DIR/local-secrets.json`; undefined when there is none yet. */
export async function readLocalSecrets(dataDir: string): Promise<LocalSecrets | undefined> {
  const path = join(dataDir, LOCAL_SECRETS_FILE);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  const parsed: unknown = JSON.parse(text);
  if (isLocalSecrets(parsed)) return parsed;
  throw new Error(`${path} is not a local secrets file: delete it to make a new one (stored tokens become unreadable)`);
}

/** Reads `DATA_DIR/local-secrets.json`, creating it (mode 0600) on first use. */
export async function loadOrCreateLocalSecrets(dataDir: string): Promise<LocalSecrets> {
  await ensurePrivateDir(dataDir);
  const existing = await readLocalSecrets(dataDir);
  if (existing) return existing;
  const path = join(dataDir, LOCAL_SECRETS_FILE);
  const secrets: LocalSecrets = {
    encryptionKey: randomBytes(32).toString('base64'),
    apiKey: `local-${randomBytes(24).toString('base64url')}`,
  };
  await writeFile(path, `${JSON.stringify(secrets, null, 2)}\n`, { mode: 0o600, flag: 'wx' });
  await chmod(path, 0o600);
  return secrets;
}
