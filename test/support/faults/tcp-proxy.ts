import { connect, createServer, type Server, type Socket } from 'node:net';

/** A TCP proxy a test controls: it forwards to a target until cut off, then refuses connections until restored. */
export interface TcpProxy {
  readonly port: number;
  /** Connections accepted so far (a restored proxy that sees new ones shows the client reconnected). */
  readonly accepted: number;
  /** Destroys every open connection and stops listening, so new connections are refused. */
  cut(): Promise<void>;
  /** Listens again on the same port. */
  restore(): Promise<void>;
  close(): Promise<void>;
}

export async function startTcpProxy(target: { host: string; port: number }, port = 0): Promise<TcpProxy> {
  const sockets = new Set<Socket>();
  let accepted = 0;
  let server: Server | undefined;

  const listen = (onPort: number) =>
    new Promise<Server>((resolve, reject) => {
      const s = createServer((client) => {
        accepted += 1;
        const upstream = connect(target.port, target.host);
        sockets.add(client).add(upstream);
        const drop = () => {
          client.destroy();
          upstream.destroy();
          sockets.delete(client);
          sockets.delete(upstream);
        };
        client.on('error', drop).on('close', drop);
        upstream.on('error', drop).on('close', drop);
        client.pipe(upstream).pipe(client);
      });
      s.once('error', reject);
      s.listen(onPort, '127.0.0.1', () => resolve(s));
    });
  const stop = async () => {
    const s = server;
    server = undefined;
    for (const socket of sockets) socket.destroy();
    sockets.clear();
    if (s) await new Promise<void>((resolve) => s.close(() => resolve()));
  };

  server = await listen(port);
  const address = server.address();
  if (typeof address !== 'object' || !address) throw new Error('the proxy has no address');
  const boundPort = address.port;
  return {
    port: boundPort,
    get accepted() {
      return accepted;
    },
    cut: stop,
    async restore() {
      if (!server) server = await listen(boundPort);
    },
    close: stop,
  };
}
