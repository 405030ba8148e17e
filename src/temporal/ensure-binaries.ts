// Entry point of `npm run setup:temporal` (and the first step of `npm test`): finds the Temporal CLI and the
// Temporal Server with its sql tool, building whichever is missing, so no test waits on a build.
import { ensureTemporalCli } from './cli-binary.js';
import { ensureTemporalServer } from './server-binary.js';

try {
  console.error(`[temporal] using ${ensureTemporalCli()}`);
  const server = ensureTemporalServer();
  console.error(`[temporal] using ${server.server} and ${server.sql}`);
} catch (err) {
  console.error(`[temporal] ${(err as Error).message}`);
  process.exit(1);
}
