/** Numbers and times as operators read them. */
export const n = (v: number | null | undefined): string =>
  v === null || v === undefined ? '—' : v.toLocaleString('en');

export const when = (iso: string | null | undefined): string =>
  iso ? new Date(iso).toLocaleString('en-GB', { dateStyle: 'medium', timeStyle: 'short' }) : '—';

/** The destination states in words (the API's `status`). */
export const STATE_LABELS: Record<string, string> = {
  draft: 'Draft: choose ad account and audience',
  not_connected: 'Not connected to Facebook',
  needs_reconnect: 'Needs reconnect',
  needs_consent: 'Needs consent',
  needs_terms: 'Needs custom audience terms',
  paused: 'Paused',
  active: 'Active',
  deleted: 'Being deleted',
};

export const CONNECTION_LABELS: Record<string, string> = {
  not_connected: 'Not connected',
  connected: 'Connected',
  expiring_soon: 'Connected (token expires soon)',
  needs_reconnect: 'Needs reconnect',
};
