import {
  ApplicationFailure,
  CancellationScope,
  ContinueAsNew,
  CancelledFailure,
  ParentClosePolicy,
  condition,
  continueAsNew,
  isCancellation,
  proxyActivities,
  setCurrentDetails,
  setHandler,
  sleep,
  startChild,
  uuid4,
  workflowInfo,
} from '@temporalio/workflow';
import type { Activities } from '../activities/index.js';
import { announceRun } from './announce-run.js';
import { audienceHealth } from './audience-health.js';
import {
  NON_RETRYABLE_ERROR_TYPES,
  type AudienceHealth,
  type ExportInput,
  type ExportPlan,
  type ExportResume,
  type ExportProgress,
  type ExportResult,
  type FinalizeInput,
  type PageResult,
  type PageTable,
  type UploadOperation,
  type UploadPlan,
} from './contracts.js';
import { ExportState } from './export-state.js';
import { abortExportSignal, progressQuery } from './messages.js';
import { newSessionId, UploadSessions } from './upload-sessions.js';

const DEFAULT_PAGE_CONCURRENCY = 4;
const HOUR = 3_600_000;
/** Attempts at a replace's batch 1, each in a new session: its outcome may be unknown, and it is never resent. */
const REPLACE_START_ATTEMPTS = 5;

/** The run's steps besides pages; they heartbeat from a timer, so a crashed worker's step is retried soon. */
const stepActivities = (heartbeatTimeout: string) =>
  proxyActivities<Activities>({
    // Freezing and diffing 10 million rows are single SQL statements of a few minutes.
    startToCloseTimeout: '30 minutes',
    heartbeatTimeout,
    retry: { initialInterval: '2s', maximumInterval: '1 minute', nonRetryableErrorTypes: NON_RETRYABLE_ERROR_TYPES },
  });

type SettledPage = Extract<PageResult, { status: 'sent' | 'empty' }>;

/** A set of pages sent with one operation: the plan's removes, its adds, or a replace's batches. */
interface PageSet {
  table: PageTable;
  operation: UploadOperation;
  pages: number[];
  rows: number;
}

/**
 * Exports a destination's segments to its Facebook custom audience: validate, freeze, plan (diff against the
 * audience's snapshot), remove and add (or replace) in sessions, finalise. Only ids and counts pass through
 * here; activities load rows and tokens by id.
 */
export async function exportSegment(input: ExportInput): Promise<ExportResult> {
  const state = new ExportState();
  // Page activities run in this scope, so an abort can cancel them (their requests abort) while a plain cancel
  // request only raises a flag: no new page starts, in-flight pages settle, and the run is finalised as
  // cancelled. Hence the work below runs in a non-cancellable scope.
  let pagesScope: CancellationScope | undefined;
  setHandler(progressQuery, () => state.snapshot());
  setHandler(abortExportSignal, (reason) => {
    state.abort(reason);
    pagesScope?.cancel();
  });
  let cancelRequested = false;
  CancellationScope.current().cancelRequested.catch(() => {
    cancelRequested = true;
    state.requestCancel();
  });

  const runId = input.runId ?? uuid4();
  state.setRunId(runId);
  const timings = input.timings ?? {};
  const { validateExport, freezeSegment, planUploads, finalizeExport } = stepActivities(
    timings.stepHeartbeatTimeout ?? '2 minutes',
  );
  const concurrency = input.pageConcurrency ?? DEFAULT_PAGE_CONCURRENCY;
  const rotateAfterMs = timings.sessionRotateAfterMs ?? 75 * 60_000;
  const pageOptions = {
    startToCloseTimeout: '10 minutes',
    heartbeatTimeout: timings.pageHeartbeatTimeout ?? '60s',
  };
  const { uploadPage } = proxyActivities<Activities>({
    ...pageOptions,
    retry: {
      initialInterval: '2s',
      backoffCoefficient: 2,
      maximumInterval: '2 minutes',
      nonRetryableErrorTypes: NON_RETRYABLE_ERROR_TYPES,
    },
  });
  // A replace's batch 1 is never retried in its own session: a failure starts a new session instead.
  const { uploadPage: startReplace } = proxyActivities<Activities>({ ...pageOptions, retry: { maximumAttempts: 1 } });

  const sessionIds: number[] = [];
  let pageSize = 0;
  let replaceStarted = false;

  const report = (phase?: ExportProgress['phase']) => {
    if (phase) state.setPhase(phase);
    setCurrentDetails(state.describe());
  };

  /** Runs a page activity so that an abort cancels it; undefined when it was aborted. */
  async function inPagesScope<T>(fn: () => Promise<T>): Promise<T | undefined> {
    if (state.aborted) return undefined;
    pagesScope ??= new CancellationScope();
    try {
      return await pagesScope.run(fn);
    } catch (err) {
      if (state.aborted && isCancellation(err)) return undefined;
      throw err;
    }
  }

  /** Sends one page in its session slot, waiting out rate-limit blocks without spending retries. */
  async function sendPage(set: PageSet, sessions: UploadSessions, page: number, lastBatch: boolean) {
    let slot = sessions.assign(page, Date.now());
    if (!sessionIds.includes(slot.sessionId)) sessionIds.push(slot.sessionId);
    for (;;) {
      await waitWhileBlocked(state, report);
      const result = await inPagesScope(() =>
        uploadPage.executeWithOptions(
          { summary: `${set.operation} page ${page + 1} of ${set.pages.length}${lastBatch ? ', last batch' : ''}` },
          [
            {
              runId,
              page,
              pageSize,
              table: set.table,
              operation: set.operation,
              ...slot,
              lastBatch,
              estimatedTotal: set.rows,
            },
          ],
        ),
      );
      if (result === undefined) return { status: 'aborted' as const };
      if (result.status === 'throttled') {
        state.throttled(Date.now(), result.waitMs, result.reason);
        continue;
      }
      if (result.status === 'replace_closed' && set.operation !== 'replace') {
        // Meta closed this add or remove session (its window passed while the page waited, e.g. in a rate-limit
        // block). A closed session keeps what it received, so the page goes again in a new one, not dropped.
        slot = sessions.reassign(page, slot.sessionId, Date.now());
        if (!sessionIds.includes(slot.sessionId)) sessionIds.push(slot.sessionId);
        continue;
      }
      if (result.status === 'sent') {
        sessions.sent(slot.sessionId, page, result.received);
        state.sessionReceived(sessions.totalReceived());
      }
      return result;
    }
  }

  /**
   * Sends a set's pages, at most `concurrency` at once; the last page goes alone once all others succeeded and
   * closes the session. Returns the pages a closed replace session refused (to be sent as adds).
   */
  async function sendAll(set: PageSet, sessions: UploadSessions): Promise<number[]> {
    const refused: number[] = [];
    if (set.pages.length === 0) return refused;
    const settle = (
      page: number,
      result: SettledPage | Extract<PageResult, { status: 'replace_closed' }> | { status: 'aborted' },
    ) => {
      if (result.status === 'aborted') return;
      if (result.status === 'replace_closed') refused.push(page);
      else state.pageSettled(result, set.operation === 'remove');
      report();
    };
    const last = set.pages[set.pages.length - 1]!;
    await runWithConcurrency(set.pages.slice(0, -1), concurrency, state, async (page) =>
      settle(page, await sendPage(set, sessions, page, false)),
    );
    if (state.cancelRequested || refused.length > 0) return refused.concat(refused.length ? [last] : []);
    const result = await sendPage(set, sessions, last, true);
    settle(last, result);
    const fallback = sessions.lastSentPage(sessions.current()?.id);
    if (result.status === 'empty' && fallback !== undefined && fallback !== last) {
      // Nothing usable on the last page: resend the session's last sent page (same rows, same batch number)
      // with the flag, so the session closes now rather than at Meta's 90-minute timeout.
      await sendPage(set, sessions, fallback, true);
    }
    return refused;
  }

  /**
   * A replace: batch 1 alone, acknowledged before any other; then the rest of the batches; pages refused by a
   * timed-out session go as adds in a new session.
   */
  async function replaceAll(set: PageSet): Promise<void> {
    let first: { page: number; sessionId: number } | undefined;
    let index = 0;
    // One session for every attempt at batch 1: resending batch 1 restarts that replace (nothing else has been
    // sent in it yet), whereas a new session is refused (2650/1870145) while Meta still runs one whose batch 1
    // may have arrived — as when a worker dies with batch 1 in flight.
    const sessionId = newSessionId();
    sessionIds.push(sessionId);
    for (let attempt = 1; !first && index < set.pages.length && !state.cancelRequested;) {
      const page = set.pages[index]!;
      await waitWhileBlocked(state, report);
      const only = index === set.pages.length - 1;
      try {
        const result = await inPagesScope(() =>
          startReplace.executeWithOptions(
            { summary: `replace batch 1 (page ${page + 1}), session attempt ${attempt}` },
            [
              {
                runId,
                page,
                pageSize,
                table: set.table,
                operation: 'replace',
                sessionId,
                batchSeq: 1,
                lastBatch: only,
                estimatedTotal: set.rows,
              },
            ],
          ),
        );
        if (result === undefined) {
          replaceStarted = true; // batch 1 may have reached Meta before the abort
          return;
        }
        if (result.status === 'throttled') {
          state.throttled(Date.now(), result.waitMs, result.reason);
        } else if (result.status === 'replace_closed') {
          throw ApplicationFailure.nonRetryable(
            `Facebook refused to start the replace: ${result.reason}`,
            'ReplaceRefused',
          );
        } else {
          state.pageSettled(result);
          report();
          if (result.status === 'empty')
            index += 1; // nothing usable: the next page becomes batch 1
          else first = { page, sessionId };
        }
      } catch (err) {
        if (isNonRetryable(err) || attempt >= REPLACE_START_ATTEMPTS) throw err;
        attempt += 1;
        await sleep(2 ** attempt * 1000, { summary: 'back off before a new replace session' });
      }
    }
    if (!first) return;
    replaceStarted = true;
    const rest = { ...set, pages: set.pages.slice(index + 1) };
    const sessions = UploadSessions.continuing(first.sessionId, first.page, Date.now(), 0);
    const refused = await sendAll(rest, sessions);
    if (refused.length > 0 && !state.cancelRequested) {
      // Meta's 90-minute window closed: the audience is what arrived; the rest goes as plain adds.
      await sendAll({ ...set, operation: 'add', pages: refused }, new UploadSessions(rotateAfterMs));
    }
  }

  let plan: ExportPlan | undefined;
  let uploads: UploadPlan | undefined;
  let health: AudienceHealth | undefined;
  const finalStatus = (failed: boolean): FinalizeInput['status'] => {
    if (replaceStarted && (failed || state.cancelRequested)) return 'partial';
    if (failed) return 'failed';
    return state.cancelRequested ? 'cancelled' : 'completed';
  };
  const finalize = (status: FinalizeInput['status'], error?: FinalizeInput['error']) =>
    finalizeExport({
      runId,
      status,
      progress: state.snapshot(),
      sessionIds,
      error: error ?? (state.aborted ? { type: 'Aborted', message: state.abortReason! } : undefined),
      readAudience: !state.aborted,
    });

  try {
    await CancellationScope.nonCancellable(async () => {
      if (input.resume) {
        ({ plan, uploads, pageSize } = input.resume);
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
        if (state.cancelRequested) return;
        report('freezing');
        const frozen = await freezeSegment({ runId });
        pageSize = frozen.pageSize;
        state.frozen(frozen);
        if (state.cancelRequested) return;
        report('planning');
        uploads = await planUploads({ runId, audienceHasMembers: plan.audienceHasMembers });
        state.planned(uploads);
        report('removing');
        await sendAll(
          { table: 'removes', operation: 'remove', pages: range(0, uploads.removes.pages), rows: uploads.removes.rows },
          new UploadSessions(rotateAfterMs),
        );
        if (workflowInfo().continueAsNewSuggested && !state.cancelRequested) {
          // Between phases, with the removes' session closed: the adds continue in a fresh history.
          const resume: ExportResume = {
            plan,
            uploads,
            pageSize,
            progress: state.snapshot(),
            sessionIds,
            blockedUntil: state.blockedUntil,
          };
          await continueAsNew<typeof exportSegment>({ ...input, runId, resume });
        }
      }
      report('uploading');
      const adds = { table: uploads.adds.table, pages: range(0, uploads.adds.pages), rows: uploads.adds.rows };
      if (uploads.mode === 'replace') await replaceAll({ ...adds, operation: 'replace' });
      else if (!state.cancelRequested) await sendAll({ ...adds, operation: 'add' }, new UploadSessions(rotateAfterMs));
      report('finalising');
      health = await finalize(finalStatus(false));
      report('done');
    });
  } catch (err) {
    if (err instanceof ContinueAsNew) throw err;
    const failure = findApplicationFailure(err);
    await CancellationScope.nonCancellable(async () => {
      await finalize(finalStatus(true), {
        type: failure?.type ?? 'Error',
        message: failure?.message ?? (err as Error).message,
      });
      await announce(runId);
    });
    report('done');
    throw err;
  }

  await CancellationScope.nonCancellable(() => announce(runId));
  if (state.aborted && !cancelRequested) {
    throw ApplicationFailure.nonRetryable(`Export aborted: ${state.abortReason}`, 'Aborted');
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

/** Starts the run's webhook announcement in a workflow of its own that outlives this one. */
async function announce(runId: string): Promise<void> {
  await startChild(announceRun, {
    workflowId: `announce:${runId}`,
    parentClosePolicy: ParentClosePolicy.ABANDON,
    args: [{ runId }],
    staticSummary: `Webhook announcement of export run ${runId}`,
  });
}

/** Waits out a rate-limit block shared by every page of this run; returns early when cancelled. */
async function waitWhileBlocked(state: ExportState, report: (phase?: ExportProgress['phase']) => void) {
  let waited = false;
  const phase = state.snapshot().phase;
  while (Date.now() < state.blockedUntil && !state.cancelRequested) {
    if (!waited) report('waiting');
    waited = true;
    await condition(() => state.cancelRequested, state.blockedUntil - Date.now(), {
      summary: 'rate-limit block on this ad account',
    });
  }
  if (waited) {
    state.waitOver();
    report(phase === 'waiting' ? 'uploading' : phase);
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

function isNonRetryable(err: unknown): boolean {
  const failure = findApplicationFailure(err);
  return !!failure && (failure.nonRetryable || NON_RETRYABLE_ERROR_TYPES.includes(failure.type ?? ''));
}
