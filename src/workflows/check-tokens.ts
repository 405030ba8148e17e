import { log, proxyActivities } from '@temporalio/workflow';
import type { TokenCheckSummary } from '../activities/check-tokens.js';
import { NOTIFY_ACTIVITY_OPTIONS } from '../notifications/events.js';

const { checkAllTokens } = proxyActivities<{ checkAllTokens(): Promise<TokenCheckSummary> }>({
  startToCloseTimeout: '30 minutes',
  retry: { initialInterval: '1 minute', maximumInterval: '30 minutes', maximumAttempts: 10 },
});

const { notifyTokenCheck } = proxyActivities<{ notifyTokenCheck(summary: TokenCheckSummary): Promise<number> }>(
  NOTIFY_ACTIVITY_OPTIONS,
);

/**
 * The daily token check: flags destinations whose Facebook token stopped working (`needs_reconnect`) and reports
 * those expiring within 7 days, and sends both to the webhook when one is configured. Its result holds destination
 * ids only.
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
  return summary;
}
