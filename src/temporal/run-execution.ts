import {
  CancelledFailure,
  TerminatedFailure,
  TimeoutFailure,
  WorkflowContinuedAsNewError,
  WorkflowFailedError,
  WorkflowNotFoundError,
  type Client,
  type WorkflowExecutionStatusName,
} from '@temporalio/client';
import { FailureType, type ExportResult } from '../workflows/contracts.js';
import { findApplicationFailure } from '../workflows/failures.js';

/** Where an export run lives in Temporal now: the execution its chain (continue-as-new) has reached. */
export interface RunExecution {
  workflowId: string;
  /** Temporal's run id of that execution (not the first one when the run continued as new). */
  runId: string;
  status: WorkflowExecutionStatusName;
  closedAt: Date | null;
}

/** A run continues as new every few thousand pages; far more hops than this means something else is wrong. */
const MAX_CHAIN_HOPS = 100;

type Workflows = Pick<Client, 'workflow'>;

/**
 * The execution a run is in now, following continue-as-new from its first execution (`firstRunId`, as recorded).
 * Null when Temporal has no such execution (never started there, deleted, or past retention).
 */
export async function currentExecution(
  client: Workflows,
  workflowId: string,
  firstRunId: string,
): Promise<RunExecution | null> {
  let runId = firstRunId;
  for (let hop = 0; hop < MAX_CHAIN_HOPS; hop++) {
    let d;
    try {
      d = await client.workflow.getHandle(workflowId, runId).describe();
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) return null;
      throw err;
    }
    if (d.status.name !== 'CONTINUED_AS_NEW') {
      return { workflowId, runId: d.runId, status: d.status.name, closedAt: d.closeTime ?? null };
    }
    runId = await continuedAs(client, workflowId, d.runId);
  }
  throw new Error(`Export workflow ${workflowId} continued as new more than ${MAX_CHAIN_HOPS} times`);
}

/** The run id a closed execution continued as (its close event names it). */
async function continuedAs(client: Workflows, workflowId: string, runId: string): Promise<string> {
  try {
    await client.workflow.getHandle(workflowId, runId, { followRuns: false }).result();
  } catch (err) {
    if (err instanceof WorkflowContinuedAsNewError) return err.newExecutionRunId;
    throw err;
  }
  throw new Error(`Export workflow ${workflowId} run ${runId} was described as continued but completed`);
}

/** How Temporal closed a run's execution, in the terms our record needs. */
export type RunClosure =
  | { kind: 'completed'; status: ExportResult['status'] }
  | { kind: 'cancelled' }
  | { kind: 'terminated'; reason: string | null }
  | { kind: 'timed_out' }
  | { kind: 'failed'; type: string; message: string };

/** Reads a closed execution's outcome from its close event. */
export async function closureOf(client: Workflows, execution: RunExecution): Promise<RunClosure> {
  try {
    const handle = client.workflow.getHandle(execution.workflowId, execution.runId, { followRuns: false });
    const result = (await handle.result()) as ExportResult | undefined;
    return { kind: 'completed', status: result?.status ?? 'completed' };
  } catch (err) {
    if (!(err instanceof WorkflowFailedError)) throw err;
    const cause = err.cause;
    if (cause instanceof CancelledFailure) return { kind: 'cancelled' };
    if (cause instanceof TerminatedFailure) {
      // A reason only when someone gave one: Temporal fills in a default text otherwise.
      const reason = err.message && err.message !== 'Workflow execution terminated' ? err.message : null;
      return { kind: 'terminated', reason };
    }
    if (cause instanceof TimeoutFailure) return { kind: 'timed_out' };
    const failure = findApplicationFailure(cause);
    return {
      kind: 'failed',
      type: failure?.type ?? FailureType.Unknown,
      message: failure?.message ?? cause?.message ?? err.message,
    };
  }
}
