import { spawnSync } from 'node:child_process';
import { accessSync, constants, mkdirSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

/** Per-user cache of the Go-built Temporal binaries, so every clone on this machine shares one build. */
export function temporalCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  const base = env.XDG_CACHE_HOME ?? join(homedir(), '.cache');
  return join(base, 'audience-export', 'bin');
}

export function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

export function goAvailable(): boolean {
  return spawnSync('go', ['version'], { stdio: 'ignore' }).status === 0;
}

/**
 * `go install` of `packages` (each `module/path@version`) into the per-user cache, output on stderr.
 * Returns whether it succeeded; `what` names the build in the progress lines.
 */
export function goInstall(what: string, packages: string[], log: (line: string) => void): boolean {
  const gobin = temporalCacheDir();
  mkdirSync(gobin, { recursive: true });
  log(`[temporal] building ${what} into ${gobin} (first time only; takes a few minutes)`);
  const started = Date.now();
  // flock(1): two clones (or a test and a benchmark) starting at once build once; the second then finds Go's cache.
  const command = isExecutable('/usr/bin/flock')
    ? ['/usr/bin/flock', join(gobin, '.build.lock'), 'go', 'install', ...packages]
    : ['go', 'install', ...packages];
  const result = spawnSync(command[0]!, command.slice(1), {
    env: { ...process.env, GOBIN: gobin },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  if (result.status === 0) {
    log(`[temporal] built ${what} in ${Math.round((Date.now() - started) / 1000)} s`);
    return true;
  }
  log(`[temporal] go install of ${what} failed (exit ${result.status ?? 'signal'})`);
  return false;
}
