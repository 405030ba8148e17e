import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { connect, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer, type Server, type TLSSocket } from 'node:tls';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { runCli } from '../support/cli-process.js';
import { freePort } from '../../src/ports.js';
import { createExportEnv, type ExportEnv } from '../support/export-env.js';

const SERVER_NAME = 'temporal.test';

/** An openssl-made CA, a server certificate for SERVER_NAME and a client certificate, in `dir`. */
async function makeCertificates(dir: string): Promise<void> {
  const run = (args: string) => execFileSync('openssl', args.split(' '), { cwd: dir, stdio: 'ignore' });
  run('req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=test-ca -keyout ca.key -out ca.pem');
  for (const [name, cn, ext] of [
    ['server', SERVER_NAME, `subjectAltName=DNS:${SERVER_NAME}`],
    ['client', 'audience-export-client', 'extendedKeyUsage=clientAuth'],
  ] as const) {
    await writeFile(join(dir, `${name}.ext`), `${ext}\n`);
    run(`req -newkey rsa:2048 -nodes -subj /CN=${cn} -keyout ${name}.key -out ${name}.csr`);
    run(
      `x509 -req -in ${name}.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 1 -out ${name}.pem -extfile ${name}.ext`,
    );
  }
}

/**
 * A TLS front for the plaintext dev server that demands a client certificate from our CA (mutual TLS), the way a
 * Temporal cluster with mTLS does: a process gets through only with the server CA, the server name and its
 * certificate and key, all from the TEMPORAL_TLS_* variables.
 */
async function startMtlsFront(
  dir: string,
  upstream: string,
): Promise<{ address: string; clients: string[]; server: Server }> {
  const [host, port] = [upstream.replace(/:\d+$/, ''), Number(/:(\d+)$/.exec(upstream)![1])];
  const clients: string[] = [];
  const server = createServer(
    {
      key: await readFile(join(dir, 'server.key')),
      cert: await readFile(join(dir, 'server.pem')),
      ca: await readFile(join(dir, 'ca.pem')),
      requestCert: true,
      rejectUnauthorized: true,
      ALPNProtocols: ['h2'],
    },
    (socket: TLSSocket) => {
      clients.push(String(socket.getPeerCertificate().subject?.CN));
      const back = connect(port, host);
      socket.pipe(back).pipe(socket);
      const end = () => {
        socket.destroy();
        back.destroy();
      };
      socket.on('error', end);
      back.on('error', end);
    },
  );
  server.on('tlsClientError', () => undefined);
  const listenPort = await freePort('127.0.0.1');
  await new Promise<void>((resolve) => server.listen(listenPort, '127.0.0.1', resolve));
  return { address: `127.0.0.1:${(server.address() as AddressInfo).port}`, clients, server };
}

describe('every process connects to Temporal through the TEMPORAL_TLS_* settings (mTLS front on the dev server)', () => {
  let dir: string;
  let env: ExportEnv;
  let front: Awaited<ReturnType<typeof startMtlsFront>>;
  let tlsEnv: Record<string, string>;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ae-mtls-'));
    await makeCertificates(dir);
    front = await startMtlsFront(dir, inject('temporalAddress'));
    env = await createExportEnv('conn_tls', 10);
    tlsEnv = {
      TEMPORAL_ADDRESS: front.address,
      TEMPORAL_TLS_SERVER_CA_CERT_PATH: join(dir, 'ca.pem'),
      TEMPORAL_TLS_SERVER_NAME: SERVER_NAME,
      TEMPORAL_TLS_CLIENT_CERT_PATH: join(dir, 'client.pem'),
      TEMPORAL_TLS_CLIENT_KEY_PATH: join(dir, 'client.key'),
    };
  });
  afterAll(async () => {
    front?.server.close();
    await env?.close();
    await rm(dir, { recursive: true, force: true });
  });

  const childEnv = (extra: Record<string, string>) => {
    return env.childEnv({ WORKFLOW_BUNDLE_PATH: inject('workflowBundlePath'), ...extra });
  };

  it('`worker` polls through mutual TLS; without its certificate, or without the server name, it is refused', async () => {
    const ok = runCli(['worker'], childEnv({ ...tlsEnv, TEMPORAL_TASK_QUEUE: 'conn-tls-worker' }));
    try {
      await ok.waitFor(/polling task queue 'conn-tls-worker'/, 60_000);
      expect(front.clients).toContain('audience-export-client');
    } finally {
      await ok.stop();
    }

    const { TEMPORAL_TLS_CLIENT_CERT_PATH: _c, TEMPORAL_TLS_CLIENT_KEY_PATH: _k, ...noCert } = tlsEnv;
    const refused = runCli(['worker'], childEnv({ ...noCert, TEMPORAL_TASK_QUEUE: 'conn-tls-worker' }));
    expect(await refused.exited).not.toBe(0);
    expect(refused.output()).not.toMatch(/polling task queue/);

    const { TEMPORAL_TLS_SERVER_NAME: _n, ...noName } = tlsEnv;
    const wrongName = runCli(['worker'], childEnv({ ...noName, TEMPORAL_TASK_QUEUE: 'conn-tls-worker' }));
    expect(await wrongName.exited).not.toBe(0);
    expect(wrongName.output()).not.toMatch(/polling task queue/);
  });

  it('`api` reaches Temporal through mutual TLS (/health); without the client certificate Temporal is down', async () => {
    const health = async (extra: Record<string, string>) => {
      const port = await freePort('127.0.0.1');
      const api = runCli(
        ['api'],
        childEnv({ ...extra, API_HOST: '127.0.0.1', API_PORT: String(port), API_KEYS: 'k:admin:' + 'x'.repeat(32) }),
      );
      try {
        await api.waitFor(/API listening/, 60_000);
        const res = await fetch(`http://127.0.0.1:${port}/health`);
        const body = (await res.json()) as { checks?: { temporal: string }; errors?: { field: string }[] };
        return res.status === 200 ? body.checks?.temporal : body.errors?.map((e) => e.field).join(',');
      } finally {
        await api.stop();
      }
    };
    front.clients.length = 0;
    expect(await health(tlsEnv)).toBe('ok');
    expect(front.clients.length).toBeGreaterThan(0);
    const { TEMPORAL_TLS_CLIENT_CERT_PATH: _c, TEMPORAL_TLS_CLIENT_KEY_PATH: _k, ...noCert } = tlsEnv;
    expect(await health(noCert)).toBe('temporal');
  });
});
