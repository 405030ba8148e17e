import { ApplicationFailure } from '@temporalio/common';
import { FailureType } from '../workflows/contracts.js';
import { OperationStatus } from '../facebook/index.js';
import { NotificationType, type NotificationEvent } from '../notifications/events.js';
import { deliverEvent, WebhookDeliveryError } from '../notifications/webhook.js';
import { NotFoundError, type ExportRun } from '../store/index.js';
import type { TokenCheckSummary } from './check-tokens.js';
import type { ActivityDeps } from './deps.js';

type NotifyDeps = Pick<ActivityDeps, 'store' | 'webhook'>;

/**
 * Sends one event to the webhook; a no-op without WEBHOOK_URL. A refusal that retrying cannot fix (4xx) is
 * non-retryable; network errors and 5xx are thrown as they are, for the activity's retry policy.
 */
export async function notify(deps: Pick<ActivityDeps, 'webhook'>, event: NotificationEvent): Promise<boolean> {
  const url = deps.webhook?.url;
  if (!url) return false;
  try {
    await deliverEvent({ url, secret: deps.webhook?.secret }, event);
  } catch (err) {
    if (err instanceof WebhookDeliveryError && !err.retryable) {
      throw ApplicationFailure.nonRetryable(err.message, FailureType.WebhookRejected);
    }
    throw err;
  }
  // No log line: the activity's completion in Temporal records the delivery, and this also runs outside activities.
  return true;
}

const runData = (run: ExportRun, destinationName: string) => ({
  runId: run.id,
  destinationId: run.destinationId,
  destinationName,
  adAccountId: run.adAccountId,
  audienceId: run.audienceId,
  mode: run.mode,
  trigger: run.trigger,
  workflowId: run.workflowId,
  status: run.status,
  sent: run.sent,
  removed: run.removed,
  dropped: { ...run.dropped },
  pagesDone: run.pagesDone,
  pagesTotal: run.pagesTotal,
});

/** The events a finished run raises: `export.failed` when it failed, `audience.flagged` when Meta flagged it (471). */
export async function runFinishedEvents(
  deps: Pick<ActivityDeps, 'store'>,
  runId: string,
): Promise<NotificationEvent[]> {
  const run = await deps.store.exportRuns.get(runId).catch((err: unknown) => {
    if (err instanceof NotFoundError) return undefined; // failed before validation recorded it: nothing to say
    throw err;
  });
  if (!run) return [];
  const destinationName = await deps.store.destinations
    .get(run.destinationId)
    .then((d) => d.displayName)
    .catch(() => '(deleted)');
  const createdAt = new Date().toISOString();
  const events: NotificationEvent[] = [];
  if (run.status === 'failed') {
    events.push({
      id: `${NotificationType.ExportFailed}:${run.id}`,
      type: NotificationType.ExportFailed,
      createdAt,
      data: { ...runData(run, destinationName), errorType: run.errorType, message: run.errorMessage },
    });
  }
  if (run.operationStatusCode === OperationStatus.Flagged) {
    events.push({
      id: `${NotificationType.AudienceFlagged}:${run.id}`,
      type: NotificationType.AudienceFlagged,
      createdAt,
      data: {
        ...runData(run, destinationName),
        operationStatus: run.operationStatusCode,
        message:
          `Facebook flagged audience ${run.audienceId ?? '?'} of destination '${destinationName}' (operation status ` +
          `${OperationStatus.Flagged}): review it in Ads Manager before the next export.`,
      },
    });
  }
  return events;
}

/**
 * Call from the export workflow after finalising (and from health checks): sends what the run's record says is
 * worth telling. Returns how many events were sent.
 */
export async function notifyRunFinished(deps: NotifyDeps, input: { runId: string }): Promise<number> {
  if (!deps.webhook?.url) return 0;
  const events = await runFinishedEvents(deps, input.runId);
  for (const event of events) await notify(deps, event);
  return events.length;
}

/** Call from the daily token check: one event per destination whose token expires soon or stopped working. */
export async function notifyTokenCheck(deps: NotifyDeps, summary: TokenCheckSummary): Promise<number> {
  if (!deps.webhook?.url) return 0;
  const day = new Date().toISOString().slice(0, 10);
  const groups = [
    { type: NotificationType.TokenExpiring, ids: summary.expiringSoon },
    { type: NotificationType.TokenInvalid, ids: summary.needsReconnect },
  ];
  let sent = 0;
  for (const { type, ids } of groups) {
    for (const destinationId of ids) {
      const destination = await deps.store.destinations.get(destinationId).catch(() => undefined);
      if (!destination) continue;
      const info = await deps.store.credentials.describe(destinationId);
      const expiresAt = info?.expiresAt?.toISOString() ?? null;
      const message =
        type === NotificationType.TokenExpiring
          ? `The Facebook token of destination '${destination.displayName}' expires at ${expiresAt ?? '?'}: ` +
            `reconnect it (GET /destinations/${destinationId}/facebook/connect) before then.`
          : `The Facebook token of destination '${destination.displayName}' stopped working: reconnect it ` +
            `(GET /destinations/${destinationId}/facebook/connect); exports fail until then.`;
      await notify(deps, {
        // One event per destination and day: the daily check's retries and reruns do not repeat it.
        id: `${type}:${destinationId}:${day}`,
        type,
        createdAt: new Date().toISOString(),
        data: {
          destinationId,
          destinationName: destination.displayName,
          adAccountId: destination.adAccountId,
          expiresAt,
          message,
        },
      });
      sent++;
    }
  }
  return sent;
}
