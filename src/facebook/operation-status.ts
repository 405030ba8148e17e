/** Meta's `operation_status` codes of a custom audience that change what an export may do (reference 3.1). */
export const OperationStatus = {
  /** A replace is in progress: the audience cannot take another upload now. */
  ReplaceInProgress: 414,
  /** Flagged for review: uploads are paused and the audience cannot be edited. */
  Flagged: 471,
} as const;
