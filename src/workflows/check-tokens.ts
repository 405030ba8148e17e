import { log, proxyActivities } from '@temporalio/workflow';
import type { TokenCheckSummary } from '../activities/check-tokens.js';

const { checkAllTokens } = proxyActivities<{ checkAllTokens(): Promise<TokenCheckSummary> }>({
  startToCloseTimeout: '30 minutes',
  retry: { initialInterval: '1 minute', maximumInterval: '30 minutes', maximumAttempts: 10 },
});

/**
 * The daily token check: flags destinations whose Facebook token stopped working (`needs_reconnect`) and reports
 * those expiring within 7 days. Its result holds destination ids only.
 */
export async function checkTokens(): Promise<TokenCheckSummary> {
  const summary = await checkAllTokens();
  log.info('token check finished', {
    checked: summary.checked,
    expiringSoon: summary.expiringSoon.length,
    needsReconnect: summary.needsReconnect.length,
  });
  return summary;
}
