import {
  ApplicationFailure,
  CancellationScope,
  ContinueAsNew,
  CancelledFailure,
  ParentClosePolicy,
  continueAsNew,
  patched,
  proxyActivities,
  setCurrentDetails,
  setHandler,
  startChild,
  upsertSearchAttributes,
  uuid4,
  workflowInfo,
} from '@temporalio/workflow';
import type { Activities } from '../activities/index.js';
import { announceRun } from './announce-run.js';
import { audienceHealth } from './audience-health.js';
import {
  FailureType,
  NON_RETRYABLE_ERROR_TYPES,
  STEP_MAX_ATTEMPTS,
  type AudienceHealth,
  type ExportInput,
  type ExportPlan,
  type ExportResume,
  type ExportProgress,
  type ExportResult,
  type ExportTimings,
  type FinalizeInput,
  type UploadPlan,
} from './contracts.js';
import { ExportState } from './export-state.js';
import { findApplicationFailure } from './failures.js';
import { abortExportSignal, progressQuery } from './messages.js';
import { PageSender } from './page-sender.js';
import { searchAttributes } from './search-attributes.js';

const DEFAULT_PAGE_CONCURRENCY = 4;
/** patched() ids: each guards a change to the commands an export issues, so runs started before it still replay. */
const Patch = {
  /** A run cancelled after validating or freezing is finalised as cancelled (it was left `running`). */
  finalizeEarlyCancel: 'finalize-early-cancel',
  /** A new audience's id replaces `new-<destination>` in the AudienceId search attribute once it exists. */
  audienceIdAttribute: 'audience-id-search-attribute',
} as const;
const HOUR = 3_600_000;

/**
 * The run's steps besides pages; they heartbeat from a timer, so a crashed worker's step is retried soon. Their
 * attempts are capped: a step failing for a quarter of an hour fails the run, which says why, instead of holding
 * the audience's export for ever. (Retry options are not part of the history: changing them needs no patch.)
 */
const stepActivities = (timings: ExportTimings) =>
  proxyActivities<Activities>({
    // Freezing and diffing 10 million rows are single SQL statements of a few minutes.
    startToCloseTimeout: '30 minutes',
    heartbeatTimeout: timings.stepHeartbeatTimeout ?? '2 minutes',
    retry: {
      initialInterval: timings.stepRetryInitialInterval ?? '2s',
      maximumInterval: timings.stepRetryMaximumInterval ?? '1 minute',
      maximumAttempts: STEP_MAX_ATTEMPTS,
      nonRetryableErrorTypes: NON_RETRYABLE_ERROR_TYPES,
    },
  });

/**
 * Exports a destination's segments to its Facebook custom audience: validate, freeze, plan (diff against the
 * audience's snapshot), remove and add (or replace) in sessions, finalise. Only ids and counts pass through
 * here; activities load rows and tokens by id.
 */
export async function exportSegment(input: ExportInput): Promise<ExportResult> {
  const state = new ExportState();
  // A plain cancel request only raises a flag: no new page starts, in-flight pages settle, and the run is
  // finalised as cancelled; hence the work below runs in a non-cancellable scope. An abort also cancels the
  // pages in flight (their requests abort).
  let sender: PageSender | undefined;
  setHandler(progressQuery, () => state.snapshot());
  setHandler(abortExportSignal, (reason) => {
    state.abort(reason);
    sender?.abort();
  });
  let cancelRequested = false;
  CancellationScope.current().cancelRequested.catch(() => {
    cancelRequested = true;
    state.requestCancel();
  });

  const runId = input.runId ?? uuid4();
  state.setRunId(runId);
  const timings = input.timings ?? {};
  const { validateExport, freezeSegment, planUploads, finalizeExport } = stepActivities(timings);
  const report = (phase?: ExportProgress['phase']) => {
    if (phase) state.setPhase(phase);
    setCurrentDetails(state.describe());
  };
  const sessionIds: number[] = [];
  const pageSender = (pageSize: number) =>
    new PageSender(state, {
      runId,
      pageSize,
      concurrency: input.pageConcurrency ?? DEFAULT_PAGE_CONCURRENCY,
      rotateAfterMs: timings.sessionRotateAfterMs ?? 75 * 60_000,
      timings,
      report,
      sessionIds,
    });

  let plan: ExportPlan | undefined;
  let uploads: UploadPlan | undefined;
  let health: AudienceHealth | undefined;
  const finalStatus = (failed: boolean): FinalizeInput['status'] => {
    if (sender?.replaceStarted && (failed || state.cancelRequested)) return 'partial';
    if (failed) return 'failed';
    return state.cancelRequested ? 'cancelled' : 'completed';
  };
  const finalize = (status: FinalizeInput['status'], error?: FinalizeInput['error']) =>
    finalizeExport({
      runId,
      status,
      progress: state.snapshot(),
      sessionIds,
      error: error ?? (state.aborted ? { type: FailureType.Aborted, message: state.abortReason! } : undefined),
      readAudience: !state.aborted,
    });
  /** Cancelled between steps, before any page: the record ends as cancelled like any other cancelled run. */
  const stopBeforePages = async () => {
    if (!patched(Patch.finalizeEarlyCancel)) return;
    report('finalising');
    health = await finalize(finalStatus(false));
    report('done');
  };

  try {
    await CancellationScope.nonCancellable(async () => {
      if (input.resume) {
        ({ plan, uploads } = input.resume);
        state.validated(plan);
        sender = pageSender(input.resume.pageSize);
        state.restore(input.resume.progress, input.resume.blockedUntil);
        sessionIds.push(...input.resume.sessionIds);
      } else {
        plan = await validateExport({
          runId,
          destinationId: input.destinationId,
          trigger: input.trigger,
          workflowId: workflowInfo().workflowId,
          temporalRunId: workflowInfo().runId,
        });
        state.validated(plan);
        showAudience(plan.audienceId);
        if (state.cancelRequested) return await stopBeforePages();
        report('freezing');
        const frozen = await freezeSegment({ runId });
        sender = pageSender(frozen.pageSize);
        state.frozen(frozen);
        if (state.cancelRequested) return await stopBeforePages();
        report('planning');
        uploads = await planUploads({ runId, audienceHasMembers: plan.audienceHasMembers });
        state.planned(uploads);
        report('removing');
        await sender.send({
          table: 'removes',
          operation: 'remove',
          pages: range(0, uploads.removes.pages),
          rows: uploads.removes.rows,
        });
        if (workflowInfo().continueAsNewSuggested && !state.cancelRequested) {
          // Between phases, with the removes' session closed: the adds continue in a fresh history.
          const resume: ExportResume = {
            plan,
            uploads,
            pageSize: frozen.pageSize,
            progress: state.snapshot(),
            sessionIds,
            blockedUntil: state.blockedUntil,
          };
          await continueAsNew<typeof exportSegment>({ ...input, runId, resume });
        }
      }
      report('uploading');
      const adds = { table: uploads.adds.table, pages: range(0, uploads.adds.pages), rows: uploads.adds.rows };
      if (uploads.mode === 'replace') await sender.replace({ ...adds, operation: 'replace' });
      else if (!state.cancelRequested) await sender.send({ ...adds, operation: 'add' });
      report('finalising');
      health = await finalize(finalStatus(false));
      report('done');
    });
  } catch (err) {
    if (err instanceof ContinueAsNew) throw err;
    const failure = findApplicationFailure(err);
    await CancellationScope.nonCancellable(async () => {
      await finalize(finalStatus(true), {
        type: failure?.type ?? FailureType.Unknown,
        message: failure?.message ?? (err as Error).message,
      });
      await announce(runId);
    });
    report('done');
    throw err;
  }

  await CancellationScope.nonCancellable(() => announce(runId));
  if (state.aborted && !cancelRequested) {
    throw ApplicationFailure.nonRetryable(`Export aborted: ${state.abortReason}`, FailureType.Aborted);
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

/** Search finds the run by its audience as soon as a new audience exists (it started as `new-<destination>`). */
function showAudience(audienceId: string): void {
  if (workflowInfo().typedSearchAttributes.get(searchAttributes.audienceId) === audienceId) return;
  if (patched(Patch.audienceIdAttribute)) {
    upsertSearchAttributes([{ key: searchAttributes.audienceId, value: audienceId }]);
  }
}

/** Starts the run's webhook announcement in a workflow of its own that outlives this one. */
async function announce(runId: string): Promise<void> {
  await startChild(announceRun, {
    workflowId: `announce:${runId}`,
    parentClosePolicy: ParentClosePolicy.ABANDON,
    args: [{ runId }],
    staticSummary: `Webhook announcement of export run ${runId}`,
  });
}

function range(from: number, to: number): number[] {
  return Array.from({ length: Math.max(0, to - from) }, (_, i) => from + i);
}
