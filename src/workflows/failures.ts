// From common, not workflow: clients unwrap failures too (temporal/run-execution.ts); the class is the same.
import { ApplicationFailure } from '@temporalio/common';

/** Activity failures arrive wrapped in an ActivityFailure; the ApplicationFailure is its cause. */
export function findApplicationFailure(err: unknown): ApplicationFailure | undefined {
  for (let e: unknown = err; e; e = (e as { cause?: unknown }).cause) {
    if (e instanceof ApplicationFailure) return e;
  }
  return undefined;
}
