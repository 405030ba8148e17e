import { ScheduleAlreadyRunning, ScheduleOverlapPolicy, type Client } from '@temporalio/client';

/**
 * Id of the daily schedule that runs the `checkTokens` workflow (src/workflows/check-tokens.ts) on `taskQueue`:
 * one per task queue, so two deployments sharing a namespace each check their own destinations.
 */
export const tokenCheckScheduleId = (taskQueue: string): string => `check-tokens-daily.${taskQueue}`;

/**
 * Creates the daily token-check schedule (06:00 UTC) if it does not exist; every worker calls it at start, so a
 * deployment has it without a set-up step. Needs a worker on `taskQueue` that registers the `checkAllTokens`,
 * `reconcileExportRuns` and `sweepStagingTables` activities. Returns false when it already existed: an operator's
 * changes to it (a pause, another time) stand.
 */
export async function ensureTokenCheckSchedule(client: Client, taskQueue: string): Promise<boolean> {
  try {
    await client.schedule.create({
      scheduleId: tokenCheckScheduleId(taskQueue),
      spec: { calendars: [{ hour: 6, minute: 0 }], timezone: 'UTC' },
      action: {
        type: 'startWorkflow',
        workflowType: 'checkTokens',
        taskQueue,
        workflowId: `check-tokens.${taskQueue}`,
        staticSummary: 'Daily token check: flags destinations whose Facebook token stopped working or expires soon',
      },
      policies: { overlap: ScheduleOverlapPolicy.SKIP },
    });
    return true;
  } catch (err) {
    if (err instanceof ScheduleAlreadyRunning) return false;
    throw err;
  }
}
