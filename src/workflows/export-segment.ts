import {
  ApplicationFailure,
  CancellationScope,
  CancelledFailure,
  ParentClosePolicy,
  condition,
  defineQuery,
  proxyActivities,
  setCurrentDetails,
  setHandler,
  startChild,
  uuid4,
  workflowInfo,
} from '@temporalio/workflow';
import type { Activities } from '../activities/index.js';
import { audienceHealth } from './audience-health.js';
import {
  NON_RETRYABLE_ERROR_TYPES,
  type AudienceHealth,
  type ExportInput,
  type ExportPlan,
  type ExportProgress,
  type ExportResult,
  type FinalizeInput,
  type FrozenRun,
  type PageResult,
  type UploadOperation,
} from './contracts.js';
import { ExportState } from './export-state.js';
import { UploadSessions } from './upload-sessions.js';

export const progressQuery = defineQuery<ExportProgress>('progress');

const DEFAULT_PAGE_CONCURRENCY = 4;
const HOUR = 3_600_000;

const { validateExport, freezeSegment, finalizeExport } = proxyActivities<Activities>({
  // Freezing 10 million rows is one SQL statement of a few minutes; it cannot heartbeat.
  startToCloseTimeout: '30 minutes',
  retry: { initialInterval: '2s', maximumInterval: '1 minute', nonRetryableErrorTypes: NON_RETRYABLE_ERROR_TYPES },
});

type SettledPage = Exclude<PageResult, { status: 'throttled' }>;

/**
 * Exports a destination's segments to its Facebook custom audience: validate, freeze, upload pages in
 * sessions, finalise. Only ids and counts pass through here; activities load rows and tokens by id.
 */
export async function exportSegment(input: ExportInput): Promise<ExportResult> {
  const state = new ExportState();
  setHandler(progressQuery, () => state.snapshot());
  // A cancel request only raises a flag: no new page starts, in-flight pages settle, and the run is
  // finalised as cancelled. Hence the work below runs in a non-cancellable scope.
  CancellationScope.current().cancelRequested.catch(() => state.requestCancel());

  const runId = input.runId ?? uuid4();
  state.setRunId(runId);
  const timings = input.timings ?? {};
  const sessions = new UploadSessions(timings.sessionRotateAfterMs ?? 75 * 60_000);
  const { uploadPage } = proxyActivities<Activities>({
    startToCloseTimeout: '10 minutes',
    heartbeatTimeout: timings.pageHeartbeatTimeout ?? '60s',
    retry: {
      initialInterval: '2s',
      backoffCoefficient: 2,
      maximumInterval: '2 minutes',
      nonRetryableErrorTypes: NON_RETRYABLE_ERROR_TYPES,
    },
  });

  const report = (phase?: ExportProgress['phase']) => {
    if (phase) state.setPhase(phase);
    setCurrentDetails(state.describe());
  };
  const finalize = (status: FinalizeInput['status'], error?: FinalizeInput['error']) =>
    finalizeExport({ runId, status, progress: state.snapshot(), sessionIds: sessions.ids(), error });

  /** Sends one page, waiting out rate-limit blocks without spending retries. */
  async function sendPage(frozen: FrozenRun, page: number, lastBatch: boolean, operation: UploadOperation) {
    const slot = sessions.assign(page, Date.now());
    for (;;) {
      await waitWhileBlocked(state, report);
      const result = await uploadPage.executeWithOptions(
        { summary: `page ${page + 1} of ${frozen.pageCount}${lastBatch ? ', last batch' : ''}` },
        [
          {
            runId,
            page,
            pageSize: frozen.pageSize,
            operation,
            sessionId: slot.sessionId,
            batchSeq: slot.batchSeq,
            lastBatch,
            estimatedTotal: frozen.rowCount,
          },
        ],
      );
      if (result.status !== 'throttled') {
        if (result.status === 'sent') {
          sessions.sent(slot.sessionId, page, result.received);
          state.sessionReceived(sessions.totalReceived());
        }
        return result;
      }
      state.throttled(Date.now(), result.waitMs, result.reason);
    }
  }

  async function uploadAll(frozen: FrozenRun, operation: UploadOperation): Promise<void> {
    if (frozen.pageCount === 0) return;
    const last = frozen.pageCount - 1;
    const settle = (result: SettledPage) => {
      state.pageSettled(result);
      report();
    };
    await runWithConcurrency(range(0, last), input.pageConcurrency ?? DEFAULT_PAGE_CONCURRENCY, state, async (page) =>
      settle(await sendPage(frozen, page, false, operation)),
    );
    if (state.cancelRequested) return;
    // The last page goes alone, once every other page has succeeded, and closes the session.
    const result = await sendPage(frozen, last, true, operation);
    settle(result);
    const fallback = sessions.lastSentPage(sessions.current()?.id);
    if (result.status === 'empty' && fallback !== undefined && fallback !== last) {
      // Nothing usable on the last page: resend the session's last sent page (same rows, same batch number)
      // with the flag, so the session closes now rather than after Meta's 90-minute timeout.
      await sendPage(frozen, fallback, true, operation);
    }
  }

  let plan: ExportPlan | undefined;
  let health: AudienceHealth | undefined;
  try {
    await CancellationScope.nonCancellable(async () => {
      plan = await validateExport({
        runId,
        destinationId: input.destinationId,
        trigger: input.trigger,
        workflowId: workflowInfo().workflowId,
        temporalRunId: workflowInfo().runId,
      });
      if (state.cancelRequested) return;
      report('freezing');
      const frozen = await freezeSegment({ runId });
      state.frozen(frozen);
      report('uploading');
      await uploadAll(frozen, 'add');
      report('finalising');
      health = await finalize(state.cancelRequested ? 'cancelled' : 'completed');
      report('done');
    });
  } catch (err) {
    const failure = findApplicationFailure(err);
    await CancellationScope.nonCancellable(() =>
      finalize('failed', { type: failure?.type ?? 'Error', message: failure?.message ?? (err as Error).message }),
    );
    report('done');
    throw err;
  }

  if (state.cancelRequested) throw new CancelledFailure('Export cancelled; finalised with what was sent');

  const delays = timings.healthCheckDelaysMs ?? [HOUR, 24 * HOUR];
  if (delays.length > 0) {
    // Health checks outlive the export in a workflow of their own, so the next export need not wait for them.
    await startChild(audienceHealth, {
      workflowId: `health:${runId}`,
      parentClosePolicy: ParentClosePolicy.ABANDON,
      args: [{ runId, delaysMs: delays }],
      staticSummary: `Audience health checks after export run ${runId}`,
    });
  }
  return { runId, status: 'completed', audienceId: plan!.audienceId, progress: state.snapshot(), health };
}

/** Waits out a rate-limit block shared by every page of this run; returns early when cancelled. */
async function waitWhileBlocked(state: ExportState, report: (phase?: ExportProgress['phase']) => void) {
  let waited = false;
  while (Date.now() < state.blockedUntil && !state.cancelRequested) {
    if (!waited) report('waiting');
    waited = true;
    await condition(() => state.cancelRequested, state.blockedUntil - Date.now(), {
      summary: 'rate-limit block on this ad account',
    });
  }
  if (waited) {
    state.waitOver();
    report('uploading');
  }
}

/** Runs `task` for each item with at most `limit` in flight; stops taking new items once cancelled. */
async function runWithConcurrency<T>(items: T[], limit: number, state: ExportState, task: (item: T) => Promise<void>) {
  let next = 0;
  const lane = async () => {
    while (next < items.length && !state.cancelRequested) await task(items[next++] as T);
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, lane));
}

function range(from: number, to: number): number[] {
  return Array.from({ length: Math.max(0, to - from) }, (_, i) => from + i);
}

/** Activity failures arrive wrapped in an ActivityFailure; the ApplicationFailure is its cause. */
function findApplicationFailure(err: unknown): ApplicationFailure | undefined {
  for (let e: unknown = err; e; e = (e as { cause?: unknown }).cause) {
    if (e instanceof ApplicationFailure) return e;
  }
  return undefined;
}
