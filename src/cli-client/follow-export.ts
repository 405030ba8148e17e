import { WorkflowFailedError, type Client } from '@temporalio/client';
import { setTimeout as sleep } from 'node:timers/promises';
import { progressQuery } from '../workflows/export-segment.js';
import type { AudienceHealth, ExportProgress, ExportResult } from '../workflows/contracts.js';
import type { ApiClient } from './api-client.js';
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

/** What `GET /exports/:runId` answers, as far as following needs it. */
export interface ExportRunView {
  runId: string;
  status: string;
  workflowId?: string;
  temporalRunId?: string;
  segments?: string[];
  mode?: string;
  progress?: ExportProgress | null;
  health?: AudienceHealth | null;
  error?: { type?: string; message: string } | string | null;
  links?: Record<string, string>;
}

const FINAL = new Set(['completed', 'cancelled', 'failed', 'partial']);

/** Follows a run through the API (`GET /exports/:runId`) until it reaches a final status. */
export async function followViaApi(
  api: ApiClient,
  runId: string,
  bar: ProgressBar,
): Promise<FollowedRun & { view: ExportRunView }> {
  for (;;) {
    const view = await api.request<ExportRunView>('GET', `/exports/${encodeURIComponent(runId)}`);
    if (view.progress) bar.update(view.progress);
    if (FINAL.has(view.status)) {
      bar.finish(view.progress ?? undefined);
      const error = typeof view.error === 'string' ? view.error : (view.error?.message ?? undefined);
      return {
        status: view.status as FollowedRun['status'],
        progress: view.progress ?? undefined,
        health: view.health ?? undefined,
        error,
        view,
      };
    }
    await sleep(POLL_MS);
  }
}
