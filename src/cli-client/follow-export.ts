import { WorkflowFailedError, type Client } from '@temporalio/client';
import { setTimeout as sleep } from 'node:timers/promises';
import { progressQuery } from '../workflows/messages.js';
import type { AudienceHealth, ExportProgress, ExportResult } from '../workflows/contracts.js';
import { ApiRequestError, type ApiClient } from './api-client.js';
import type { ProgressBar } from './progress-bar.js';

/** How a followed run ended. */
export interface FollowedRun {
  status: 'completed' | 'cancelled' | 'failed' | 'partial';
  progress?: ExportProgress;
  health?: AudienceHealth;
  /** Why it failed, in the words of the failure (no personal data travels through Temporal). */
  error?: string;
}

const POLL_MS = 500;
/** How long a just-started run may be unknown to `GET /exports/:runId`. */
const RECORD_GRACE_MS = 60_000;

/** The innermost failure message: activities throw messages an operator can act on. */
function failureMessage(err: unknown): string {
  let e: unknown = err;
  while (e instanceof Error && (e as { cause?: unknown }).cause instanceof Error) e = (e as { cause?: unknown }).cause;
  return e instanceof Error ? e.message : String(err);
}

/** Follows an export workflow through the Temporal client: the `progress` query, then its result. */
export async function followWorkflow(client: Client, workflowId: string, bar: ProgressBar): Promise<FollowedRun> {
  const handle = client.workflow.getHandle(workflowId);
  let last: ExportProgress | undefined;
  let settled = false;
  const result = handle.result().then(
    (r: ExportResult) => ({ ok: true as const, r }),
    (err: unknown) => ({ ok: false as const, err }),
  );
  void result.finally(() => (settled = true));
  while (!settled) {
    try {
      last = await handle.query(progressQuery);
      bar.update(last);
    } catch {
      // The run may be between tasks or already closed; the next poll or the result tells.
    }
    await Promise.race([sleep(POLL_MS), result]);
  }
  const outcome = await result;
  if (outcome.ok) {
    bar.finish(outcome.r.progress);
    return { status: outcome.r.status, progress: outcome.r.progress, health: outcome.r.health };
  }
  bar.finish(last);
  const err = outcome.err;
  const cancelled = err instanceof WorkflowFailedError && err.cause?.name === 'CancelledFailure';
  return { status: cancelled ? 'cancelled' : 'failed', progress: last, error: failureMessage(err) };
}

/** What `GET /exports/:runId` (and each item of `GET /exports`) answers, as far as the CLI needs it. */
export interface ExportRunView {
  runId: string;
  status: string;
  phase?: string;
  workflowId?: string;
  temporalRunId?: string | null;
  segments?: string[];
  mode?: string;
  effectiveMode?: string | null;
  modeReason?: { code: string; text: string } | null;
  segmentSize?: number | null;
  sent?: number;
  removed?: number;
  dropped?: Record<string, number>;
  received?: number;
  invalid?: number;
  pagesTotal?: number | null;
  pagesDone?: number;
  startedAt?: string;
  finishedAt?: string | null;
  /** Live counts while the workflow runs (their phase is `phase`); null once it closed. */
  progress?: Omit<ExportProgress, 'phase'> | null;
  /** Temporal's status of a run recorded as running (RUNNING, CANCELED, TERMINATED, ...); null when unknown. */
  live?: { status: string; closedAt?: string | null } | null;
  possiblySent?: number;
  possiblyRemoved?: number;
  audience?: { lowerBound: number | null; upperBound: number | null };
  error?: { type?: string | null; message: string } | null;
  links?: { self?: string; temporalUi?: string };
}

const FINAL = new Set(['completed', 'cancelled', 'failed', 'partial']);

/**
 * Temporal's word that a run recorded as running is closed (the API finishes such records as it reads them; this
 * holds when it could not): following it any longer would wait forever.
 */
export function closedInTemporal(view: ExportRunView): string | undefined {
  const status = view.live?.status;
  return view.status === 'running' && status && status !== 'RUNNING' ? status : undefined;
}

/** The run's counts as progress: the live query's while running, the recorded counts once finished. */
export function progressOfView(view: ExportRunView): ExportProgress {
  const done = FINAL.has(view.status);
  const phase = done ? 'done' : ((view.phase ?? 'validating') as ExportProgress['phase']);
  if (view.progress) return { ...view.progress, phase };
  const dropped = view.dropped ?? {};
  return {
    runId: view.runId,
    phase,
    mode: (view.effectiveMode ?? view.mode) as ExportProgress['mode'],
    pagesTotal: view.pagesTotal ?? 0,
    pagesDone: view.pagesDone ?? 0,
    rowsTotal: view.segmentSize ?? 0,
    rowsSent: view.sent ?? 0,
    rowsRemoved: view.removed ?? 0,
    rowsDropped: Object.values(dropped).reduce((a, b) => a + b, 0),
    droppedByReason: dropped,
    received: view.received ?? 0,
    invalid: view.invalid ?? 0,
    waitedMs: 0,
    throttleWaits: 0,
    cancelRequested: false,
  };
}

export function healthOfView(view: ExportRunView): AudienceHealth | undefined {
  const a = view.audience;
  if (!a || (a.lowerBound === null && a.upperBound === null)) return undefined;
  return { lowerBound: a.lowerBound ?? undefined, upperBound: a.upperBound ?? undefined };
}

/** Follows a run through the API (`GET /exports/:runId`) until it reaches a final status. */
export async function followViaApi(
  api: ApiClient,
  runId: string,
  bar: ProgressBar,
): Promise<FollowedRun & { view: ExportRunView }> {
  const started = Date.now();
  for (;;) {
    let view: ExportRunView;
    try {
      view = await api.request<ExportRunView>('GET', `/exports/${encodeURIComponent(runId)}`);
    } catch (err) {
      // The run's record is written by the workflow's first activity, a moment after the start answered.
      if (err instanceof ApiRequestError && err.status === 404 && Date.now() - started < RECORD_GRACE_MS) {
        await sleep(POLL_MS);
        continue;
      }
      throw err;
    }
    const closed = closedInTemporal(view);
    if (closed) {
      const progress = progressOfView(view);
      bar.finish(progress);
      return {
        status: 'failed',
        progress,
        error: `Temporal says the run is ${closed}, but its record still says running: see the Temporal UI.`,
        view,
      };
    }
    if (FINAL.has(view.status)) {
      const progress = progressOfView(view);
      bar.finish(progress);
      return {
        status: view.status as FollowedRun['status'],
        progress,
        health: healthOfView(view),
        error: view.error?.message,
        view,
      };
    }
    bar.update(progressOfView(view));
    await sleep(POLL_MS);
  }
}
