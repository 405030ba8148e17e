import { proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../activities/index.js';
import { NOTIFY_ACTIVITY_OPTIONS } from '../notifications/events.js';

const { notifyRunFinished } = proxyActivities<Activities>(NOTIFY_ACTIVITY_OPTIONS);

/**
 * Tells the webhook how an export ended (failed, or its audience flagged). A workflow of its own, started
 * abandoned by the export, so a webhook that is down for hours never keeps the export (and its audience) busy.
 */
export async function announceRun(input: { runId: string }): Promise<void> {
  await notifyRunFinished(input);
}
