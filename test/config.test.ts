import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../src/config.js';

const problemsOf = (env: Record<string, string>): string[] => {
  try {
    loadConfig(env);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as ConfigError).problems;
  }
  return [];
};

describe('configuration', () => {
  it('refuses an app secret shorter than a Meta app secret, naming the variable and not the value', () => {
    const short = '0123456789abcdef0123456789abcde'; // 31 characters: a copy that lost one
    const problems = problemsOf({ FACEBOOK_APP_ID: '1234567890', FACEBOOK_APP_SECRET: short });
    expect(problems).toEqual([expect.stringMatching(/^FACEBOOK_APP_SECRET: .*32 characters/)]);
    expect(problems.join('\n')).not.toContain(short);
    const secret = '0123456789abcdef0123456789abcdef';
    expect(loadConfig({ FACEBOOK_APP_ID: '1234567890', FACEBOOK_APP_SECRET: secret }).facebook.appSecret).toBe(secret);
  });

  it('takes an optional numeric FACEBOOK_LOGIN_CONFIG_ID (Facebook Login for Business)', () => {
    expect(loadConfig({}).facebook.loginConfigId).toBeUndefined();
    expect(loadConfig({ FACEBOOK_LOGIN_CONFIG_ID: '123456789012345' }).facebook.loginConfigId).toBe('123456789012345');
    expect(problemsOf({ FACEBOOK_LOGIN_CONFIG_ID: 'ads_management' })).toEqual([
      expect.stringMatching(/^FACEBOOK_LOGIN_CONFIG_ID: must be the numeric configuration id/),
    ]);
  });
});

describe('configuration of secrets (#25)', () => {
  const secret = (c: string) => c.repeat(32);

  it('reads API_KEYS as name:role:secret, a bare secret being an admin key, and never quotes a secret', () => {
    const bare = secret('b');
    const { api } = loadConfig({ API_KEYS: `ci:operator:${secret('o')}, grafana:viewer:${secret('v')},${bare}` });
    expect(api.keys.map((k) => [k.name, k.role])).toEqual([
      ['ci', 'operator'],
      ['grafana', 'viewer'],
      [expect.stringMatching(/^key-[0-9a-f]{8}$/), 'admin'],
    ]);
    expect(api.keys[2]!.secret).toBe(bare);
    // The bare key's name does not depend on its place in the list.
    expect(loadConfig({ API_KEYS: `${secret('x')},${bare}` }).api.keys[1]!.name).toBe(api.keys[2]!.name);

    const short = 'short-but-was-fine-before';
    const problems = problemsOf({
      API_KEYS: `${short},a b:admin:${secret('n')},x:viewer:${secret('d')},x:admin:${secret('e')},y:viewer:${secret('d')}`,
    });
    expect(problems).toEqual([
      'API_KEYS: entry 1: the secret needs at least 32 characters (e.g. openssl rand -hex 24)',
      "API_KEYS: entry 2: the name may have only letters, digits, '.', '_' and '-' (at most 64)",
      'API_KEYS: entry 4: the name x is used twice',
      'API_KEYS: entry 5: the same secret is given twice',
    ]);
    expect(problems.join('\n')).not.toContain(short);
    expect(problemsOf({ API_KEYS: `ops:root:${secret('r')}` })).toEqual([
      'API_KEYS: entry 1: not name:role:secret with role admin, operator or viewer',
    ]);
  });

  it('takes ENCRYPTION_KEY only as strict base64 of 32 bytes, and earlier keys by version', () => {
    const key = Buffer.alloc(32, 3).toString('base64');
    expect(loadConfig({ ENCRYPTION_KEY: key }).encryptionKey).toEqual(Buffer.alloc(32, 3));
    // 44 letters that Node's lenient decoder reads as 32 bytes; and a key with a letter dropped or changed.
    const phrase = 'correcthorsebatterystaplecorrecthorsebatter=';
    expect(Buffer.from(phrase, 'base64').length).toBe(32);
    for (const bad of [phrase, key.slice(1), `${key.slice(0, -2)}B=`, Buffer.alloc(24).toString('base64')]) {
      expect(problemsOf({ ENCRYPTION_KEY: bad }), bad).toEqual([
        'ENCRYPTION_KEY: must be 32 bytes, base64-encoded (openssl rand -base64 32)',
      ]);
    }

    const old = Buffer.alloc(32, 1).toString('base64');
    const rotated = loadConfig({
      ENCRYPTION_KEY: key,
      ENCRYPTION_KEY_VERSION: '2',
      ENCRYPTION_PREVIOUS_KEYS: `1:${old}`,
    });
    expect(rotated.encryptionKeyVersion).toBe(2);
    expect(rotated.previousEncryptionKeys).toEqual({ 1: Buffer.alloc(32, 1) });
    expect(loadConfig({}).encryptionKeyVersion).toBe(1);
    expect(problemsOf({ ENCRYPTION_KEY: key, ENCRYPTION_PREVIOUS_KEYS: `1:${old}` })).toEqual([
      'ENCRYPTION_PREVIOUS_KEYS: holds the version of ENCRYPTION_KEY itself: raise ENCRYPTION_KEY_VERSION for a new key',
    ]);
    expect(
      problemsOf({ ENCRYPTION_KEY: key, ENCRYPTION_KEY_VERSION: '3', ENCRYPTION_PREVIOUS_KEYS: `1:${old},1:${key}` }),
    ).toEqual(['ENCRYPTION_PREVIOUS_KEYS: entry 2: version 1 is given twice']);
    expect(
      problemsOf({ ENCRYPTION_KEY: key, ENCRYPTION_KEY_VERSION: '2', ENCRYPTION_PREVIOUS_KEYS: 'v1:abc' }),
    ).toEqual([
      'ENCRYPTION_PREVIOUS_KEYS: entry 1 must be version:key (1..255, then must be 32 bytes, base64-encoded (openssl rand -base64 32))',
    ]);
    expect(problemsOf({ ENCRYPTION_KEY_VERSION: '2', ENCRYPTION_PREVIOUS_KEYS: `1:${old}` })).toEqual([
      'ENCRYPTION_KEY: is required with ENCRYPTION_PREVIOUS_KEYS (the new key tokens are sealed with)',
    ]);
  });

  it('needs WEBHOOK_SECRET with WEBHOOK_URL, and https unless the receiver is on this machine', () => {
    const whsec = secret('w');
    expect(problemsOf({ WEBHOOK_URL: 'https://hooks.example.com/x' })).toEqual([
      'WEBHOOK_SECRET: is required with WEBHOOK_URL: receivers check the signature made with it',
    ]);
    expect(problemsOf({ WEBHOOK_URL: 'http://hooks.example.com/x', WEBHOOK_SECRET: whsec })).toEqual([
      'WEBHOOK_URL: must be https (http only to localhost / 127.0.0.1 / [::1])',
    ]);
    expect(problemsOf({ WEBHOOK_URL: 'https://hooks.example.com/x', WEBHOOK_SECRET: 'short' })).toEqual([
      'WEBHOOK_SECRET: needs at least 32 characters (openssl rand -hex 24)',
    ]);
    for (const url of [
      'https://hooks.example.com/x',
      'http://127.0.0.1:9000/h',
      'http://localhost/h',
      'http://[::1]:1/h',
    ]) {
      expect(loadConfig({ WEBHOOK_URL: url, WEBHOOK_SECRET: whsec }).webhook.url, url).toBe(url);
    }
  });

  it('gives exports a 24-hour execution timeout unless EXPORT_TIMEOUT_MS says otherwise', () => {
    expect(loadConfig({}).export.timeoutMs).toBe(24 * 3_600_000);
    expect(loadConfig({ EXPORT_TIMEOUT_MS: '7200000' }).export.timeoutMs).toBe(7_200_000);
    expect(() => loadConfig({ EXPORT_TIMEOUT_MS: '0' })).toThrow(/EXPORT_TIMEOUT_MS/);
  });

  it('keeps /docs public unless API_DOCS_REQUIRE_KEY=true', () => {
    expect(loadConfig({}).api.docsRequireKey).toBe(false);
    expect(loadConfig({ API_DOCS_REQUIRE_KEY: 'true' }).api.docsRequireKey).toBe(true);
  });
});
