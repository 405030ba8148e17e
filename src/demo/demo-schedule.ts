import type { Client } from '@temporalio/client';
import type { ApiClient } from '../cli-client/api-client.js';
import { followWorkflow, type FollowedRun } from '../cli-client/follow-export.js';
import { ProgressBar } from '../cli-client/progress-bar.js';
import { n } from '../cli-client/progress-format.js';

/** The demo audience's refresh schedule: daily at 06:00 UTC, as an operator would set one. */
export const DEMO_SCHEDULE = { cron: '0 6 * * *', timezone: 'UTC' } as const;

export interface ScheduledRefresh {
  scheduleId: string;
  runId: string;
  outcome: FollowedRun;
}

interface Triggered {
  scheduleId: string;
  runId: string | null;
  workflowId: string | null;
}

/**
 * Sets the demo destination's schedule through the API and triggers it once, so the demo shows what the schedule
 * does each morning: a mirror refresh started by the schedule's action from the worker (which needs its Temporal
 * client), not by the API.
 */
export async function runScheduledRefresh(
  api: ApiClient,
  client: Client,
  destinationId: string,
): Promise<ScheduledRefresh> {
  const path = `/destinations/${destinationId}/schedule`;
  await api.request('PUT', path, DEMO_SCHEDULE);
  const triggered = await api.request<Triggered>('POST', `${path}/trigger`);
  if (!triggered.runId || !triggered.workflowId) {
    throw new Error(`the schedule's action started no export within 20 s (GET ${path} tells why)`);
  }
  const outcome = await followWorkflow(client, triggered.workflowId, new ProgressBar());
  return { scheduleId: triggered.scheduleId, runId: triggered.runId, outcome };
}

/** The report's lines about the scheduled refresh; `uiUrl` is the schedule's page in the Temporal UI. */
export function scheduledRefreshLines(r: ScheduledRefresh, uiUrl: string | undefined): string[] {
  const p = r.outcome.progress;
  const row = (label: string, value: string) => `  ${label.padEnd(15)} ${value}`;
  return [
    `Scheduled refresh ${r.outcome.status} (daily at 06:00 UTC, triggered once now)`,
    row('sent', `${n(p?.rowsSent ?? 0)} rows`),
    row('removed', `${n(p?.rowsRemoved ?? 0)} rows`),
    row('run', r.runId),
    row('schedule', r.scheduleId),
    ...(uiUrl ? [row('Temporal UI', `${uiUrl}   (its runs and next times, while \`npm start\` runs)`)] : []),
    ...(r.outcome.error ? [row('error', r.outcome.error)] : []),
  ];
}
