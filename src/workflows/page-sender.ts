import {
  ApplicationFailure,
  CancellationScope,
  condition,
  isCancellation,
  proxyActivities,
  sleep,
  type ActivityInterfaceFor,
} from '@temporalio/workflow';
import type { Activities } from '../activities/index.js';
import {
  FailureType,
  NON_RETRYABLE_ERROR_TYPES,
  type ExportPhase,
  type ExportTimings,
  type PageResult,
  type PageTable,
  type UploadOperation,
} from './contracts.js';
import type { ExportState } from './export-state.js';
import { findApplicationFailure } from './failures.js';
import { newSessionId } from '../domain/session-id.js';
import { UploadSessions } from './upload-sessions.js';

/** Attempts at a replace's batch 1, each in a new session: its outcome may be unknown, and it is never resent. */
const REPLACE_START_ATTEMPTS = 5;

/** A set of pages sent with one operation: the plan's removes, its adds, or a replace's batches. */
export interface PageSet {
  table: PageTable;
  operation: UploadOperation;
  pages: number[];
  rows: number;
}

export interface PageSenderOptions {
  runId: string;
  pageSize: number;
  /** Maximum pages in flight. */
  concurrency: number;
  /** Rotate an add or remove session this long after its first batch. */
  rotateAfterMs: number;
  timings: Pick<ExportTimings, 'pageHeartbeatTimeout'>;
  /** Updates the Temporal UI's details (and the phase, when given). */
  report: (phase?: ExportPhase) => void;
  /** Meta session ids used so far, appended to as sessions open (finalising reads their matched counts). */
  sessionIds: number[];
}

type UploadPage = ActivityInterfaceFor<Activities>['uploadPage'];
type SettledPage = Extract<PageResult, { status: 'sent' | 'empty' }>;
type SendOutcome = SettledPage | Extract<PageResult, { status: 'replace_closed' }> | { status: 'aborted' };

/**
 * Sends an export's pages in Meta upload sessions: bounded concurrency, the last batch alone and last, rate-limit
 * blocks waited out without spending retries, a replace's batch 1 before any other. Workflow code: time and
 * randomness come from the workflow, and the order of activities is the history's.
 */
export class PageSender {
  /** True once a replace's batch 1 may have reached Meta (it empties the audience): an unfinished run is partial. */
  replaceStarted = false;
  /** Page activities run in this scope, so an abort cancels them (their requests abort). */
  private scope: CancellationScope | undefined;
  private readonly uploadPage: UploadPage;
  /** A replace's batch 1 is never retried in its own session: a failure starts a new attempt instead. */
  private readonly startReplace: UploadPage;

  constructor(
    private readonly state: ExportState,
    private readonly options: PageSenderOptions,
  ) {
    const pageOptions = {
      startToCloseTimeout: '10 minutes',
      heartbeatTimeout: options.timings.pageHeartbeatTimeout ?? '60s',
    };
    ({ uploadPage: this.uploadPage } = proxyActivities<Activities>({
      ...pageOptions,
      retry: {
        initialInterval: '2s',
        backoffCoefficient: 2,
        maximumInterval: '2 minutes',
        nonRetryableErrorTypes: NON_RETRYABLE_ERROR_TYPES,
      },
    }));
    ({ uploadPage: this.startReplace } = proxyActivities<Activities>({
      ...pageOptions,
      retry: { maximumAttempts: 1 },
    }));
  }

  /** Cancels the pages in flight (an abort); none starts after it. */
  abort(): void {
    this.scope?.cancel();
  }

  /** Sends a set of adds or removes in new sessions. */
  async send(set: PageSet): Promise<void> {
    await this.sendAll(set, new UploadSessions(this.options.rotateAfterMs));
  }

  /**
   * A replace: batch 1 alone, acknowledged before any other; then the rest of the batches; pages refused by a
   * timed-out session go as adds in a new session.
   */
  async replace(set: PageSet): Promise<void> {
    const { state } = this;
    let first: { page: number; sessionId: number } | undefined;
    let index = 0;
    // One session for every attempt at batch 1: resending batch 1 restarts that replace (nothing else has been
    // sent in it yet), whereas a new session is refused (2650/1870145) while Meta still runs one whose batch 1
    // may have arrived — as when a worker dies with batch 1 in flight.
    const sessionId = newSessionId();
    this.options.sessionIds.push(sessionId);
    for (let attempt = 1; !first && index < set.pages.length && !state.cancelRequested;) {
      const page = set.pages[index]!;
      await this.waitWhileBlocked();
      const only = index === set.pages.length - 1;
      try {
        const result = await this.inScope(() =>
          this.startReplace.executeWithOptions(
            { summary: `replace batch 1 (page ${page + 1}), session attempt ${attempt}` },
            [
              {
                runId: this.options.runId,
                page,
                pageSize: this.options.pageSize,
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
          this.replaceStarted = true; // batch 1 may have reached Meta before the abort
          return;
        }
        if (result.status === 'throttled') {
          state.throttled(Date.now(), result.waitMs, result.reason);
        } else if (result.status === 'replace_closed') {
          throw ApplicationFailure.nonRetryable(
            `Facebook refused to start the replace: ${result.reason}`,
            FailureType.ReplaceRefused,
          );
        } else {
          state.pageSettled(result);
          this.options.report();
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
    this.replaceStarted = true;
    const rest = { ...set, pages: set.pages.slice(index + 1) };
    const sessions = UploadSessions.continuing(first.sessionId, first.page, Date.now(), 0);
    const refused = await this.sendAll(rest, sessions);
    if (refused.length > 0 && !state.cancelRequested) {
      // Meta's 90-minute window closed: the audience is what arrived; the rest goes as plain adds.
      await this.send({ ...set, operation: 'add', pages: refused });
    }
  }

  /**
   * Sends a set's pages, at most `concurrency` at once; the last page goes alone once all others succeeded and
   * closes the session. Returns the pages a closed replace session refused (to be sent as adds).
   */
  private async sendAll(set: PageSet, sessions: UploadSessions): Promise<number[]> {
    const { state } = this;
    const refused: number[] = [];
    if (set.pages.length === 0) return refused;
    const settle = (page: number, result: SendOutcome) => {
      if (result.status === 'aborted') return;
      if (result.status === 'replace_closed') refused.push(page);
      else state.pageSettled(result, set.operation === 'remove');
      this.options.report();
    };
    const last = set.pages[set.pages.length - 1]!;
    await this.runWithConcurrency(set.pages.slice(0, -1), async (page) =>
      settle(page, await this.sendPage(set, sessions, page, false)),
    );
    if (state.cancelRequested || refused.length > 0) return refused.concat(refused.length ? [last] : []);
    const result = await this.sendPage(set, sessions, last, true);
    settle(last, result);
    const fallback = sessions.lastSentPage(sessions.current()?.id);
    if (result.status === 'empty' && fallback !== undefined && fallback !== last) {
      // Nothing usable on the last page: resend the session's last sent page (same rows, same batch number)
      // with the flag, so the session closes now rather than at Meta's 90-minute timeout.
      await this.sendPage(set, sessions, fallback, true);
    }
    return refused;
  }

  /** Sends one page in its session slot, waiting out rate-limit blocks without spending retries. */
  private async sendPage(
    set: PageSet,
    sessions: UploadSessions,
    page: number,
    lastBatch: boolean,
  ): Promise<SendOutcome> {
    const { state, options } = this;
    let slot = sessions.assign(page, Date.now());
    this.noteSession(slot.sessionId);
    for (;;) {
      await this.waitWhileBlocked();
      const result = await this.inScope(() =>
        this.uploadPage.executeWithOptions(
          { summary: `${set.operation} page ${page + 1} of ${set.pages.length}${lastBatch ? ', last batch' : ''}` },
          [
            {
              runId: options.runId,
              page,
              pageSize: options.pageSize,
              table: set.table,
              operation: set.operation,
              ...slot,
              lastBatch,
              estimatedTotal: set.rows,
            },
          ],
        ),
      );
      if (result === undefined) return { status: 'aborted' };
      if (result.status === 'throttled') {
        state.throttled(Date.now(), result.waitMs, result.reason);
        continue;
      }
      if (result.status === 'replace_closed' && set.operation !== 'replace') {
        // Meta closed this add or remove session (its window passed while the page waited, e.g. in a rate-limit
        // block). A closed session keeps what it received, so the page goes again in a new one, not dropped.
        slot = sessions.reassign(page, slot.sessionId, Date.now());
        this.noteSession(slot.sessionId);
        continue;
      }
      if (result.status === 'sent') {
        sessions.sent(slot.sessionId, page, result.received);
        state.sessionReceived(sessions.totalReceived());
      }
      return result;
    }
  }

  private noteSession(sessionId: number): void {
    if (!this.options.sessionIds.includes(sessionId)) this.options.sessionIds.push(sessionId);
  }

  /** Runs a page activity so that an abort cancels it; undefined when it was aborted. */
  private async inScope<T>(fn: () => Promise<T>): Promise<T | undefined> {
    if (this.state.aborted) return undefined;
    this.scope ??= new CancellationScope();
    try {
      return await this.scope.run(fn);
    } catch (err) {
      if (this.state.aborted && isCancellation(err)) return undefined;
      throw err;
    }
  }

  /** Waits out a rate-limit block shared by every page of this run; returns early when cancelled. */
  private async waitWhileBlocked(): Promise<void> {
    const { state, options } = this;
    let waited = false;
    const phase = state.snapshot().phase;
    while (Date.now() < state.blockedUntil && !state.cancelRequested) {
      if (!waited) options.report('waiting');
      waited = true;
      await condition(() => state.cancelRequested, state.blockedUntil - Date.now(), {
        summary: 'rate-limit block on this ad account',
      });
    }
    if (waited) {
      state.waitOver();
      options.report(phase === 'waiting' ? 'uploading' : phase);
    }
  }

  /** Runs `task` for each item with at most `concurrency` in flight; stops taking new items once cancelled. */
  private async runWithConcurrency<T>(items: T[], task: (item: T) => Promise<void>): Promise<void> {
    let next = 0;
    const lane = async () => {
      while (next < items.length && !this.state.cancelRequested) await task(items[next++] as T);
    };
    const lanes = Math.max(1, Math.min(this.options.concurrency, items.length));
    await Promise.all(Array.from({ length: lanes }, lane));
  }
}

function isNonRetryable(err: unknown): boolean {
  const failure = findApplicationFailure(err);
  return !!failure && (failure.nonRetryable || NON_RETRYABLE_ERROR_TYPES.includes(failure.type ?? ''));
}
