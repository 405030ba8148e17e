/**
 * Webhook events: ids, names, counts and the operator message only. Never a token, a hash or a profile value.
 * Pure (no I/O) so workflows may import the retry policy below.
 */

export const NotificationType = {
  ExportFailed: 'export.failed',
  TokenExpiring: 'token.expiring',
  TokenInvalid: 'token.invalid',
  AudienceFlagged: 'audience.flagged',
} as const;
export type NotificationType = (typeof NotificationType)[keyof typeof NotificationType];

export interface NotificationEvent {
  /** Stable per fact (e.g. `export.failed:<runId>`): a retried delivery carries the same id, so receivers dedupe. */
  id: string;
  type: NotificationType;
  /** ISO time the event was built. */
  createdAt: string;
  data: Record<string, string | number | boolean | null | string[] | Record<string, number>>;
}

/**
 * How workflows call the notify activities: a receiver that is down gets retried for about a day, then the
 * event is given up (it never fails the export or the token check that raised it).
 */
export const NOTIFY_ACTIVITY_OPTIONS = {
  startToCloseTimeout: '1 minute',
  retry: { initialInterval: '10s', backoffCoefficient: 2, maximumInterval: '30 minutes', maximumAttempts: 60 },
} as const;
