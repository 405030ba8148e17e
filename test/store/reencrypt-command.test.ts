import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { openResources } from '../../src/resources.js';
import { seedDemoProfiles } from '../../src/demo/demo-seed.js';
import { createStore } from '../../src/store/index.js';
import { openPrivateDb } from '../security/private-db.js';

const run = promisify(execFile);

describe('ENCRYPTION_KEY rotation', () => {
  let priv: Awaited<ReturnType<typeof openPrivateDb>>;
  const oldKey = randomBytes(32);
  const newKey = randomBytes(32);
  const env = () => ({
    DATABASE_URL: priv.url,
    ENCRYPTION_KEY: newKey.toString('base64'),
    ENCRYPTION_KEY_VERSION: '2',
    ENCRYPTION_PREVIOUS_KEYS: `1:${oldKey.toString('base64')}`,
    LOG_LEVEL: 'silent',
  });
  const destination = (store: ReturnType<typeof createStore>, name: string) =>
    store.destinations.create({ displayName: name, facebookAppId: '1', adAccountId: null });

  beforeAll(async () => {
    priv = await openPrivateDb('sec_rotation');
    await seedDemoProfiles(priv.db, { profiles: 5 }); // openResources reads the profile source
  });
  afterAll(async () => {
    await priv?.drop();
  });

  it('reads tokens sealed with a previous key, and reencrypt-tokens seals them all with the current one', async () => {
    const before = createStore(priv.db, { encryptionKey: oldKey });
    const a = await destination(before, 'a');
    const b = await destination(before, 'b');
    await before.credentials.save(a.id, { kind: 'system_user', token: 'EAA-token-a' });
    await before.credentials.save(b.id, { kind: 'login', token: 'EAA-token-b' });

    // After the rotation's first step the service reads old tokens and seals new ones with the new key.
    const resources = await openResources(loadConfig(env()));
    try {
      expect(await resources.store.credentials.getToken(a.id)).toBe('EAA-token-a');
      const c = await destination(resources.store, 'c');
      await resources.store.credentials.save(c.id, { kind: 'login', token: 'EAA-token-c' });
      expect((await resources.store.credentials.describe(c.id))?.keyVersion).toBe(2);
    } finally {
      await resources.close();
    }

    const cli = await run('node', ['bin/audience-export.mjs', 'reencrypt-tokens'], {
      env: { ...process.env, ...env() },
    });
    expect(cli.stdout).toContain('Re-encrypted 2 token(s) with key version 2.');
    expect(cli.stdout).toContain('Every token is sealed with the current key');
    // The old key can go: the new one alone reads every token.
    const after = createStore(priv.db, { encryptionKey: newKey, keyVersion: 2 });
    expect(await after.credentials.getToken(a.id)).toBe('EAA-token-a');
    expect(await after.credentials.getToken(b.id)).toBe('EAA-token-b');
    expect((await after.credentials.describe(b.id))?.keyVersion).toBe(2);
    expect(cli.stdout + cli.stderr).not.toMatch(/EAA-token/);
  });

  it('names the destinations whose token no key given can read, and exits 1', async () => {
    const lost = createStore(priv.db, { encryptionKey: randomBytes(32), keyVersion: 7 });
    const d = await destination(lost, 'lost');
    await lost.credentials.save(d.id, { kind: 'login', token: 'EAA-lost' });
    const failed = await run('node', ['bin/audience-export.mjs', 'reencrypt-tokens'], {
      env: { ...process.env, ...env() },
    }).catch((e: unknown) => e as { code: number; stdout: string });
    expect(failed).toMatchObject({ code: 1 });
    expect((failed as { stdout: string }).stdout).toContain(`reconnect Facebook for these destinations`);
    expect((failed as { stdout: string }).stdout).toContain(d.id);
  });
});
