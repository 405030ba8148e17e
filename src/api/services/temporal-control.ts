import { ScheduleNotFoundError, WorkflowNotFoundError, type Client } from '@temporalio/client';
import { abortExportSignal } from '../../workflows/messages.js';
import { searchAttributes } from '../../workflows/search-attributes.js';

/** One schedule per destination; the schedules part of the API creates it under this id. */
export const scheduleIdOf = (destinationId: string): string => `export-schedule:${destinationId}`;

/**
 * Stops every running export of a destination at once (consent withdrawn, destination deleted): the abort
 * signal cancels in-flight requests, then a cancel request ends the run as cancelled. Returns how many it stopped.
 */
export async function cancelRunningExports(
  client: Client,
  destinationId: string,
  reason = 'the destination no longer allows exports',
): Promise<number> {
  // destinationId is a validated uuid, so it is safe inside the visibility query.
  const query = `${searchAttributes.destinationId.name} = '${destinationId}' AND ExecutionStatus = 'Running'`;
  let cancelled = 0;
  for await (const wf of client.workflow.list({ query })) {
    try {
      const handle = client.workflow.getHandle(wf.workflowId, wf.runId);
      if (wf.type === 'exportSegment') await handle.signal(abortExportSignal, reason);
      await handle.cancel();
      cancelled++;
    } catch (err) {
      if (!(err instanceof WorkflowNotFoundError)) throw err; // finished between list and cancel
    }
  }
  return cancelled;
}

/** Deletes the destination's schedule; none is fine. */
export async function deleteSchedule(client: Client, destinationId: string): Promise<void> {
  try {
    await client.schedule.getHandle(scheduleIdOf(destinationId)).delete();
  } catch (err) {
    if (!(err instanceof ScheduleNotFoundError)) throw err;
  }
}

/** Pauses the destination's schedule, saying why in its note; none is fine. */
export async function pauseSchedule(client: Client, destinationId: string, note: string): Promise<void> {
  try {
    await client.schedule.getHandle(scheduleIdOf(destinationId)).pause(note);
  } catch (err) {
    if (!(err instanceof ScheduleNotFoundError)) throw err;
  }
}
