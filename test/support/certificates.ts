import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface Certificates {
  ca: string;
  server: { cert: string; key: string };
  client: { cert: string; key: string };
}

/**
 * An openssl-made CA with a server certificate for `serverName` (and 127.0.0.1) and a client certificate, as
 * PEM files in `dir`: what a cluster with mutual TLS is given.
 */
export function makeCertificates(dir: string, serverName = 'localhost'): Certificates {
  const run = (args: string) => execFileSync('openssl', args.split(' '), { cwd: dir, stdio: 'ignore' });
  run('req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=audience-export-test-ca -keyout ca.key -out ca.pem');
  for (const [name, cn, ext] of [
    ['server', serverName, `subjectAltName=DNS:${serverName},IP:127.0.0.1\nextendedKeyUsage=serverAuth`],
    ['client', 'audience-export-client', 'extendedKeyUsage=clientAuth'],
  ] as const) {
    writeFileSync(join(dir, `${name}.ext`), `${ext}\n`);
    run(`req -newkey rsa:2048 -nodes -subj /CN=${cn} -keyout ${name}.key -out ${name}.csr`);
    run(
      `x509 -req -in ${name}.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 1 -out ${name}.pem -extfile ${name}.ext`,
    );
  }
  const at = (f: string) => join(dir, f);
  return {
    ca: at('ca.pem'),
    server: { cert: at('server.pem'), key: at('server.key') },
    client: { cert: at('client.pem'), key: at('client.key') },
  };
}
