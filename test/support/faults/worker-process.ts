import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { inject } from 'vitest';

const CLI = fileURLToPath(new URL('../../../bin/audience-export.mjs', import.meta.url));

/**
 * A worker child process, the real `audience-export worker` on this test run's workflow bundle
 * (WORKFLOW_BUNDLE_PATH: bundling the sources at every restart would cost seconds per kill), that a test can kill
 * with SIGKILL and start again.
 */
export interface WorkerProcess {
  readonly child: ChildProcess;
  /** Resolves once the worker polls its task queue (it prints one line when it does). */
  readonly ready: Promise<void>;
  /** SIGKILL, resolving once the process is gone. */
  kill(): Promise<void>;
  /** The last lines of its stderr, for a failure message. */
  output(): string;
}

/** Every worker process started, so `killAllWorkers` in afterAll leaves none behind. */
const started = new Set<ChildProcess>();

export function startWorkerProcess(env: NodeJS.ProcessEnv): WorkerProcess {
  const child = spawn(process.execPath, [CLI, 'worker'], {
    env: { WORKFLOW_BUNDLE_PATH: inject('workflowBundlePath'), ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  started.add(child);
  let output = '';
  let settled = false;
  const ready = new Promise<void>((resolve, reject) => {
    child.stderr?.on('data', (chunk: Buffer) => {
      output = (output + chunk.toString()).slice(-8_000);
      if (!settled && output.includes('[worker] polling')) {
        settled = true;
        resolve();
      }
    });
    child.once('exit', (code, signal) => {
      started.delete(child);
      if (!settled) {
        settled = true;
        reject(new Error(`worker exited (${code ?? signal}) before polling:\n${output}`));
      }
    });
  });
  // A caller that never awaits `ready` must not see an unhandled rejection when it kills the worker early.
  ready.catch(() => undefined);
  return {
    child,
    ready,
    output: () => output,
    kill: () => killProcess(child),
  };
}

export async function killProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGKILL');
  await exited;
}

export async function killAllWorkers(): Promise<void> {
  await Promise.all([...started].map(killProcess));
}
