import { proxyActivities, sleep } from '@temporalio/workflow';
import type { Activities } from '../activities/index.js';
import { NOTIFY_ACTIVITY_OPTIONS } from '../notifications/events.js';

const { recordAudienceHealth } = proxyActivities<Activities>({
  startToCloseTimeout: '2 minutes',
  retry: { initialInterval: '10s', maximumInterval: '10 minutes', maximumAttempts: 20 },
});
const { notifyRunFinished } = proxyActivities<Activities>(NOTIFY_ACTIVITY_OPTIONS);

export interface AudienceHealthInput {
  runId: string;
  /** Delays after the export finalised, e.g. 1 hour and 24 hours: Meta applies changes over up to a day. */
  delaysMs: number[];
}

/** Sleeps durably and records the audience's size bounds, statuses and matched count on the run's record. */
export async function audienceHealth(input: AudienceHealthInput): Promise<void> {
  let elapsed = 0;
  for (const delay of [...input.delaysMs].sort((a, b) => a - b)) {
    await sleep(delay - elapsed, { summary: `health check ${Math.round(delay / 60_000)} min after the export` });
    elapsed = delay;
    await recordAudienceHealth({ runId: input.runId, afterMs: delay });
    // Announces the audience if Facebook flagged it since (an event id per run: sent once).
    await notifyRunFinished({ runId: input.runId });
  }
}
