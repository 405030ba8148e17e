import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.js';
import { isLoopbackAddress } from '../../src/temporal/connection-settings.js';

/** The config's problems for this environment, or [] when it loads. */
function problemsOf(env: NodeJS.ProcessEnv): string[] {
  try {
    loadConfig(env);
    return [];
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
}

describe('Temporal connection settings (envconfig variables)', () => {
  let dir: string;
  let cert: string;
  let key: string;
  let ca: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ae-conn-'));
    [cert, key, ca] = ['client.pem', 'client.key', 'ca.pem'].map((f) => join(dir, f)) as [string, string, string];
    await writeFile(cert, 'CERT');
    await writeFile(key, 'KEY');
    await writeFile(ca, 'CA');
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('knows loopback addresses', () => {
    for (const a of ['localhost:7233', '127.0.0.1:7233', '127.1.2.3:1', '[::1]:7233', 'localhost', 'x.localhost:1'])
      expect(isLoopbackAddress(a), a).toBe(true);
    for (const a of ['temporal:7233', '10.0.0.5:7233', 'my.tmprl.cloud:7233', '[2001:db8::1]:7233', '0.0.0.0:7233'])
      expect(isLoopbackAddress(a), a).toBe(false);
  });

  it('defaults to plaintext localhost:7233 and namespace default', () => {
    const { temporal } = loadConfig({});
    expect(temporal.address).toBe('localhost:7233');
    expect(temporal.namespace).toBe('default');
    expect(temporal.connection.tls).toBeUndefined();
    expect(temporal.connection.apiKey).toBeUndefined();
  });

  it('refuses a non-loopback address without TLS unless TEMPORAL_ALLOW_PLAINTEXT=true', () => {
    const [problem] = problemsOf({ TEMPORAL_ADDRESS: 'temporal:7233' });
    expect(problem).toMatch(/^TEMPORAL_ADDRESS: temporal:7233 is not a loopback address and TLS is off/);
    expect(problem).toMatch(/TEMPORAL_ALLOW_PLAINTEXT=true/);
    expect(problemsOf({ TEMPORAL_ADDRESS: 'temporal:7233', TEMPORAL_ALLOW_PLAINTEXT: 'true' })).toEqual([]);
    expect(problemsOf({ TEMPORAL_ADDRESS: 'temporal:7233', TEMPORAL_TLS: 'true' })).toEqual([]);
  });

  it('an API key turns TLS on; turning TLS off with a key on a remote address is refused', () => {
    const { temporal } = loadConfig({ TEMPORAL_ADDRESS: 'ns.acct.tmprl.cloud:7233', TEMPORAL_API_KEY: 'secret-key' });
    expect(temporal.connection.apiKey).toBe('secret-key');
    expect(temporal.connection.tls).toBe(true);
    const [problem] = problemsOf({
      TEMPORAL_ADDRESS: 'ns.acct.tmprl.cloud:7233',
      TEMPORAL_API_KEY: 'secret-key',
      TEMPORAL_TLS: 'false',
    });
    expect(problem).toMatch(/API key would be sent in clear/);
    expect(problem).not.toContain('secret-key');
  });

  it('loads mutual TLS files, the server CA and the server name', () => {
    const { temporal } = loadConfig({
      TEMPORAL_ADDRESS: 'temporal.internal:7233',
      TEMPORAL_NAMESPACE: 'exports',
      TEMPORAL_TLS_CLIENT_CERT_PATH: cert,
      TEMPORAL_TLS_CLIENT_KEY_PATH: key,
      TEMPORAL_TLS_SERVER_CA_CERT_PATH: ca,
      TEMPORAL_TLS_SERVER_NAME: 'temporal.example',
    });
    expect(temporal.address).toBe('temporal.internal:7233');
    expect(temporal.namespace).toBe('exports');
    const tls = temporal.connection.tls as {
      serverNameOverride?: string;
      serverRootCACertificate?: Uint8Array;
      clientCertPair?: { crt: Uint8Array; key: Uint8Array };
    };
    const text = (bytes?: Uint8Array) => (bytes ? Buffer.from(bytes).toString() : undefined);
    expect(tls.serverNameOverride).toBe('temporal.example');
    expect(text(tls.serverRootCACertificate)).toBe('CA');
    expect(text(tls.clientCertPair?.crt)).toBe('CERT');
    expect(text(tls.clientCertPair?.key)).toBe('KEY');
  });

  it('names each bad variable: unreadable files, a certificate without its key, a bad TEMPORAL_TLS', () => {
    expect(
      problemsOf({ TEMPORAL_TLS_CLIENT_CERT_PATH: join(dir, 'missing.pem'), TEMPORAL_TLS_CLIENT_KEY_PATH: key }),
    ).toEqual([`TEMPORAL_TLS_CLIENT_CERT_PATH: cannot read ${join(dir, 'missing.pem')} (ENOENT)`]);
    expect(problemsOf({ TEMPORAL_TLS_CLIENT_CERT_PATH: cert })).toEqual([
      expect.stringMatching(
        /^TEMPORAL_TLS_CLIENT_CERT_PATH, TEMPORAL_TLS_CLIENT_KEY_PATH: a client certificate needs its key/,
      ),
    ]);
    expect(problemsOf({ TEMPORAL_TLS: 'yes' })).toEqual(['TEMPORAL_TLS: must be true or false']);
  });

  it('reads a TOML profile only when TEMPORAL_CONFIG_FILE names one', async () => {
    const toml = join(dir, 'temporal.toml');
    await writeFile(toml, '[profile.default]\naddress = "127.0.0.1:17233"\nnamespace = "from-file"\n');
    // A profile in the default place (HOME/.config/temporalio) is a developer's CLI setting: not ours.
    const home = join(dir, 'home');
    await mkdir(join(home, '.config', 'temporalio'), { recursive: true });
    await writeFile(join(home, '.config', 'temporalio', 'temporal.toml'), await readFile(toml));
    expect(loadConfig({ HOME: home }).temporal.address).toBe('localhost:7233');
    const { temporal } = loadConfig({ TEMPORAL_CONFIG_FILE: toml });
    expect(temporal.address).toBe('127.0.0.1:17233');
    expect(temporal.namespace).toBe('from-file');
    // The variables still win over the file.
    expect(loadConfig({ TEMPORAL_CONFIG_FILE: toml, TEMPORAL_NAMESPACE: 'env' }).temporal.namespace).toBe('env');
  });
});
