import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { connectionOf, DEFAULT_API_URL } from '../../src/cli-client/connection.js';
import { LOCAL_API_FILE } from '../../src/start/local-api-file.js';
import { LOCAL_SECRETS_FILE } from '../../src/start/local-secrets.js';

/** The pid of a process that has exited (so a file naming it is stale). */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', '']);
  await new Promise((resolve) => child.on('close', resolve));
  return child.pid!;
}

/** The real `start` writing the file is in test/start; here, what the CLI makes of what it finds. */
describe('the CLI finds the API', () => {
  it('from a running start on DATA_DIR, ignoring one that is gone, and flags or variables first', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'audience-export-start-stale-'));
    try {
      await writeFile(
        join(dataDir, LOCAL_API_FILE),
        JSON.stringify({ url: 'http://127.0.0.1:1', pid: await deadPid(), localKey: true }),
      );
      await writeFile(join(dataDir, LOCAL_SECRETS_FILE), JSON.stringify({ encryptionKey: 'x', apiKey: 'local-k' }));
      expect(await connectionOf({}, dataDir, {})).toEqual({ baseUrl: DEFAULT_API_URL, apiKey: undefined });
      await writeFile(
        join(dataDir, LOCAL_API_FILE),
        JSON.stringify({ url: 'http://127.0.0.1:1', pid: process.pid, localKey: true }),
      );
      expect(await connectionOf({}, dataDir, {})).toEqual({ baseUrl: 'http://127.0.0.1:1', apiKey: 'local-k' });
      // A start given API_KEYS does not accept the generated key: none is sent.
      await writeFile(
        join(dataDir, LOCAL_API_FILE),
        JSON.stringify({ url: 'http://127.0.0.1:1', pid: process.pid, localKey: false }),
      );
      expect(await connectionOf({}, dataDir, {})).toEqual({ baseUrl: 'http://127.0.0.1:1', apiKey: undefined });
      expect(await connectionOf({ 'api-key': 'mine' }, dataDir, {})).toEqual({
        baseUrl: 'http://127.0.0.1:1',
        apiKey: 'mine',
      });
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });
  it('from a variable, never sending it the generated key', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'audience-export-connection-'));
    try {
      await writeFile(
        join(dataDir, LOCAL_API_FILE),
        JSON.stringify({ url: 'http://127.0.0.1:1', pid: process.pid, localKey: true }),
      );
      await writeFile(join(dataDir, LOCAL_SECRETS_FILE), JSON.stringify({ encryptionKey: 'x', apiKey: 'local-k' }));
      const env = { AUDIENCE_EXPORT_API_URL: 'https://api.example.test' };
      expect(await connectionOf({}, dataDir, env)).toEqual({ baseUrl: 'https://api.example.test', apiKey: undefined });
      expect(await connectionOf({ 'api-url': 'https://other.example.test' }, dataDir, {})).toEqual({
        baseUrl: 'https://other.example.test',
        apiKey: undefined,
      });
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});
