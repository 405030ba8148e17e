import { setTimeout as sleep } from 'node:timers/promises';
import { TransientError } from './errors.js';

/**
 * Waits before the second, third and fourth attempt of a Graph call someone is waiting on (an API request). Short,
 * because the caller waits: Meta's code 2 and 5xx answers usually pass within a second or two, and a run's own
 * calls retry through Temporal's activity retries instead.
 */
export const WAITING_CALLER_RETRY_DELAYS_MS: readonly number[] = [250, 500, 1_000];

/**
 * Calls `call`, and again after each delay while it fails with a TransientError; any other error, or the last
 * transient one, is thrown as it came. Throttling is not retried here: its waits are minutes, and calls during a
 * block extend it.
 */
export async function retryTransient<T>(
  call: () => Promise<T>,
  delaysMs: readonly number[] = WAITING_CALLER_RETRY_DELAYS_MS,
): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await call();
    } catch (err) {
      const delay = delaysMs[attempt];
      if (!(err instanceof TransientError) || delay === undefined) throw err;
      await sleep(delay);
    }
  }
}
