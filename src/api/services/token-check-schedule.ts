import { ScheduleAlreadyRunning, ScheduleOverlapPolicy, type Client } from '@temporalio/client';

/** Id of the daily schedule that runs the `checkTokens` workflow. */
export const TOKEN_CHECK_SCHEDULE_ID = 'check-tokens-daily';

/**
 * Creates the daily token-check schedule if it does not exist. Needs a worker on `taskQueue` that registers the
 * `checkAllTokens` activity (src/activities/check-tokens.ts). Returns false when it already existed.
 */
export async function ensureTokenCheckSchedule(client: Client, taskQueue: string): Promise<boolean> {
  try {
    await client.schedule.create({
      scheduleId: TOKEN_CHECK_SCHEDULE_ID,
      spec: { calendars: [{ hour: 6, minute: 0 }] },
      action: { type: 'startWorkflow', workflowType: 'checkTokens', taskQueue, workflowId: 'check-tokens' },
      policies: { overlap: ScheduleOverlapPolicy.SKIP },
    });
    return true;
  } catch (err) {
    if (err instanceof ScheduleAlreadyRunning) return false;
    throw err;
  }
}
