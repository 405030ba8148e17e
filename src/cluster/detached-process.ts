import { spawn } from 'node:child_process';
import { closeSync, openSync, readFileSync, statSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';

/**
 * Long-running processes of `cluster up`, which outlive the command: detached, output appended to a log file,
 * found again by pid. A pid is trusted only while /proc shows a live process whose command line holds `marker`
 * (pids are reused; and a container's init may never reap an orphan, leaving a zombie that `kill 0` calls alive).
 */
export function startDetached(
  command: string,
  args: string[],
  options: { env: NodeJS.ProcessEnv; logFile: string; cwd?: string },
): number {
  const log = openSync(options.logFile, 'a', 0o600);
  try {
    const child = spawn(command, args, {
      env: options.env,
      cwd: options.cwd,
      detached: true,
      stdio: ['ignore', log, log],
    });
    child.unref();
    if (child.pid === undefined) throw new Error(`could not start ${command}`);
    return child.pid;
  } finally {
    closeSync(log);
  }
}

export function isRunning(pid: number | undefined, marker: string): boolean {
  if (!pid) return false;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The state follows the parenthesised command name: Z (zombie) and X (dead) are gone.
    if (/\)\s+[ZX]/.test(stat)) return false;
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(marker);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT' || existsProc()) return false;
    // No /proc (macOS): signal 0 says whether the pid exists.
    try {
      process.kill(pid, 0);
      return true;
    } catch {
      return false;
    }
  }
}

function existsProc(): boolean {
  try {
    return statSync('/proc/self').isDirectory();
  } catch {
    return false;
  }
}

/** SIGTERM, then SIGKILL after `graceMs`; resolves once the process is gone. */
export async function stopProcess(pid: number | undefined, marker: string, graceMs: number): Promise<void> {
  if (!isRunning(pid, marker)) return;
  const signal = (s: NodeJS.Signals) => {
    try {
      process.kill(pid!, s);
    } catch {
      // gone already
    }
  };
  signal('SIGTERM');
  const deadline = Date.now() + graceMs;
  while (isRunning(pid, marker)) {
    if (Date.now() > deadline) {
      signal('SIGKILL');
      while (isRunning(pid, marker)) await sleep(100);
      return;
    }
    await sleep(200);
  }
}

/** The size of a log file now, so a later wait reads only what a new process writes. */
export function logOffset(file: string): number {
  try {
    return statSync(file).size;
  } catch {
    return 0;
  }
}

export function logSince(file: string, offset: number): string {
  try {
    return readFileSync(file).subarray(offset).toString('utf8');
  } catch {
    return '';
  }
}

/** The last lines of a log, for an error message. */
export function logTail(file: string, offset = 0, lines = 30): string {
  // Go services log a stack trace per line: keep each line short.
  return logSince(file, offset)
    .split('\n')
    .slice(-lines)
    .map((l) => (l.length > 400 ? `${l.slice(0, 400)}…` : l))
    .join('\n');
}
