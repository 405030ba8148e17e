import { delimiter, join } from 'node:path';
import { goAvailable, goInstall, isExecutable, temporalCacheDir } from './go-install.js';

/** The Temporal CLI release we build; later tags carry a `replace` directive that `go install` refuses. */
export const TEMPORAL_CLI_VERSIONS = ['v1.5.1', 'v1.4.1', 'v1.3.0'] as const;

/** Looks for `temporal`: TEMPORAL_CLI_PATH, then PATH, then the per-user cache. */
export function findTemporalCli(env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (env.TEMPORAL_CLI_PATH) {
    if (isExecutable(env.TEMPORAL_CLI_PATH)) return env.TEMPORAL_CLI_PATH;
    throw new Error(`TEMPORAL_CLI_PATH=${env.TEMPORAL_CLI_PATH} is not an executable file`);
  }
  for (const dir of (env.PATH ?? '').split(delimiter)) {
    if (dir && isExecutable(join(dir, 'temporal'))) return join(dir, 'temporal');
  }
  const cached = join(temporalCacheDir(env), 'temporal');
  return isExecutable(cached) ? cached : undefined;
}

/**
 * Finds the Temporal CLI, or builds it from the Go module proxy into the per-user cache.
 * Used by `npm test`, `.ci/run`, the demo and `audience-export start` alike.
 */
export function ensureTemporalCli(log: (line: string) => void = (l) => console.error(l)): string {
  const found = findTemporalCli();
  if (found) return found;

  if (!goAvailable()) {
    throw new Error(
      'No Temporal CLI found (TEMPORAL_CLI_PATH, PATH, ' +
        `${temporalCacheDir()}) and no Go toolchain to build one. Install the Temporal CLI ` +
        '(https://docs.temporal.io/cli#install) and put it on PATH or set TEMPORAL_CLI_PATH.',
    );
  }
  for (const version of TEMPORAL_CLI_VERSIONS) {
    if (goInstall(`Temporal CLI ${version}`, [`github.com/temporalio/cli/cmd/temporal@${version}`], log)) {
      return join(temporalCacheDir(), 'temporal');
    }
  }
  throw new Error(`Could not build the Temporal CLI with Go (${TEMPORAL_CLI_VERSIONS.join(', ')} all failed).`);
}
