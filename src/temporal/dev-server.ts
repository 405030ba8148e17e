import { Connection } from '@temporalio/client';
import { spawn, type ChildProcess } from 'node:child_process';
import { freePort } from '../ports.js';
import { searchAttributeFlags } from '../workflows/search-attributes.js';

export interface DevServer {
  address: string;
  uiUrl?: string;
  process: ChildProcess;
  stop(): Promise<void>;
}

export interface DevServerOptions {
  cliPath: string;
  namespace?: string;
  /** Persist state across restarts; in-memory when absent. */
  dbFilename?: string;
  port?: number;
  /** Serve the Temporal UI on this port; headless when absent. */
  uiPort?: number;
  ip?: string;
  /** More flags, e.g. `--dynamic-config-value limit.historyCount.suggestContinueAsNew=50` in tests. */
  extraArgs?: string[];
  /** How long to wait for the frontend to answer. @default 60000 */
  startTimeoutMs?: number;
  log?: (line: string) => void;
}

/**
 * Starts `temporal server start-dev` with our search attributes and waits until its frontend answers.
 * We spawn it ourselves rather than use `TestWorkflowEnvironment.createLocal`, whose 5-second start-up
 * deadline is too tight on a loaded 2-core machine.
 */
export async function startDevServer(options: DevServerOptions): Promise<DevServer> {
  const ip = options.ip ?? '127.0.0.1';
  const port = options.port ?? (await freePort(ip));
  const namespace = options.namespace ?? 'default';
  const args = [
    'server',
    'start-dev',
    '--ip',
    ip,
    '--port',
    String(port),
    '--http-port',
    String(await freePort(ip)),
    '--metrics-port',
    String(await freePort(ip)),
    '--namespace',
    namespace,
    '--log-level',
    'error',
    ...searchAttributeFlags(),
    ...(options.dbFilename ? ['--db-filename', options.dbFilename] : []),
    ...(options.uiPort ? ['--ui-port', String(options.uiPort)] : ['--headless']),
    ...(options.extraArgs ?? []),
  ];
  const child = spawn(options.cliPath, args, { stdio: ['ignore', 'pipe', 'pipe'], detached: false });
  let output = '';
  const collect = (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-4000);
  };
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);

  const address = `${ip}:${port}`;
  const deadline = Date.now() + (options.startTimeoutMs ?? 60_000);
  for (;;) {
    if (child.exitCode !== null) {
      throw new Error(`temporal server start-dev exited with ${child.exitCode}:\n${output}`);
    }
    try {
      const connection = await Connection.connect({ address, connectTimeout: 1000 });
      await connection.workflowService.describeNamespace({ namespace });
      await connection.close();
      break;
    } catch (err) {
      if (Date.now() > deadline) {
        child.kill('SIGKILL');
        throw new Error(
          `Temporal dev server did not answer at ${address} in time: ${(err as Error).message}\n${output}`,
        );
      }
      await new Promise((r) => setTimeout(r, 250));
    }
  }
  options.log?.(`[temporal] dev server at ${address}`);
  return {
    address,
    uiUrl: options.uiPort ? `http://${ip}:${options.uiPort}` : undefined,
    process: child,
    stop: () => stopChild(child),
  };
}

async function stopChild(child: ChildProcess, graceMs = 10_000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
}
