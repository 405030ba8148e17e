import { WorkflowNotFoundError } from '@temporalio/client';
import { MODE_REASON_TEXT, type ModeReason } from '../../domain/snapshot-basis.js';
import type { ExportRun, RunStatus } from '../../store/index.js';
import { reconcileRun } from '../../temporal/reconcile-runs.js';
import type { RunExecution } from '../../temporal/run-execution.js';
import { startExport } from '../../temporal/start-export.js';
import type { ExportProgress } from '../../workflows/contracts.js';
import { progressQuery } from '../../workflows/messages.js';
import type { ExportTrigger } from '../../domain/export-terms.js';
import type { ApiDeps } from '../deps.js';
import { ProblemError, ProblemKind } from '../problem.js';
import { mapBounded } from './bounded-map.js';
import { preflightExport } from './export-preflight.js';

type ProgressView = Omit<ExportProgress, 'phase'> & Record<string, unknown>;

/** How long a GET waits for a worker to answer the progress query before it falls back to the record. */
export const PROGRESS_QUERY_TIMEOUT_MS = 2_000;

/** The source is optional: with it, a run found closed has its staging table dropped at once. */
type Deps = Pick<ApiDeps, 'store' | 'graph' | 'config' | 'temporalClient' | 'now'> & Partial<Pick<ApiDeps, 'source'>>;

export const temporalUiLink = (deps: Pick<ApiDeps, 'config'>, workflowId: string, temporalRunId: string | null) => {
  const { uiUrl, namespace } = deps.config.temporal;
  const base = `${uiUrl}/namespaces/${encodeURIComponent(namespace)}/workflows/${encodeURIComponent(workflowId)}`;
  return temporalRunId ? `${base}/${encodeURIComponent(temporalRunId)}` : base;
};

/** Checks the destination can export now, then starts its export or joins the audience's running one. */
export async function startDestinationExport(deps: Deps, destinationId: string, trigger: ExportTrigger = 'manual') {
  const target = await preflightExport(deps, destinationId);
  const healthCheckDelaysMs = deps.config.worker.healthCheckDelaysMs;
  const started = await startExport(deps.temporalClient, target, {
    taskQueue: deps.config.temporal.taskQueue,
    trigger,
    pageConcurrency: deps.config.export.pageConcurrency,
    timeoutMs: deps.config.export.timeoutMs,
    ...(healthCheckDelaysMs ? { timings: { healthCheckDelaysMs } } : {}),
  });
  return {
    ...started,
    links: {
      self: `/exports/${started.runId}`,
      temporalUi: temporalUiLink(deps, started.workflowId, started.temporalRunId),
    },
  };
}

export function exportRunView(deps: Pick<ApiDeps, 'config'>, r: ExportRun) {
  return {
    runId: r.id,
    destinationId: r.destinationId,
    adAccountId: r.adAccountId,
    audienceId: r.audienceId,
    segments: [...r.segments],
    mode: r.mode,
    effectiveMode: r.effectiveMode,
    modeReason: r.modeReason ? { code: r.modeReason, text: modeReasonText(r.modeReason) } : null,
    trigger: r.trigger,
    status: r.status,
    phase: r.phase,
    workflowId: r.workflowId,
    temporalRunId: r.temporalRunId,
    startedAt: r.startedAt.toISOString(),
    finishedAt: r.finishedAt?.toISOString() ?? null,
    segmentSize: r.segmentSize,
    sent: r.sent,
    removed: r.removed,
    dropped: { ...r.dropped },
    possiblySent: r.possiblySent,
    possiblyRemoved: r.possiblyRemoved,
    received: r.received,
    invalid: r.invalid,
    matched: r.matched,
    pagesTotal: r.pagesTotal,
    pagesDone: r.pagesDone,
    error: r.errorMessage ? { type: r.errorType, message: r.errorMessage } : null,
    links: { self: `/exports/${r.id}`, temporalUi: temporalUiLink(deps, r.workflowId, r.temporalRunId) },
  };
}

const modeReasonText = (code: string): string =>
  Object.hasOwn(MODE_REASON_TEXT, code) ? MODE_REASON_TEXT[code as ModeReason] : code;

/**
 * A record that says running, checked against Temporal: a run Temporal closed is finished in the record now (the
 * record never claims a closed run is running), and `live` says where the run is in Temporal.
 */
async function liveRecord(deps: Deps, r: ExportRun) {
  const { run, execution } = await reconcileRun(
    {
      store: deps.store,
      temporalClient: deps.temporalClient,
      source: deps.source,
      taskQueue: deps.config.temporal.taskQueue,
    },
    r,
  );
  const live = execution ? { status: execution.status, closedAt: execution.closedAt?.toISOString() ?? null } : null;
  return { run, execution, live };
}

export interface ExportListFilter {
  destinationId?: string;
  status?: RunStatus;
  from?: string;
  to?: string;
  limit: number;
  cursor?: string;
}

/** Runs from `export_runs`, newest first; those still running carry Temporal's live status. */
export async function listExports(deps: Deps, q: ExportListFilter) {
  const page = await deps.store.exportRuns.list({
    limit: q.limit,
    ...(q.cursor ? { cursor: q.cursor } : {}),
    ...(q.destinationId ? { destinationId: q.destinationId } : {}),
    ...(q.status ? { status: q.status } : {}),
    ...(q.from ? { startedFrom: new Date(q.from) } : {}),
    ...(q.to ? { startedBefore: new Date(q.to) } : {}),
  });
  // Only running runs ask Temporal, a few at a time.
  const items = await mapBounded(page.items, async (r) => {
    if (r.status !== 'running') return exportRunView(deps, r);
    const { run, live } = await liveRecord(deps, r);
    return { ...exportRunView(deps, run), live };
  });
  return { items, nextCursor: page.nextCursor ?? null };
}

/** The record, health checks, and live progress from the workflow while it runs. */
export async function getExport(deps: Deps, runId: string) {
  const recorded = await deps.store.exportRuns.get(runId);
  const {
    run: r,
    execution,
    live,
  } = recorded.status === 'running' ? await liveRecord(deps, recorded) : { run: recorded, execution: null, live: null };
  const detail = {
    ...exportRunView(deps, r),
    progress: null as ProgressView | null,
    audience: {
      lowerBound: r.audienceLowerBound,
      upperBound: r.audienceUpperBound,
      operationStatus: r.operationStatusCode,
      deliveryStatus: r.deliveryStatusCode,
    },
    healthChecks: r.healthChecks.map((c) => ({ ...c })),
  };
  if (recorded.status !== 'running') return detail;
  const running = r.status === 'running' && execution?.status === 'RUNNING';
  const progress = running ? await queryProgress(deps, execution) : null;
  if (!progress) return { ...detail, live, progress };
  // One phase: the workflow's own while it answers (the record's lags behind it between steps).
  const { phase, ...counts } = progress;
  return { ...detail, phase, live, progress: counts };
}

/** The `progress` query with a deadline: with no worker polling, Temporal would hold the query much longer. */
async function queryProgress(deps: Pick<ApiDeps, 'temporalClient'>, at: RunExecution): Promise<ExportProgress | null> {
  const handle = deps.temporalClient.workflow.getHandle(at.workflowId, at.runId);
  try {
    const progress = await deps.temporalClient.withDeadline(Date.now() + PROGRESS_QUERY_TIMEOUT_MS, () =>
      handle.query(progressQuery),
    );
    return { ...progress };
  } catch {
    return null; // no worker answered in time, or the run just closed: the record is the answer
  }
}

/** Asks the run's workflow to cancel: it stops new pages, lets in-flight ones settle and finalises as cancelled. */
export async function cancelExport(deps: Deps, runId: string) {
  const recorded = await deps.store.exportRuns.get(runId);
  const { run: r, execution } =
    recorded.status === 'running' ? await liveRecord(deps, recorded) : { run: recorded, execution: null };
  const notRunning = () => {
    const state =
      r.status !== 'running' ? r.status : `${execution?.status ?? 'unknown'} in Temporal, though recorded as running`;
    return new ProblemError(409, ProblemKind.conflict, `Export run ${runId} is not running (it is ${state}).`, [
      { field: 'params.runId', message: 'not running' },
    ]);
  };
  if (r.status !== 'running' || execution?.status !== 'RUNNING') throw notRunning();
  try {
    // The execution the run is in now: a run that continued as new is no longer its first execution.
    await deps.temporalClient.workflow.getHandle(execution.workflowId, execution.runId).cancel();
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) throw notRunning();
    throw err;
  }
  return { runId, workflowId: r.workflowId, cancelRequested: true as const };
}
