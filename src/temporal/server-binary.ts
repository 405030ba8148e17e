import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { goAvailable, goInstall, isExecutable, temporalCacheDir } from './go-install.js';

/** The Temporal Server release we build and run; docker-compose.yml uses the same images (a test checks). */
export const TEMPORAL_SERVER_VERSION = 'v1.29.1';

/** The server and its schema tool, as `go install` names them. */
export interface TemporalServerBinaries {
  server: string;
  sql: string;
}

const PACKAGES = [
  `go.temporal.io/server/cmd/server@${TEMPORAL_SERVER_VERSION}`,
  `go.temporal.io/server/cmd/tools/sql@${TEMPORAL_SERVER_VERSION}`,
];

/** The version a binary reports with `--version` (both print `<name> version 1.29.1`). */
function versionOf(path: string): string | undefined {
  const out = spawnSync(path, ['--version'], { encoding: 'utf8', timeout: 30_000 });
  return /version\s+v?(\d+\.\d+\.\d+)/.exec(`${out.stdout}${out.stderr}`)?.[1];
}

/**
 * TEMPORAL_SERVER_PATH and TEMPORAL_SQL_TOOL_PATH when set (an operator's own build), else the per-user cache
 * when both binaries there are this version. A cache of another version counts as missing.
 */
export function findTemporalServer(env: NodeJS.ProcessEnv = process.env): TemporalServerBinaries | undefined {
  if (env.TEMPORAL_SERVER_PATH || env.TEMPORAL_SQL_TOOL_PATH) {
    const given = { server: env.TEMPORAL_SERVER_PATH ?? '', sql: env.TEMPORAL_SQL_TOOL_PATH ?? '' };
    for (const [name, path] of [
      ['TEMPORAL_SERVER_PATH', given.server],
      ['TEMPORAL_SQL_TOOL_PATH', given.sql],
    ] as const) {
      if (!isExecutable(path)) throw new Error(`${name}=${path} is not an executable file (set both or neither)`);
    }
    return given;
  }
  const dir = temporalCacheDir(env);
  const cached = { server: join(dir, 'server'), sql: join(dir, 'sql') };
  const wanted = TEMPORAL_SERVER_VERSION.slice(1);
  const current = [cached.server, cached.sql].every((p) => isExecutable(p) && versionOf(p) === wanted);
  return current ? cached : undefined;
}

/**
 * Finds the Temporal Server and its sql tool, or builds both from the Go module proxy into the per-user cache
 * (about 4 minutes the first time on 2 cores). Used by `npm test` and `audience-export cluster up`.
 */
export function ensureTemporalServer(log: (line: string) => void = (l) => console.error(l)): TemporalServerBinaries {
  const found = findTemporalServer();
  if (found) return found;
  if (!goAvailable()) {
    throw new Error(
      `No Temporal Server ${TEMPORAL_SERVER_VERSION} found in ${temporalCacheDir()} and no Go toolchain to build ` +
        'one. Install Go (https://go.dev/dl), or set TEMPORAL_SERVER_PATH and TEMPORAL_SQL_TOOL_PATH to a ' +
        'temporal-server and temporal-sql-tool of that version.',
    );
  }
  if (!goInstall(`Temporal Server ${TEMPORAL_SERVER_VERSION} and its sql tool`, PACKAGES, log)) {
    throw new Error(`Could not build the Temporal Server ${TEMPORAL_SERVER_VERSION} with Go (see the output above).`);
  }
  const built = findTemporalServer();
  if (!built) throw new Error(`go install finished but ${temporalCacheDir()} has no server ${TEMPORAL_SERVER_VERSION}`);
  return built;
}
