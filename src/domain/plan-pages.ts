/**
 * Page planning for a frozen run: pure arithmetic shared by the freeze activity and the workflow.
 * Pages are 0-based and cover row numbers `[page * size + 1, (page + 1) * size]` of the staging table.
 */

/** Meta accepts at most 10,000 rows per users call. */
export const MAX_PAGE_SIZE = 10_000;

export function pageCount(rowCount: number, pageSize: number): number {
  if (!Number.isInteger(pageSize) || pageSize < 1 || pageSize > MAX_PAGE_SIZE) {
    throw new RangeError(`page size must be an integer from 1 to ${MAX_PAGE_SIZE}, got ${pageSize}`);
  }
  return Math.ceil(Math.max(0, rowCount) / pageSize);
}
