import { proxyActivities } from '@temporalio/workflow';
import type { StartOrJoinInput } from '../activities/start-or-join-export.js';
import type { StartedExport } from '../temporal/start-export.js';

const { startOrJoinExport } = proxyActivities<{ startOrJoinExport(input: StartOrJoinInput): Promise<StartedExport> }>({
  startToCloseTimeout: '1 minute',
  retry: { initialInterval: '5s', maximumInterval: '1 minute', maximumAttempts: 10 },
});

/**
 * What a destination's schedule (and `POST /refresh`) runs: starts or joins the audience's export and completes.
 * The export runs under its own audience-named id, so a schedule and a manual start never run two at once.
 */
export async function scheduledExport(input: StartOrJoinInput): Promise<StartedExport> {
  return startOrJoinExport(input);
}
