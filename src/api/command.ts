import type { Config } from '../config.js';
import { startApiServer } from './server.js';

/** `audience-export api`: serves the HTTP API until SIGINT/SIGTERM, then closes connections gracefully. */
export async function runApiCommand(_args: string[], config: Config): Promise<number> {
  const server = await startApiServer(config);
  console.log(`API listening on ${server.url} (docs at ${server.url}/docs)`);
  await new Promise<void>((resolve) => {
    const stop = () => resolve();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  await server.close();
  return 0;
}
