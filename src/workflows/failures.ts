import { ApplicationFailure } from '@temporalio/workflow';

/** Activity failures arrive wrapped in an ActivityFailure; the ApplicationFailure is its cause. */
export function findApplicationFailure(err: unknown): ApplicationFailure | undefined {
  for (let e: unknown = err; e; e = (e as { cause?: unknown }).cause) {
    if (e instanceof ApplicationFailure) return e;
  }
  return undefined;
}
