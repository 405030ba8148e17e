import { heartbeat } from '@temporalio/activity';

const EVERY_MS = 1_000;

/**
 * Heartbeats while `work` runs. The export's steps (validate, freeze, plan, finalise) are long single SQL
 * statements and Facebook calls that cannot report progress, but a heartbeat from a timer still tells Temporal
 * the worker lives: with a heartbeat timeout, a step of a crashed worker is retried in seconds, not when its
 * 30-minute start-to-close timeout ends.
 */
export async function whileHeartbeating<T>(work: () => Promise<T>): Promise<T> {
  heartbeat();
  const timer = setInterval(() => heartbeat(), EVERY_MS);
  try {
    return await work();
  } finally {
    clearInterval(timer);
  }
}
