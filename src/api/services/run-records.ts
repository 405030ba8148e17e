import { reconcileRunningRuns, type ReconcileSummary } from '../../temporal/reconcile-runs.js';
import type { ApiDeps } from '../deps.js';

/** A scrape or a start-up never waits long for Temporal: what is not reconciled now is the next time. */
export const RECONCILE_DEADLINE_MS = 5_000;

/**
 * Finishes the records of runs Temporal has closed (terminated, timed out, cancelled while no worker ran), within a
 * deadline; an unreachable Temporal is logged, never thrown. Runs at API start and before /metrics counts runs.
 */
export async function reconcileRecords(
  deps: Pick<ApiDeps, 'store' | 'temporalClient' | 'source' | 'config' | 'logger'>,
  deadlineMs = RECONCILE_DEADLINE_MS,
): Promise<ReconcileSummary | undefined> {
  try {
    const summary = await deps.temporalClient.withDeadline(Date.now() + deadlineMs, () =>
      reconcileRunningRuns({
        store: deps.store,
        temporalClient: deps.temporalClient,
        source: deps.source,
        taskQueue: deps.config.temporal.taskQueue,
      }),
    );
    if (summary.finished.length > 0) deps.logger.info(summary, 'run records reconciled with Temporal');
    return summary;
  } catch (err) {
    deps.logger.warn({ error: (err as Error).message }, 'run records not reconciled with Temporal');
    return undefined;
  }
}
