import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../src/ports.js';
import { LOCAL_API_FILE } from '../../src/start/local-api-file.js';
import { LOCAL_SECRETS_FILE } from '../../src/start/local-secrets.js';
import { runCli, type CliProcess } from '../support/cli-process.js';

/** A server that records the headers of every request and answers an empty run list. */
async function recordingApi(): Promise<{ url: string; seen: IncomingHttpHeaders[]; close: () => void }> {
  const seen: IncomingHttpHeaders[] = [];
  const server = createServer((req, res) => {
    seen.push(req.headers);
    res.writeHead(200, { 'content-type': 'application/json' }).end('{"items":[],"nextCursor":null}');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen, close: () => server.close() };
}

describe('audience-export start', () => {
  it('on an empty DATA_DIR says to run seed, without a stack trace and before starting Temporal', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'audience-export-start-empty-'));
    try {
      const start = runCli(['start'], { DATA_DIR: dataDir, API_PORT: String(await freePort()) });
      const code = await start.exited;
      const out = start.output();
      expect(code, out).toBe(2);
      expect(out).toContain('table or view "demo_profiles" does not exist');
      expect(out).toContain('No profiles to export yet: run `audience-export seed`');
      expect(out).not.toMatch(/^\s+at /m);
      expect(out).not.toContain('[temporal]');
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });

  describe('with demo profiles', () => {
    let dataDir: string;
    let start: CliProcess;
    let apiUrl: string;
    let key: string;

    beforeAll(async () => {
      dataDir = await mkdtemp(join(tmpdir(), 'audience-export-start-'));
      const seed = runCli(['seed', '--profiles', '50'], { DATA_DIR: dataDir });
      expect(await seed.exited, seed.output()).toBe(0);
      start = runCli(['start'], {
        DATA_DIR: dataDir,
        API_PORT: String(await freePort()),
        TEMPORAL_UI_URL: `http://127.0.0.1:${await freePort()}`,
        LOG_LEVEL: 'warn',
      });
      key = decodeURIComponent((await start.waitFor(/Console:\s+http:\/\/\S+#key=(\S+)/, 170_000))[1]!);
      apiUrl = (await start.waitFor(/API:\s+(http:\/\/\S+)/))[1]!;
      await start.waitFor(/exports list/);
    }, 240_000);

    afterAll(async () => {
      const code = await start?.stop();
      // Stopped: nothing points the CLI at an API that is gone.
      await expect(stat(join(dataDir, LOCAL_API_FILE))).rejects.toThrow(/ENOENT/);
      await rm(dataDir, { recursive: true, force: true });
      expect(code, start?.output()).toBe(0);
    }, 60_000);

    it('prints the API key only inside the console link’s fragment', async () => {
      const out = start.output();
      expect(out.split(key)).toHaveLength(2);
      expect(out).toContain(`#key=${encodeURIComponent(key)}`);
      expect(out).not.toMatch(/API key:/);
      expect(out).toContain(
        `Bearer $KEY" ${apiUrl}/destinations   (KEY: apiKey in ${join(dataDir, LOCAL_SECRETS_FILE)})`,
      );
      const secrets = JSON.parse(await readFile(join(dataDir, LOCAL_SECRETS_FILE), 'utf8')) as { apiKey: string };
      expect(secrets.apiKey).toBe(key);
    });

    it('leaves its API’s address in DATA_DIR (0600), where the CLI finds it and the key', async () => {
      const file = join(dataDir, LOCAL_API_FILE);
      expect((await stat(file)).mode & 0o777).toBe(0o600);
      expect(JSON.parse(await readFile(file, 'utf8'))).toEqual({ url: apiUrl, pid: start.child.pid, localKey: true });

      // No flag, no variable: the CLI asks the running start, with its key.
      const list = runCli(['exports', 'list', '--json'], { DATA_DIR: dataDir });
      expect(await list.exited, list.output()).toBe(0);
      expect(JSON.parse(list.output())).toMatchObject({ items: [] });

      // Another API named by a variable gets no key from DATA_DIR.
      const other = await recordingApi();
      try {
        const elsewhere = runCli(['exports', 'list', '--json'], {
          DATA_DIR: dataDir,
          AUDIENCE_EXPORT_API_URL: other.url,
        });
        expect(await elsewhere.exited, elsewhere.output()).toBe(0);
        expect(other.seen).toHaveLength(1);
        expect(other.seen[0]!.authorization).toBeUndefined();
      } finally {
        other.close();
      }
    });
  });
});
