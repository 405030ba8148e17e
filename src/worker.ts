import { Runtime, Worker, type NativeConnection, type WorkerOptions } from '@temporalio/worker';
import { fileURLToPath } from 'node:url';
import type { Client } from '@temporalio/client';
import { createActivities, type ActivityDeps } from './activities/index.js';
import type { Config } from './config.js';
import { activityDeps, openResources, type ActivityResources } from './resources.js';
import { connectClient, connectWorker } from './temporal/connection.js';
import { reconcileRunningRuns } from './temporal/reconcile-runs.js';
import { ensureTokenCheckSchedule, tokenCheckScheduleId } from './temporal/token-check-schedule.js';

export const WORKFLOWS_PATH = fileURLToPath(new URL('./workflows/index.ts', import.meta.url));

export interface ExportWorkerOptions {
  config: Config;
  connection: NativeConnection;
  /** Scheduled exports start the audience's export from an activity; the sweep asks whether runs live. */
  client: Client;
  resources: ActivityResources;
  /** A prebuilt workflow bundle (tests build one per run). @default WORKFLOW_BUNDLE_PATH, else the sources are bundled at start */
  workflowBundlePath?: string;
  /** The queue to poll, and the one scheduled exports start on. @default config.temporal.taskQueue */
  taskQueue?: string;
  /** Parts a test swaps after assembly (a Graph client that ignores retry hints, shorter heartbeats, page size). */
  overrides?: Partial<Omit<ActivityDeps, 'temporalClient' | 'taskQueue'>>;
}

/**
 * Creates the worker that runs export workflows and their activities on the configured task queue; its activity
 * dependencies come from `activityDeps`, so every way of running a worker has the same ones.
 */
export async function createExportWorker(options: ExportWorkerOptions): Promise<Worker> {
  const { config } = options;
  const taskQueue = options.taskQueue ?? config.temporal.taskQueue;
  const deps: ActivityDeps = {
    ...activityDeps(options.resources, config, { client: options.client, taskQueue }),
    ...options.overrides,
  };
  const bundlePath = options.workflowBundlePath ?? config.worker.workflowBundlePath;
  const workflowSource: Pick<WorkerOptions, 'workflowBundle' | 'workflowsPath'> = bundlePath
    ? { workflowBundle: { codePath: bundlePath } }
    : { workflowsPath: WORKFLOWS_PATH };
  return Worker.create({
    connection: options.connection,
    namespace: config.temporal.namespace,
    taskQueue,
    ...workflowSource,
    activities: createActivities(deps),
    maxConcurrentActivityTaskExecutions: config.export.activityConcurrency,
    // Let in-flight pages settle on shutdown rather than abandoning them mid-request.
    shutdownGraceTime: '30s',
    // Heartbeats reach the server at least every second, so an abort (consent withdrawn) cancels in-flight
    // requests within about a second instead of the default throttle of up to 30 seconds.
    maxHeartbeatThrottleInterval: '1s',
    defaultHeartbeatThrottleInterval: '1s',
  });
}

/** `audience-export worker`: runs until SIGINT/SIGTERM, then drains gracefully (the Runtime handles signals). */
export async function runWorker(config: Config): Promise<number> {
  installWorkerRuntime(config);
  const resources = await openResources(config);
  const connection = await connectWorker(config.temporal);
  const temporal = await connectClient(config.temporal);
  try {
    const worker = await createExportWorker({ config, connection, client: temporal.client, resources });
    console.error(`[worker] polling task queue '${config.temporal.taskQueue}' at ${config.temporal.address}`);
    await ensureHousekeepingSchedule(temporal.client, config.temporal.taskQueue, (line) => console.error(line));
    // Records of runs Temporal closed while no worker was up (terminated, timed out) are finished now, not tomorrow.
    void reconcileRunningRuns({
      ...resources,
      temporalClient: temporal.client,
      taskQueue: config.temporal.taskQueue,
    }).then(
      (s) =>
        s.finished.length > 0 &&
        console.error(`[worker] finished ${s.finished.length} run record(s) Temporal had closed`),
      (err: unknown) => console.error(`[worker] run records not reconciled: ${(err as Error).message}`),
    );
    await worker.run();
    return 0;
  } finally {
    await temporal.close();
    await connection.close();
    await resources.close();
  }
}

/**
 * Every worker makes sure the daily token check (which also finishes stale run records and sweeps staging tables)
 * is scheduled, so a deployment needs no set-up step for it. A failure is reported, not fatal: the next worker
 * start tries again, and exports do not depend on it.
 */
export async function ensureHousekeepingSchedule(
  client: Client,
  taskQueue: string,
  log: (line: string) => void,
): Promise<void> {
  try {
    const created = await ensureTokenCheckSchedule(client, taskQueue);
    if (created) log(`[worker] created the daily token-check schedule '${tokenCheckScheduleId(taskQueue)}'`);
  } catch (err) {
    log(`[worker] the daily token-check schedule was not ensured: ${(err as Error).message}`);
  }
}

/**
 * With WORKER_METRICS_ADDRESS (e.g. `0.0.0.0:9464`), the SDK's own metrics (task slots, poll latency, activity and
 * workflow task counts) are served for Prometheus at `http://<address>/metrics`. Must run before any connection.
 */
export function installWorkerRuntime(config: Config): void {
  const bindAddress = config.worker.metricsAddress;
  if (!bindAddress) return;
  Runtime.install({ telemetryOptions: { metrics: { prometheus: { bindAddress } } } });
}
