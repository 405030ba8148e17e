import type { Client } from '@temporalio/client';
import { startExport, type StartedExport } from '../../src/temporal/start-export.js';
import type { ExportResult } from '../../src/workflows/contracts.js';
import type { Destination } from '../../src/store/index.js';
import { targetOf } from './export-env.js';

/** Starts an export of a destination's configured segments and waits for its result. */
export async function runExport(
  client: Client,
  taskQueue: string,
  destination: Destination,
  segments: string[],
  mode: 'mirror' | 'replace' | 'add',
): Promise<{ started: StartedExport; result: ExportResult }> {
  const started = await startExport(client, targetOf(destination, segments, mode), {
    taskQueue,
    trigger: 'manual',
    timings: { healthCheckDelaysMs: [] },
  });
  const result = await client.workflow.getHandle<(i: unknown) => Promise<ExportResult>>(started.workflowId).result();
  return { started, result };
}

export interface LoggedCall {
  seq: number;
  method: string;
  path: string;
  status: number;
  sessionId?: string;
  batchSeq?: number;
  lastBatchFlag?: boolean;
  rows?: number;
  errorCode?: number;
  errorSubcode?: number;
  restarted?: boolean;
}

/** The sandbox's log of answered calls after `since` (a log sequence number). */
export async function sandboxCalls(sandboxUrl: string, since = 0): Promise<LoggedCall[]> {
  const res = await fetch(`${sandboxUrl}/__sandbox/requests?since=${since}`);
  return ((await res.json()) as { requests: LoggedCall[] }).requests;
}

export async function lastCallSeq(sandboxUrl: string): Promise<number> {
  return (await sandboxCalls(sandboxUrl)).at(-1)?.seq ?? 0;
}
