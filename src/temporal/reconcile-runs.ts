import { WorkflowExecutionAlreadyStartedError, type Client } from '@temporalio/client';
import type { ProfileSource } from '../sources/profile-source.js';
import type { ExportRun, FinishedRunStatus, RunFinish, Store } from '../store/index.js';
import { FailureType } from '../workflows/contracts.js';
import { closureOf, currentExecution, type RunClosure, type RunExecution } from './run-execution.js';

/**
 * Failure types of runs whose record the reconciler finished: Temporal closed them without the workflow
 * finalising (terminated, timed out, or gone), so no activity could say how they ended.
 */
export const ClosedRunFailureType = {
  Terminated: FailureType.WorkflowTerminated,
  TimedOut: FailureType.WorkflowTimedOut,
  NotFound: FailureType.WorkflowNotFound,
} as const;

/**
 * A record whose workflow Temporal does not know is judged only once it has been quiet this long: Temporal knows a
 * run before its record exists, so a young record is never "gone" unless something is misconfigured.
 */
export const GONE_AFTER_MS = 10 * 60_000;

export interface ReconcileDeps {
  store: Pick<Store, 'exportRuns'>;
  temporalClient: Pick<Client, 'workflow'>;
  /** Drops a finished run's staging table at once (else the daily sweep does). */
  source?: Pick<ProfileSource, 'dropFrozen'>;
  /** With the workers' task queue, a reconciled run is announced to the webhook like any other. */
  taskQueue?: string;
  now?: () => number;
}

export interface ReconciledRun {
  /** The record as it is now: finished when Temporal had closed the run, else as it was. */
  run: ExportRun;
  /** Where the run is in Temporal; null when Temporal has no execution of it. */
  execution: RunExecution | null;
  /** True when this call finished the record. */
  finished: boolean;
}

/**
 * Makes a record that says `running` agree with Temporal: when the run's execution (followed through
 * continue-as-new) is closed, the record ends with the status Temporal gives, whatever step the run was in.
 * Records of running executions are left alone; so are records already finished (the workflow's figures win).
 */
export async function reconcileRun(deps: ReconcileDeps, run: ExportRun): Promise<ReconciledRun> {
  // Without the first run id the workflow id's latest execution may be a later run's: nothing can be judged.
  if (run.status !== 'running' || !run.temporalRunId) return { run, execution: null, finished: false };
  const execution = await currentExecution(deps.temporalClient, run.workflowId, run.temporalRunId);
  if (execution?.status === 'RUNNING') return { run, execution, finished: false };
  const now = deps.now?.() ?? Date.now();
  if (!execution && now - run.updatedAt.getTime() < GONE_AFTER_MS) return { run, execution, finished: false };
  const closure = execution ? await closureOf(deps.temporalClient, execution) : null;
  const finished = await deps.store.exportRuns.finishIfRunning(run.id, finishOf(run, closure, execution));
  if (!finished) return { run: await deps.store.exportRuns.get(run.id), execution, finished: false };
  await deps.source?.dropFrozen(run.id).catch(() => undefined); // the daily sweep retries
  if (deps.taskQueue) await announce(deps.temporalClient, deps.taskQueue, run.id);
  return { run: finished, execution, finished: true };
}

export interface ReconcileSummary {
  /** Records that said running. */
  checked: number;
  /** Those this call finished, with their new status (ids only: this travels through Temporal). */
  finished: { runId: string; status: FinishedRunStatus }[];
}

/** Reconciles every record that says running (at API and worker start, and in the daily check). */
export async function reconcileRunningRuns(deps: ReconcileDeps): Promise<ReconcileSummary> {
  const running = await deps.store.exportRuns.listRunning();
  const summary: ReconcileSummary = { checked: running.length, finished: [] };
  for (const run of running) {
    const r = await reconcileRun(deps, run);
    if (r.finished) summary.finished.push({ runId: r.run.id, status: r.run.status as FinishedRunStatus });
  }
  return summary;
}

/** The record's ending for a closure; a replace that may have emptied the audience ends partial, as finalising says. */
function finishOf(run: ExportRun, closure: RunClosure | null, execution: RunExecution | null): RunFinish {
  const where = `while ${run.phase}`;
  const finishedAt = execution?.closedAt ?? undefined;
  const unfinished = (status: 'failed' | 'cancelled', error: RunFinish['error']): RunFinish => {
    const replaceStarted = run.effectiveMode === 'replace' && (run.pagesDone > 0 || run.possiblySent > 0);
    return { status: replaceStarted ? 'partial' : status, phase: 'done', finishedAt, error };
  };
  if (!closure) {
    return unfinished('failed', {
      type: ClosedRunFailureType.NotFound,
      message:
        `Temporal has no execution of workflow ${run.workflowId} for this run (deleted, past its retention, or ` +
        `another namespace), so it is not running; it stopped ${where}.`,
    });
  }
  switch (closure.kind) {
    case 'completed':
      return { status: closure.status, phase: 'done', finishedAt, error: null };
    case 'cancelled':
      return unfinished('cancelled', null);
    case 'terminated':
      return unfinished('failed', {
        type: ClosedRunFailureType.Terminated,
        message: `The run's workflow was terminated in Temporal ${where}${closure.reason ? ` (reason: ${clip(closure.reason)})` : ''}.`,
      });
    case 'timed_out':
      return unfinished('failed', {
        type: ClosedRunFailureType.TimedOut,
        message:
          `The run's workflow timed out in Temporal ${where} (its execution timeout, EXPORT_TIMEOUT_MS, passed): ` +
          'see what it waited on in the Temporal UI, then run the export again or raise EXPORT_TIMEOUT_MS.',
      });
    case 'failed':
      return unfinished('failed', { type: closure.type, message: closure.message });
  }
}

/** An operator's free text: kept short, on one line. */
const clip = (text: string): string => text.replace(/\s+/g, ' ').slice(0, 200);

/** Starts the webhook announcement the workflow would have started; one per run, whoever reconciles it. */
async function announce(client: Pick<Client, 'workflow'>, taskQueue: string, runId: string): Promise<void> {
  try {
    await client.workflow.start('announceRun', {
      workflowId: `announce:${runId}`,
      taskQueue,
      args: [{ runId }],
      workflowIdReusePolicy: 'REJECT_DUPLICATE',
      staticSummary: `Webhook announcement of export run ${runId}`,
    });
  } catch (err) {
    if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
  }
}
