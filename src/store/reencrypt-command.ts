import type { Config } from '../config.js';
import { storeOptions } from '../resources.js';
import { openDb } from './db.js';
import { createStore, migrate } from './index.js';

export const REENCRYPT_USAGE = `Usage: audience-export reencrypt-tokens

Seals every stored Facebook token with the current ENCRYPTION_KEY (version ENCRYPTION_KEY_VERSION), reading
older ones with ENCRYPTION_PREVIOUS_KEYS. Rotating the key:
  1. set the new key as ENCRYPTION_KEY, raise ENCRYPTION_KEY_VERSION, and move the old key into
     ENCRYPTION_PREVIOUS_KEYS as <old version>:<old key>; restart the API and the workers;
  2. run this command (safe to repeat, and to run while exports run);
  3. once it reports every token current, drop the old key from ENCRYPTION_PREVIOUS_KEYS.

No options: configuration comes from the environment (DATABASE_URL or DATA_DIR, and the keys above).
Exit code 1 when a token could not be read with any key given (its destination must reconnect Facebook).`;

/** `audience-export reencrypt-tokens`: the second step of an ENCRYPTION_KEY rotation. */
export async function runReencryptCommand(
  _args: string[],
  config: Config,
  out: (line: string) => void = (line) => console.log(line),
): Promise<number> {
  if (!config.encryptionKey) {
    out('Set ENCRYPTION_KEY (the key to seal tokens with) first.');
    return 2;
  }
  const db = await openDb({ url: config.database.url, dataDir: config.database.dataDir });
  try {
    await migrate(db);
    const store = createStore(db, storeOptions(config));
    const { reencrypted, undecryptable } = await store.credentials.reencryptAll();
    out(`Re-encrypted ${reencrypted} token(s) with key version ${config.encryptionKeyVersion}.`);
    if (undecryptable.length === 0) {
      out('Every token is sealed with the current key: earlier keys can leave ENCRYPTION_PREVIOUS_KEYS.');
      return 0;
    }
    out(
      `${undecryptable.length} token(s) could not be read with any key given; reconnect Facebook for these ` +
        `destinations (or add their key to ENCRYPTION_PREVIOUS_KEYS and run this again): ${undecryptable.join(', ')}`,
    );
    return 1;
  } finally {
    await db.close();
  }
}
