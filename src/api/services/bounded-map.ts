import pLimit from 'p-limit';

/**
 * Calls one answer makes at once to Temporal (and so to the database): a page holds up to 500 items, and a burst of
 * a describe per item would crowd the frontend, the pool and this process for one GET.
 */
export const CALLS_PER_ANSWER = 8;

/** `Promise.all(items.map(fn))` with at most `concurrency` calls of `fn` in flight; the order is kept. */
export function mapBounded<T, R>(
  items: readonly T[],
  fn: (item: T) => Promise<R>,
  concurrency = CALLS_PER_ANSWER,
): Promise<R[]> {
  const limit = pLimit(concurrency);
  return Promise.all(items.map((item) => limit(() => fn(item))));
}
