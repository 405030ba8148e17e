import type { WorkflowHandle } from '@temporalio/client';

type History = Awaited<ReturnType<WorkflowHandle['fetchHistory']>>;

/** The history as text, with every payload's bytes decoded, so a scan sees what the payloads hold. */
export function decodedHistory(history: History): string {
  return JSON.stringify(history, (_key, value: unknown) => {
    if (value instanceof Uint8Array) return Buffer.from(value).toString('utf8');
    const b = value as { type?: string; data?: unknown };
    if (b && b.type === 'Buffer' && Array.isArray(b.data)) return Buffer.from(b.data as number[]).toString('utf8');
    return value;
  });
}

/** Attempts of each run of an activity type, from its ActivityTaskStarted events. */
export function attemptsOf(history: History, activityType: string): number[] {
  const scheduled = new Map<string, string>();
  const attempts: number[] = [];
  for (const e of history.events ?? []) {
    const s = e.activityTaskScheduledEventAttributes;
    if (s?.activityType?.name) scheduled.set(String(e.eventId), s.activityType.name);
    const started = e.activityTaskStartedEventAttributes;
    if (started && scheduled.get(String(started.scheduledEventId)) === activityType)
      attempts.push(started.attempt ?? 0);
  }
  return attempts;
}
