import { log, patched, proxyActivities } from '@temporalio/workflow';
import type { TokenCheckSummary } from '../activities/check-tokens.js';
import type { SweepSummary } from '../activities/sweep-staging.js';
import type { ReconcileSummary } from '../temporal/reconcile-runs.js';
import { NOTIFY_ACTIVITY_OPTIONS } from '../notifications/events.js';

const { checkAllTokens } = proxyActivities<{ checkAllTokens(): Promise<TokenCheckSummary> }>({
  startToCloseTimeout: '30 minutes',
  retry: { initialInterval: '1 minute', maximumInterval: '30 minutes', maximumAttempts: 10 },
});

// One attempt: the sweep is daily housekeeping, so a failure waits for tomorrow instead of holding the check open.
const { sweepStagingTables } = proxyActivities<{ sweepStagingTables(): Promise<SweepSummary> }>({
  startToCloseTimeout: '30 minutes',
  retry: { maximumAttempts: 1 },
});

const { reconcileExportRuns } = proxyActivities<{ reconcileExportRuns(): Promise<ReconcileSummary> }>({
  startToCloseTimeout: '30 minutes',
  retry: { maximumAttempts: 1 },
});

const { notifyTokenCheck } = proxyActivities<{ notifyTokenCheck(summary: TokenCheckSummary): Promise<number> }>(
  NOTIFY_ACTIVITY_OPTIONS,
);

/**
 * The daily token check: flags destinations whose Facebook token stopped working (`needs_reconnect`) and reports
 * those expiring within 7 days, and sends both to the webhook when one is configured. Its result holds destination
 * ids only. It then finishes the records of runs Temporal closed without finalising them (terminated, timed out)
 * and sweeps staging tables of runs that died (design "Storage").
 */
export async function checkTokens(): Promise<TokenCheckSummary> {
  const summary = await checkAllTokens();
  log.info('token check finished', {
    checked: summary.checked,
    expiringSoon: summary.expiringSoon.length,
    needsReconnect: summary.needsReconnect.length,
  });
  if (summary.expiringSoon.length > 0 || summary.needsReconnect.length > 0) {
    // Ids only travel here; the activity looks up names. A receiver that stays down never fails the check.
    try {
      await notifyTokenCheck(summary);
    } catch (err) {
      log.warn('token notifications not delivered', { error: (err as Error).message });
    }
  }
  // Patched: daily checks started before the reconciler existed replay without it. Before the sweep, so the
  // staging tables of runs it finishes go today.
  if (patched('reconcile-export-runs')) {
    try {
      const reconciled = await reconcileExportRuns();
      log.info('run records reconciled', { checked: reconciled.checked, finished: reconciled.finished.length });
    } catch (err) {
      log.warn('run records not reconciled', { error: (err as Error).message });
    }
  }
  // Patched: daily checks started before the sweep existed replay without it.
  if (patched('sweep-staging-tables')) {
    try {
      const swept = await sweepStagingTables();
      log.info('staging tables swept', { found: swept.found, swept: swept.swept.length });
    } catch (err) {
      // A failed sweep must not fail the token check; tomorrow's run tries again.
      log.warn('staging sweep failed', { error: (err as Error).message });
    }
  }
  return summary;
}
