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

/**
 * With RECORD_HISTORIES=1, saves a finished run's history as a replay fixture in test/histories (through the
 * Temporal CLI's JSON export, the format `historyFromJSON` reads). The replay test runs every fixture against
 * the current workflow code, so a change that would break running exports fails CI.
 */
export async function recordHistory(name: string, workflowId: string, runId?: string): Promise<void> {
  if (process.env.RECORD_HISTORIES !== '1') return;
  const { execFileSync } = await import('node:child_process');
  const { writeFileSync, mkdirSync } = await import('node:fs');
  const { inject } = await import('vitest');
  const { ensureTemporalCli } = await import('../../src/temporal/cli-binary.js');
  const json = execFileSync(
    ensureTemporalCli(),
    [
      'workflow', 'show', '--address', inject('temporalAddress'), '--namespace', inject('temporalNamespace'),
      '--workflow-id', workflowId, ...(runId ? ['--run-id', runId] : []), '--output', 'json',
    ],
    { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 },
  ); // prettier-ignore
  const dir = new URL('../histories/', import.meta.url);
  mkdirSync(dir, { recursive: true });
  writeFileSync(new URL(`${name}.json`, dir), json);
}
