// Entry point of `npm run setup:temporal`: prints where the Temporal CLI is, building it if needed.
import { ensureTemporalCli } from './cli-binary.js';

try {
  console.error(`[temporal] using ${ensureTemporalCli()}`);
} catch (err) {
  console.error(`[temporal] ${(err as Error).message}`);
  process.exit(1);
}
