import type { Client, WorkflowHandle } from '@temporalio/client';
import { startExport, type StartedExport } from '../../../src/temporal/start-export.js';
import type { ExportMode } from '../../../src/domain/export-terms.js';
import type { ExportResult } from '../../../src/workflows/contracts.js';
import type { Destination } from '../../../src/store/index.js';
import { targetOf } from '../export-env.js';

export type ExportHandle = WorkflowHandle<(i: unknown) => Promise<ExportResult>>;

/**
 * Starts an export the way the fault tests want it: no health checks, two pages in flight, and a short page
 * heartbeat timeout so a page of a killed worker is retried within seconds.
 */
export async function startFaultExport(
  client: Client,
  taskQueue: string,
  destination: Destination,
  segments: string[],
  mode: ExportMode,
  pageConcurrency = 2,
): Promise<{ started: StartedExport; handle: ExportHandle }> {
  const started = await startExport(client, targetOf(destination, segments, mode), {
    taskQueue,
    trigger: 'manual',
    pageConcurrency,
    timings: { healthCheckDelaysMs: [], pageHeartbeatTimeout: '4s', stepHeartbeatTimeout: '4s' },
  });
  return { started, handle: client.workflow.getHandle(started.workflowId) };
}

/** The failure's innermost type and message (an activity's ApplicationFailure inside the workflow failure). */
export function failureCause(err: unknown): { type?: string; message: string } {
  let e = err as { cause?: unknown; type?: string; message: string };
  while (e.cause && !e.type) e = e.cause as typeof e;
  return { type: e.type, message: e.message };
}

/**
 * The run's result within `timeoutMs`; past it, fails with what the run is stuck on (phase, pending activities
 * and their last failures), so a hang reads as a finding rather than a test timeout.
 */
export async function resultWithin(handle: ExportHandle, timeoutMs: number): Promise<ExportResult> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      void describeStuck(handle).then((d) => reject(new Error(`run not finished in ${timeoutMs} ms: ${d}`)));
    }, timeoutMs);
  });
  try {
    return await Promise.race([handle.result(), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

async function describeStuck(handle: ExportHandle): Promise<string> {
  try {
    const d = await handle.describe();
    const progress = await handle.query('progress').catch((e: unknown) => `no progress: ${(e as Error).message}`);
    const pending = (d.raw.pendingActivities ?? []).map((a) => ({
      type: a.activityType?.name,
      state: a.state,
      attempt: a.attempt,
      lastFailure: a.lastFailure?.message,
    }));
    return JSON.stringify({ status: d.status.name, progress, pending });
  } catch (err) {
    return `describe failed: ${(err as Error).message}`;
  }
}
