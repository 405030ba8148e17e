import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { SandboxFixtures } from '../../src/sandbox/server.js';
import type { CheckRequest, CheckResponse } from './sandbox-child.js';

const root = fileURLToPath(new URL('../../', import.meta.url));

export interface SandboxChild {
  url: string;
  fixtures: SandboxFixtures;
  process: ChildProcess;
  /** Which of `present` (JSON rows) the audience holds, and its size, in one pass over the audience. */
  check(audienceId: string, present: string[]): Promise<{ total: number; found: Set<number> }>;
  stop(): Promise<void>;
}

export async function startSandboxChild(latency: string): Promise<SandboxChild> {
  const child = spawn(process.execPath, ['--import', 'tsx', `${root}bench/lib/sandbox-child.ts`, latency], {
    cwd: root,
    stdio: ['ignore', 'pipe', 'inherit', 'ipc'],
  });
  const first = await firstLine(child, 'sandbox');
  const { url, fixtures } = JSON.parse(first) as { url: string; fixtures: SandboxFixtures };
  let nextId = 1;
  return {
    url,
    fixtures,
    process: child,
    check: (audienceId, present) =>
      new Promise((resolve) => {
        const id = nextId++;
        const onMessage = (m: CheckResponse) => {
          if (m.type !== 'check' || m.id !== id) return;
          child.off('message', onMessage);
          resolve({ total: m.total, found: new Set(m.found) });
        };
        child.on('message', onMessage);
        const request: CheckRequest = { type: 'check', id, audienceId, present };
        child.send(request);
      }),
    stop: () => stopChild(child),
  };
}

export interface WorkerChild {
  process: ChildProcess;
  stop(): Promise<void>;
}

/** `audience-export worker` as a child; resolves once it polls its task queue. */
export async function startWorkerChild(
  env: NodeJS.ProcessEnv,
  nodeArgs: string[],
  logFile: string,
): Promise<WorkerChild> {
  const child = spawn(process.execPath, [...nodeArgs, `${root}bin/audience-export.mjs`, 'worker'], {
    cwd: root,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  // The SDK logs at INFO whatever LOG_LEVEL says; its output goes to a file, not the figures.
  const log = createWriteStream(logFile);
  child.stdout?.pipe(log);
  await new Promise<void>((resolve, reject) => {
    const lines = createInterface({ input: child.stderr });
    let ready = false;
    lines.on('line', (line) => {
      log.write(`${line}\n`);
      if (!ready && line.includes('polling task queue')) {
        ready = true;
        resolve();
      }
    });
    child.once('exit', (code) => {
      if (!ready) reject(new Error(`the worker exited with ${code} before polling; see ${logFile}`));
    });
  });
  return { process: child, stop: () => stopChild(child, 60_000) };
}

async function firstLine(child: ChildProcess, name: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const lines = createInterface({ input: child.stdout! });
    lines.once('line', resolve);
    child.once('exit', (code) => reject(new Error(`${name} exited with ${code} before it started`)));
  });
}

/** SIGTERM (so a worker drains and writes its CPU profile), SIGKILL after the grace time. */
export async function stopChild(child: ChildProcess, graceMs = 10_000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
}
